"""The held-out halves of our question sets, gated through the CLI as CI runs them.

The floors sit just under what the answer path measured on them when the model was fitted
(README, "How answers are chosen"): a change that makes answers worse fails here. The
held-out halves are never read by the fitting (evaluation/fit_answer_model.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from assistant import REPO_ROOT, Settings

SETS = REPO_ROOT / "evaluation" / "sets"
#: Measured 0.945 / 0.824 / 0.710 / 1.000 on summit.heldout, 1.000 / 0.811 / 0.667 on multidoc,
#: 0.906 / 0.719 / 0.667 on multilingual.heldout (Korean, Chinese, Japanese questions); on the
#: fourth blind sets' held-out halves (another author's wording) 0.717 / 0.587 / 0.786 / 0.571
#: (summit) and 0.933 / 0.533 / 0.429 (multi-document). The multi-document right-sentence-first
#: floors went down (0.86 → 0.82, 0.56 → 0.50) when the ranker gained e5's second opinion: it
#: puts the gold sentence second for two multidoc.heldout questions and one of the fourth
#: author's, while the fourth author's summit half gained three answers and as many gold
#: sentences first, and summit.heldout one more refusal (all six files: 248 → 252 of 306;
#: with the veto on questions no passage shares a word with, and its refit, 255). A sentence
#: leaning on the answer's first that holds a word of the question the first lacks now comes
#: first (:mod:`assistant.answerer`): summit.heldout right sentence first 0.791 → 0.813 (three
#: gained, one lost), multidoc 0.838 → 0.811 (one lost: "what did Lee urge *Xi*'s country to
#: encourage?" puts "*Xi* expressed support …" first), so those floors moved to 0.80. The same
#: order when the first holds what the question puts aside ("besides …"): summit 0.813 → 0.824.
#: The fifth blind sets' held-out halves (a fifth author, written after all of the above)
#: measured 0.660 / 0.553 / 0.615 / 0.750 (summit) and 0.706 / 0.412 / 0.500 (multi-document).
#: With the query adapter (and the answer model refitted through it), all seven files 300 →
#: 311 of 373 right, 196 → 224 of 285 right sentence first; with its separation term (an
#: answerable question's best cosine above 0.5, an unanswerable one's below), 330 and 240:
#: summit 1.000 / 0.967 / 0.710 / 1.000, multidoc 1.000 / 0.946 / 0.667, multilingual
#: unchanged, fourth blind 0.913 / 0.870 / 0.786 / 0.857 and 1.000 / 0.733 / 0.429, fifth blind
#: 0.915 / 0.745 / 0.615 / 0.875 and 0.824 / 0.471 / 0.625. The threshold that gets the most
#: tune questions right (refusing at least 75% of the unanswerable): 332 and 237, unanswerable
#: refused 59 → 66 of 88, answerable right 271 → 266 of 285: summit 1.000 / 0.967 / 0.806 /
#: 1.000, fourth blind 0.891 / 0.848 / 0.929 / 0.857 and 0.933 / 0.733 / 0.429, fifth blind
#: 0.872 / 0.723 / 0.692 / 0.875 and 0.765 / 0.412 / 0.750; the others unchanged.
#: The sixth blind sets (a sixth author) split, their tune halves and the fifth's fitted on,
#: ", then …" joining two requests, and "what else" ranked by what continues the last answer:
#: all nine held-out files 397 → 403 of 458 right, 288 → 293 right sentence first: summit
#: unchanged, multidoc 0.973 / 0.919 / 0.833, fourth blind 0.913 / 0.826 / 0.929 / 0.857 and
#: 1.000 / 0.733 / 0.429, fifth blind 0.915 / 0.766 / 0.692 / 0.875 and 0.824 / 0.647 / 0.750,
#: sixth blind 0.851 / 0.787 / 0.538 / 1.000 and 0.941 / 0.882 / 0.375. A reason asked ("Why
#: …", "what prompted …") typed, the answer model refitted: 403 → 403 right, 293 → 294 first;
#: summit unchanged (one "why" hard negative refused, one off-topic answered), fifth blind
#: summit refusal 0.615, sixth blind multidoc 1.000 / 0.941 / 0.375. The seventh blind sets
#: split (measured at the split: 0.936 / 0.766 / 0.846 / 1.000 and 0.706 / 0.588 / 0.625), their
#: tune halves fitted on, and the second opinion no longer answering what the ranker's own best
#: would refuse: eleven files 475 → 474 of 543 right, 340 → 335 first; summit 1.000 / 0.967 /
#: 0.839 / 1.000, multidoc unchanged, fourth blind 0.891 / 0.804 / 0.929 / 0.857 and 1.000 /
#: 0.733 / 0.571, fifth 0.851 / 0.787 / 0.769 / 0.875 and 0.706 / 0.471 / 0.750, sixth 0.872 /
#: 0.808 / 0.538 / 1.000 and 0.824 / 0.765 / 0.500, seventh 0.957 / 0.766 / 0.923 / 1.000 and
#: 0.706 / 0.588 / 0.625. The int8 model's kernels differ between CPUs: on one with AVX-512
#: VNNI and AMX the same answer path refused one more of the fourth blind summit half's
#: unanswerable questions (1.000) and one fewer of the sixth blind multidoc half's (0.375: "Which
#: opposition party criticised …" answered at 0.554, the threshold 0.535), so that floor is the
#: lower of the two. The eighth blind sets split (measured at the split: 0.766 / 0.638 / 0.846 /
#: 0.625 and 0.647 / 0.588 / 0.375), their tune halves fitted on (twelve files 500 → 498 of 587
#: right, 352 → 359 first, unanswerable refused 106 → 100 of 142), names the documents never
#: use weighed by the decision instead of vetoing, a place among them weighed on its own, and
#: acronyms in mixed case ("BoJ") or plural ("MOUs") looked up: 505, 368 and 98. The ninth
#: blind sets split (at the split 0.894 / 0.830 / 0.615 / 1.0 and 0.882 / 0.824 / 0.750), their
#: tune halves not fitted on, and an acronym of a name the documents use known as that name
#: ("PRC", "ROK"): 0.915 / 0.851 / 0.538 / 1.0 and 0.941 / 0.882 / 0.625, the twelve others
#: unchanged.
FLOORS = {
    "summit": ["correct=0.99", "hit@1=0.96", "refusal_rate=0.80", "followup_correct=0.99"],
    "multidoc": ["correct=0.97", "hit@1=0.91", "refusal_rate=0.66"],
    "multilingual": ["correct=0.90", "hit@1=0.71", "refusal_rate=0.66"],
    "summit_blind4": ["correct=0.91", "hit@1=0.86", "refusal_rate=0.92", "followup_correct=0.85"],
    "multidoc_blind4": ["correct=0.99", "hit@1=0.79", "refusal_rate=0.57"],
    "summit_blind5": ["correct=0.93", "hit@1=0.82", "refusal_rate=0.61", "followup_correct=0.87"],
    "multidoc_blind5": ["correct=0.76", "hit@1=0.52", "refusal_rate=0.74"],
    "summit_blind6": ["correct=0.93", "hit@1=0.85", "refusal_rate=0.46", "followup_correct=0.99"],
    "multidoc_blind6": ["correct=0.88", "hit@1=0.82", "refusal_rate=0.37"],
    "summit_blind7": ["correct=0.97", "hit@1=0.78", "refusal_rate=0.84", "followup_correct=0.99"],
    "multidoc_blind7": ["correct=0.82", "hit@1=0.70", "refusal_rate=0.49"],
    "summit_blind8": ["correct=0.76", "hit@1=0.70", "refusal_rate=0.84", "followup_correct=0.62"],
    "multidoc_blind8": ["correct=0.64", "hit@1=0.58", "refusal_rate=0.37"],
    "summit_blind9": ["correct=0.91", "hit@1=0.85", "refusal_rate=0.53", "followup_correct=0.99"],
    "multidoc_blind9": ["correct=0.94", "hit@1=0.88", "refusal_rate=0.62"],
}


def run_gate(name: str, settings: Settings, out: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ASSISTANT_INDEX_DIR": str(settings.index_dir),
        "ASSISTANT_DATA_DIR": str(settings.data_dir),
    }
    command = [sys.executable, "app.py", "eval", str(SETS / f"{name}.heldout.jsonl")]
    command += ["--out", str(out)]
    for floor in FLOORS[name]:
        command += ["--min", floor]
    return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True)


def test_summit_heldout_meets_its_floors(indexed_settings: Settings, tmp_path: Path) -> None:
    done = run_gate("summit", indexed_settings, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["n_questions"] == 122 and summary["n_skipped"] == 0
    assert summary["refusals_without_sources"] == summary["refusal_rate"]


def test_multidoc_heldout_meets_its_floors(multidoc_settings: Settings, tmp_path: Path) -> None:
    done = run_gate("multidoc", multidoc_settings, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["by_kind"]["multi-doc"]["n"] >= 30


def test_multilingual_heldout_meets_its_floors(indexed_settings: Settings, tmp_path: Path) -> None:
    done = run_gate("multilingual", indexed_settings, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["n_questions"] == 41 and summary["n_skipped"] == 0
    assert set(summary["by_language"]) == {"ko", "zh", "ja"}
    assert summary["refusals_without_sources"] == summary["refusal_rate"]


def test_the_blind_sets_held_out_halves_meet_their_floors(
    indexed_settings: Settings, multidoc_settings: Settings, tmp_path: Path
) -> None:
    """Other authors' wording, never fitted on: what the tune author's sets can't show. Every
    blind set with floors is gated, each question of its held-out half scored."""
    blind = [name for name in FLOORS if "_blind" in name]
    assert len(blind) == 12
    for name in blind:
        settings = multidoc_settings if name.startswith("multidoc") else indexed_settings
        lines = (SETS / f"{name}.heldout.jsonl").read_text(encoding="utf-8").splitlines()
        done = run_gate(name, settings, tmp_path / name)
        assert done.returncode == 0, done.stdout + done.stderr
        summary = json.loads((tmp_path / name / "summary.json").read_text())
        assert summary["n_questions"] == len(list(filter(str.strip, lines)))
        assert summary["n_skipped"] == 0
