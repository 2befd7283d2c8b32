#!/usr/bin/env python3
"""Validate the extra tune-only question sets (standard library only).

    python3 evaluation/sets/check_extra.py

Checks summit_extra.tune.jsonl, summit_blind.jsonl and summit_blind4.jsonl (over
korea_china_summit.txt) and multidoc_extra.tune.jsonl and multidoc_blind4.jsonl (over
multidoc/corpus/<source>) line by line with the same checks
as the main sets (``check_and_split.check_item``), plus what only these files need: their id
prefix, no id or question taken from the tune halves or the dev set, and one gold sentence a
part. Prints every problem and exits 1 if there is any, else prints counts per kind and exits
0. Writes nothing. Reads only the public tune files and the dev set (for id and question
clashes); it never opens the held-out or full sets.

It also checks multilingual_blind.jsonl (``check_multilingual_blind``): valid JSON, unique
``mb-`` ids, the question's script matches ``lang``, every gold an exact substring of the
article inside one sentence, every must_include group answered by the gold sentence, and no
gold on unanswerable lines. For id and question clashes it reads the multilingual tune files.
multilingual_blind4.jsonl gets the same checks with ``ml4-`` ids, and may not copy the
multilingual tune files or multilingual_blind.jsonl either.

The fourth to ninth blind sets (``*_blind4.jsonl`` … ``*_blind9.jsonl``) also need ids
``<prefix><kind>-NN`` (``ml4-<lang>-NN``), the kind counts of their brief, no question asked
twice in one file, and may not copy any file treated as reference here (tune halves, dev set,
extra sets, the first blind sets; for the fifth, the fourth too; for the sixth, the fourth and
fifth; for the seventh, the fourth to sixth; for the eighth, the fourth to seventh; for the ninth,
the fourth to eighth).
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from check_and_split import (  # noqa: E402  (the main sets' checks, reused)
    SUMMIT_NAME,
    check_item,
    load_corpus,
    load_jsonl,
    norm,
    sentences,
)

ROOT = HERE.parent.parent


@dataclass(frozen=True)
class ExtraSet:
    """One extra or blind file and the rules it is checked by."""

    path: Path
    #: Every id starts with this.
    prefix: str
    #: Whose per-line rules (``check_and_split.check_item``) it follows.
    rules: str
    #: Files besides :data:`REFERENCE` whose questions it may not copy.
    not_copied: tuple[Path, ...] = ()
    #: The kind counts of its brief; when given, ids read <prefix><kind>-NN and no question
    #: may be asked twice in the file.
    kinds: dict[str, int] | None = None


#: What summit_blind.jsonl must not copy, besides REFERENCE.
BLIND_REFERENCE = (HERE / "summit_extra.tune.jsonl",)
#: What the fourth blind sets must not copy: the extra sets and the first blind set.
BLIND4_REFERENCE = (
    *BLIND_REFERENCE,
    HERE / "multidoc_extra.tune.jsonl",
    HERE / "summit_blind.jsonl",
)
#: What the fifth must not copy: the same, and the fourth sets themselves (whole files: the
#: checks print only the new text, so the writer never reads their held-out halves).
BLIND5_REFERENCE = (*BLIND4_REFERENCE, HERE / "summit_blind4.jsonl", HERE / "multidoc_blind4.jsonl")
#: What the sixth must not copy: the same, and the fifth sets.
BLIND6_REFERENCE = (*BLIND5_REFERENCE, HERE / "summit_blind5.jsonl", HERE / "multidoc_blind5.jsonl")
#: What the seventh must not copy: the same, and the sixth sets.
BLIND7_REFERENCE = (*BLIND6_REFERENCE, HERE / "summit_blind6.jsonl", HERE / "multidoc_blind6.jsonl")
#: What the eighth must not copy: the same, and the seventh sets.
BLIND8_REFERENCE = (*BLIND7_REFERENCE, HERE / "summit_blind7.jsonl", HERE / "multidoc_blind7.jsonl")
#: What the ninth must not copy: the same, and the eighth sets.
BLIND9_REFERENCE = (*BLIND8_REFERENCE, HERE / "summit_blind8.jsonl", HERE / "multidoc_blind8.jsonl")
SUMMIT_BLIND4_KINDS = {
    "paraphrase": 16,
    "synonym": 12,
    "category": 8,
    "capital": 6,
    "type": 12,
    "neighbour": 8,
    "multi-part": 8,
    "chatty": 8,
    "follow-up": 14,
    "hard-negative": 16,
    "unanswerable": 12,
}
SUMMIT_BLIND5_KINDS = {
    **SUMMIT_BLIND4_KINDS,
    "paraphrase": 14,
    "capital": 8,
    "follow-up": 16,
    "unanswerable": 10,
}
FILES = {
    "summit": ExtraSet(HERE / "summit_extra.tune.jsonl", "sx-", "summit"),
    "multidoc": ExtraSet(HERE / "multidoc_extra.tune.jsonl", "mx-", "multidoc"),
    "summit_blind": ExtraSet(HERE / "summit_blind.jsonl", "sb-", "summit", BLIND_REFERENCE),
    "summit_blind4": ExtraSet(
        HERE / "summit_blind4.jsonl", "sd-", "summit", BLIND4_REFERENCE, SUMMIT_BLIND4_KINDS
    ),
    "multidoc_blind4": ExtraSet(
        HERE / "multidoc_blind4.jsonl",
        "md-",
        "multidoc",
        BLIND4_REFERENCE,
        {"multi-doc": 30, "hard-negative": 10, "unanswerable": 4},
    ),
}
#: The fifth to ninth blind sets: one brief, each may not copy the sets before it.
MULTIDOC_BLIND5_KINDS = {"multi-doc": 33, "hard-negative": 11, "unanswerable": 4}
for _n, _reference in (
    (5, BLIND5_REFERENCE),
    (6, BLIND6_REFERENCE),
    (7, BLIND7_REFERENCE),
    (8, BLIND8_REFERENCE),
    (9, BLIND9_REFERENCE),
):
    FILES[f"summit_blind{_n}"] = ExtraSet(
        HERE / f"summit_blind{_n}.jsonl", f"s{_n}-", "summit", _reference, SUMMIT_BLIND5_KINDS
    )
    FILES[f"multidoc_blind{_n}"] = ExtraSet(
        HERE / f"multidoc_blind{_n}.jsonl",
        f"m{_n}-",
        "multidoc",
        _reference,
        MULTIDOC_BLIND5_KINDS,
    )
#: Public files whose ids and questions must not be reused.
REFERENCE = [
    HERE / "summit.tune.jsonl",
    HERE / "multidoc.tune.jsonl",
    ROOT / "tests" / "data" / "dev_questions.jsonl",
]


def _reference(paths=REFERENCE) -> tuple[dict[str, str], dict[str, str]]:
    """Ids and (normalised) questions and history turns of the reference files."""
    ids: dict[str, str] = {}
    questions: dict[str, str] = {}
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                d = json.loads(line)
                ids.setdefault(d.get("id"), path.name)
                for text in [d.get("question", ""), *(d.get("history") or [])]:
                    questions.setdefault(norm(text), path.name)
    return ids, questions


def _one_sentence_a_part(obj: dict, docs: dict[str, str], set_name: str) -> str | None:
    """What is wrong when a multi-part question's golds don't sit in one sentence each, or
    a single question's gold spans more than one."""
    gold = obj.get("gold")
    if not obj.get("answerable") or not isinstance(gold, list):
        return None
    doc = docs.get(SUMMIT_NAME if set_name == "summit" else obj.get("source"), "")
    sents = sentences(doc)
    hits = [{i for i, s in enumerate(sents) if g in s} for g in gold if isinstance(g, str)]
    if obj.get("kind") == "multi-part":
        groups = obj.get("must_include") or []
        if len(gold) != len(groups):
            return "multi-part needs one gold and one must_include group per part"
        if len({min(h) for h in hits if h}) != len(gold):
            return "multi-part parts must be answered by different sentences"
    elif len(set().union(*hits)) > 1:
        return "gold points at more than one sentence (only multi-part may)"
    return None


ML_BLIND = HERE / "multilingual_blind.jsonl"
ML_BLIND4 = HERE / "multilingual_blind4.jsonl"
#: Multilingual files whose ids and questions multilingual_blind.jsonl must not reuse.
ML_REFERENCE = [HERE / "multilingual.tune.jsonl", HERE / "multilingual_extra.tune.jsonl"]
#: ... and those multilingual_blind4.jsonl must not reuse.
ML4_REFERENCE = [*ML_REFERENCE, ML_BLIND]
#: Per language, the kinds multilingual_blind4.jsonl was written to.
ML4_PER_LANG = {"multilingual": 6, "follow-up": 2, "hard-negative": 2, "unanswerable": 2}
ML_KINDS = {"multilingual": True, "follow-up": True, "hard-negative": False, "unanswerable": False}
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")


def _script_ok(lang: str, text: str) -> bool:
    """Hangul for ko; kana for ja; Han with neither kana nor Hangul for zh."""
    hangul, kana, han = (bool(r.search(text)) for r in (_HANGUL, _KANA, _HAN))
    return {
        "ko": hangul and not kana,
        "ja": kana and not hangul,
        "zh": han and not kana and not hangul,
    }.get(lang, False)


def _asked(obj: dict) -> tuple[tuple[str, ...], str]:
    """A question with its history, normalised: the same question asked twice in one file
    (after the same turns) has the same key."""
    history = tuple(norm(h) for h in obj.get("history") or [] if isinstance(h, str))
    question = obj.get("question")
    return history, norm(question) if isinstance(question, str) else ""


def _copies(obj: dict, ref_questions: dict[str, str]) -> list[str]:
    """The reference files whose questions or history turns this line copies."""
    return [
        ref_questions[norm(text)]
        for text in [obj.get("question", ""), *(obj.get("history") or [])]
        if isinstance(text, str) and norm(text) in ref_questions
    ]


def check_multilingual_blind(
    docs: dict[str, str],
    errors: list[str],
    path: Path = ML_BLIND,
    prefix: str = "mb-",
    reference: list[Path] = ML_REFERENCE,
) -> Counter:
    """Check a multilingual blind file (multilingual_blind.jsonl by default) over the summit
    article; return counts per (lang, kind)."""
    doc = docs.get(SUMMIT_NAME, "")
    sents = sentences(doc)
    ref_ids, ref_questions = _reference(reference)
    seen: set[str] = set()
    asked: set[tuple] = set()
    counts: Counter = Counter()
    for n, _, obj in load_jsonl(path, errors):
        where = f"{path.name}:{n} ({obj.get('id', '?')})"
        oid, q, lang, kind = (obj.get(f) for f in ("id", "question", "lang", "kind"))
        counts[(lang, kind)] += 1
        if isinstance(q, str):
            if _asked(obj) in asked:
                errors.append(f"{where}: the same question is asked twice in this file")
            asked.add(_asked(obj))
        if not isinstance(oid, str) or not oid.startswith(f"{prefix}{lang}-"):
            errors.append(f"{where}: id must start with '{prefix}<lang>-'")
        elif oid in seen or oid in ref_ids:
            errors.append(f"{where}: duplicate id")
        seen.add(oid)
        if not isinstance(q, str) or not _script_ok(lang, q):
            errors.append(f"{where}: question script does not match lang {lang!r}")
        if kind not in ML_KINDS:
            errors.append(f"{where}: unknown kind {kind!r}")
            continue
        history = obj.get("history")
        if (kind == "follow-up") != bool(history) or (
            history is not None
            and not (isinstance(history, list) and all(isinstance(h, str) and h for h in history))
        ):
            errors.append(f"{where}: history must be a list of strings, on follow-ups only")
        errors += [f"{where}: copies a question of {name}" for name in _copies(obj, ref_questions)]
        if obj.get("answerable") is not ML_KINDS[kind]:
            errors.append(f"{where}: answerable must be {ML_KINDS[kind]} for kind {kind}")
        gold, groups = obj.get("gold"), obj.get("must_include")
        if not ML_KINDS[kind]:
            if gold or groups:
                errors.append(f"{where}: unanswerable questions must have no gold/must_include")
            continue
        if not (isinstance(gold, list) and gold and all(isinstance(g, str) for g in gold)):
            errors.append(f"{where}: gold must be a non-empty list of strings")
            continue
        hit = set()
        for g in gold:
            inside = {i for i, s in enumerate(sents) if g in s}
            if g not in doc or doc.count(g) != 1:
                errors.append(f"{where}: gold is not a unique exact substring: {g!r}")
            elif not inside:
                errors.append(f"{where}: gold spans a sentence boundary: {g!r}")
            hit |= inside
        text = " ".join(norm(sents[i]) for i in sorted(hit))
        if not (
            isinstance(groups, list) and groups and all(isinstance(x, list) and x for x in groups)
        ):
            errors.append(f"{where}: must_include must be a non-empty list of non-empty lists")
            continue
        for grp in groups:
            if not any(isinstance(a, str) and norm(a) in text for a in grp):
                errors.append(f"{where}: no alternative of {grp} occurs in the gold sentence")
    return counts


def _check_ml4_shape(counts: Counter, errors: list[str]) -> None:
    """multilingual_blind4.jsonl: the kinds per language of its brief, and per language one
    follow-up with an English history and one with a history in the question's language."""
    for lang in ("ko", "zh", "ja"):
        for kind, want in ML4_PER_LANG.items():
            if counts[(lang, kind)] != want:
                errors.append(
                    f"{ML_BLIND4.name}: {lang} has {counts[(lang, kind)]} {kind}, want {want}"
                )
    history_langs: dict[str, list[str]] = {}
    for _, _, obj in load_jsonl(ML_BLIND4, []):
        if obj.get("kind") == "follow-up" and obj.get("history"):
            text = " ".join(h for h in obj["history"] if isinstance(h, str))
            lang = obj.get("lang")
            same = isinstance(lang, str) and _script_ok(lang, text)
            english = not (_HANGUL.search(text) or _KANA.search(text) or _HAN.search(text))
            history_langs.setdefault(lang, []).append(
                "same" if same else "en" if english else "other"
            )
    for lang in ("ko", "zh", "ja"):
        if sorted(history_langs.get(lang, [])) != ["en", "same"]:
            errors.append(
                f"{ML_BLIND4.name}: {lang} follow-ups need one English history and one in "
                f"{lang} (have {history_langs.get(lang, [])})"
            )


def main() -> int:
    errors: list[str] = []
    docs = load_corpus(errors)
    seen_ids: dict[str, str] = {}
    counts: dict[str, Counter] = {}
    for key, spec in FILES.items():
        path, set_name, prefix, kinds = spec.path, spec.rules, spec.prefix, spec.kinds
        ref_ids, ref_questions = _reference([*REFERENCE, *spec.not_copied])
        rows = load_jsonl(path, errors)
        counts[key] = Counter(o.get("kind") for _, _, o in rows)
        for kind, want in (kinds or {}).items():
            if counts[key][kind] != want:
                errors.append(f"{path.name}: {counts[key][kind]} {kind}, want {want}")
        for kind in set(counts[key]) - set(kinds or counts[key]):
            errors.append(f"{path.name}: kind {kind!r} not in its brief")
        asked: set[tuple] = set()
        coverage: Counter = Counter()
        for n, _, obj in rows:
            found: list[str] = []
            check_item(set_name, n, obj, docs, found, coverage)
            errors += [e.replace(f"{set_name}.jsonl:", f"{path.name}:", 1) for e in found]
            where = f"{path.name}:{n} ({obj.get('id', '?')})"
            oid = obj.get("id")
            if not isinstance(oid, str) or not oid.startswith(prefix):
                errors.append(f"{where}: id must start with {prefix!r}")
            elif oid in seen_ids:
                errors.append(f"{where}: duplicate id (first at {seen_ids[oid]})")
            elif oid in ref_ids:
                errors.append(f"{where}: id clashes with {ref_ids[oid]}")
            if isinstance(oid, str):
                seen_ids.setdefault(oid, where)
            if kinds and not (
                isinstance(oid, str)
                and re.fullmatch(rf"{re.escape(prefix)}{obj.get('kind')}-\d\d", oid)
            ):
                errors.append(f"{where}: id must read {prefix}<kind>-NN")
            if kinds and isinstance(obj.get("question"), str):
                if _asked(obj) in asked:
                    errors.append(f"{where}: the same question is asked twice in this file")
                asked.add(_asked(obj))
            copied = _copies(obj, ref_questions)
            errors += [f"{where}: copies a question of {name}" for name in copied]
            problem = _one_sentence_a_part(obj, docs, set_name)
            if problem:
                errors.append(f"{where}: {problem}")

    ml_counts = check_multilingual_blind(docs, errors)
    ml4_counts = check_multilingual_blind(docs, errors, ML_BLIND4, "ml4-", ML4_REFERENCE)
    _check_ml4_shape(ml4_counts, errors)

    if errors:
        print(f"{len(errors)} problem(s):")
        for e in errors:
            print("  " + e)
        return 1
    for key, c in counts.items():
        print(f"{FILES[key].path.name}: {sum(c.values())} questions, all valid")
        for k in sorted(c):
            print(f"  {k:<15}{c[k]:>4}")
    for path, c in ((ML_BLIND, ml_counts), (ML_BLIND4, ml4_counts)):
        print(f"{path.name}: {sum(c.values())} questions, all valid")
        for (lang, k), v in sorted(c.items()):
            print(f"  {lang} {k:<15}{v:>4}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
