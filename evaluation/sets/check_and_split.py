#!/usr/bin/env python3
"""Validate the blind evaluation question sets and split them into tune / held-out.

Standard library only.  Run from anywhere:

    python3 evaluation/sets/check_and_split.py

It checks summit.jsonl (over multidoc/corpus/korea_china_summit.txt) and
multidoc.jsonl (over multidoc/corpus/<source>), prints every problem it finds and
exits with status 1 if there is any.  When everything is valid it splits each of the
two files once, with random.Random(SEED), stratified by kind, into
<name>.tune.jsonl and <name>.heldout.jsonl.  Re-running gives identical files.
"""

from __future__ import annotations

import json
import random
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "multidoc" / "corpus"
SUMMIT_NAME = "korea_china_summit.txt"
# The original article in the project; the corpus copy must stay identical to it.
ORIGINAL_SUMMIT = HERE.parent.parent / "data" / SUMMIT_NAME
# The public dev set: ids and question wordings must not be reused.
DEV_SET = Path(__file__).resolve().parents[2] / "tests" / "data" / "dev_questions.jsonl"

SEED = 20261129
SETS = ("summit", "multidoc")

SINGLE_TURN_KINDS = (
    "paraphrase",
    "synonym",
    "category",
    "capital",
    "type",
    "neighbour",
    "multi-part",
    "chatty",
)
KINDS = {*SINGLE_TURN_KINDS, "follow-up", "unanswerable", "hard-negative", "multi-doc"}
ALLOWED_KINDS = {
    "summit": KINDS - {"multi-doc"},
    "multidoc": {"multi-doc", "unanswerable", "hard-negative"},
}
FIELDS = {"id", "question", "history", "answerable", "gold", "must_include", "kind", "source"}
REQUIRED = ("id", "question", "answerable", "kind")

# Minimum counts the brief asks for.
MINIMUMS = {
    "summit": {
        "_total": 200,
        "_answerable_single_turn": 120,
        **{k: 12 for k in SINGLE_TURN_KINDS},
        "follow-up": 30,
        "_not_answerable": 50,
        "hard-negative": 25,
        "unanswerable": 25,
    },
    "multidoc": {"multi-doc": 40, "_not_answerable": 8},
}
MAX_ANSWER_CHARS = 400  # an answer is one or two whole sentences, at most 400 chars
MIN_GOLD_CHARS = 8  # shorter gold strings would match too many citations
MAX_GOLD_CHARS = 160  # "short-ish": a clause, not a paragraph
DOC_SENTENCES = (8, 20)  # new multi-doc articles: 8-20 sentences each
MIN_SENTENCE_COVERAGE = 3  # every summit sentence answers at least this many questions

_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+|(?<=[.!?][\"”’'])\s+")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


def norm(text: str) -> str:
    """The evaluator's normalisation: NFKC, curly quotes straight, whitespace folded, casefold."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return " ".join(text.split()).casefold()


def sentences(doc: str) -> list[str]:
    out = []
    for para in doc.splitlines():
        para = para.strip()
        if para:
            out.extend(s for s in _SENT_SPLIT.split(para) if s)
    return out


def load_jsonl(path: Path, errors: list[str]) -> list[tuple[int, str, dict]]:
    rows = []
    if not path.exists():
        errors.append(f"{path.name}: missing")
        return rows
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            errors.append(f"{path.name}:{n}: blank line")
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{path.name}:{n}: invalid JSON ({exc})")
            continue
        if not isinstance(obj, dict):
            errors.append(f"{path.name}:{n}: not a JSON object")
            continue
        rows.append((n, line.strip(), obj))
    return rows


def load_corpus(errors: list[str]) -> dict[str, str]:
    docs = {p.name: p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt"))}
    if SUMMIT_NAME not in docs:
        errors.append(f"corpus: {SUMMIT_NAME} missing from {CORPUS}")
    elif (
        ORIGINAL_SUMMIT.exists()
        and ORIGINAL_SUMMIT.read_text(encoding="utf-8") != docs[SUMMIT_NAME]
    ):
        errors.append(f"corpus: {SUMMIT_NAME} differs from {ORIGINAL_SUMMIT}")
    lo, hi = DOC_SENTENCES
    for name, text in docs.items():
        if name == SUMMIT_NAME:
            continue
        n = len(sentences(text))
        if not lo <= n <= hi:
            errors.append(f"corpus: {name} has {n} sentences (want {lo}-{hi})")
    if len(docs) - 1 < 8:
        errors.append(f"corpus: only {len(docs) - 1} new articles (want >= 8)")
    return docs


def check_item(set_name, n, obj, docs, errors, coverage):
    where = f"{set_name}.jsonl:{n} ({obj.get('id', '?')})"

    def err(msg):
        errors.append(f"{where}: {msg}")

    for field in REQUIRED:
        if field not in obj:
            err(f"missing field {field!r}")
    for field in obj:
        if field not in FIELDS:
            err(f"unknown field {field!r}")
    if not isinstance(obj.get("id"), str) or not obj.get("id", "").strip():
        err("id must be a non-empty string")
    if not isinstance(obj.get("question"), str) or not obj.get("question", "").strip():
        err("question must be a non-empty string")
    if not isinstance(obj.get("answerable"), bool):
        err("answerable must be true or false")
    kind = obj.get("kind")
    if kind not in KINDS:
        err(f"unknown kind {kind!r}")
        return
    if kind not in ALLOWED_KINDS[set_name]:
        err(f"kind {kind!r} not allowed in {set_name}.jsonl")

    # history
    history = obj.get("history")
    if kind == "follow-up":
        if not (
            isinstance(history, list)
            and 1 <= len(history) <= 3
            and all(isinstance(h, str) and h.strip() for h in history)
        ):
            err("follow-up needs history: a list of 1-3 non-empty strings")
    elif history is not None:
        err("only follow-up questions may have a history")

    # answerable vs kind
    answerable = obj.get("answerable")
    if kind in ("unanswerable", "hard-negative"):
        if answerable is not False:
            err(f"kind {kind} must have answerable: false")
    elif answerable is not True:
        err(f"kind {kind} must have answerable: true")

    # which document
    source = obj.get("source")
    if set_name == "summit":
        if source not in (None, SUMMIT_NAME):
            err(f"source must be absent or {SUMMIT_NAME}")
        doc_name = SUMMIT_NAME
    else:
        if kind == "multi-doc" and not source:
            err("multi-doc question needs a source")
        if source is not None and source not in docs:
            err(f"source {source!r} not in {CORPUS}")
            return
        doc_name = source
    if answerable is not True:
        if obj.get("gold") or obj.get("must_include"):
            err("unanswerable questions must have no gold and no must_include")
        return
    if doc_name not in docs:
        return
    doc = docs[doc_name]
    sents = sentences(doc)

    gold = obj.get("gold")
    if not (isinstance(gold, list) and gold and all(isinstance(g, str) and g for g in gold)):
        err("gold must be a non-empty list of strings")
        return
    gold_sents: list[int] = []
    per_gold_sents: list[set[int]] = []
    for g in gold:
        if g not in doc:
            err(f"gold is not an exact substring of {doc_name}: {g!r}")
            per_gold_sents.append(set())
            continue
        if doc.count(g) != 1:
            err(f"gold occurs {doc.count(g)} times in {doc_name}: {g!r}")
        if norm(doc).count(norm(g)) != 1:
            err(f"gold (normalised) is not unique in {doc_name}: {g!r}")
        if set_name == "multidoc":
            for other, text in docs.items():
                if other != doc_name and norm(g) in norm(text):
                    err(f"gold also occurs in {other}: {g!r}")
        if not MIN_GOLD_CHARS <= len(g) <= MAX_GOLD_CHARS:
            err(f"gold length {len(g)} outside {MIN_GOLD_CHARS}-{MAX_GOLD_CHARS}: {g!r}")
        hits = {i for i, s in enumerate(sents) if g in s}
        if not hits:
            err(f"gold spans a sentence boundary: {g!r}")
        per_gold_sents.append(hits)
        for i in sorted(hits):
            if i not in gold_sents:
                gold_sents.append(i)

    if kind == "multi-part":
        if len(gold) < 2 or len(gold_sents) < 2:
            err("multi-part needs gold in at least two different sentences")
    elif len(gold_sents) > 2:
        err("gold points at more than two sentences")
    if sum(len(sents[i]) for i in gold_sents) + max(len(gold_sents) - 1, 0) > MAX_ANSWER_CHARS:
        err(f"the gold sentences together exceed {MAX_ANSWER_CHARS} characters")

    groups = obj.get("must_include")
    if not (
        isinstance(groups, list)
        and groups
        and all(
            isinstance(grp, list) and grp and all(isinstance(a, str) and a.strip() for a in grp)
            for grp in groups
        )
    ):
        err("must_include must be a non-empty list of non-empty lists of strings")
        return
    if kind == "multi-part" and len(groups) < 2:
        err("multi-part needs one must_include group per part (>= 2)")
    answer_text = " ".join(norm(sents[i]) for i in gold_sents)
    for grp in groups:
        if not any(norm(a) in answer_text for a in grp):
            err(f"no alternative of must_include group {grp} occurs in the gold sentence(s)")
    if kind == "multi-part":
        # every part must be answered by its own sentence: each gold's sentence holds a group
        for g, hits in zip(gold, per_gold_sents, strict=True):
            text = " ".join(norm(sents[i]) for i in hits)
            if hits and not any(any(norm(a) in text for a in grp) for grp in groups):
                err(f"no must_include group is answered by the sentence of gold {g!r}")

    if set_name == "summit":
        for i in gold_sents:
            coverage[i] += 1


def conversation_key(obj: dict) -> str:
    """Follow-ups of one conversation share their opening question; keep them together."""
    if obj.get("kind") == "follow-up" and obj.get("history"):
        return "conv:" + norm(obj["history"][0])
    return "item:" + obj["id"]


def split(rows: list[tuple[int, str, dict]]) -> dict[str, list[str]]:
    """Stratified by kind: shuffle the units of each kind, then alternate tune / held-out."""
    rng = random.Random(SEED)
    units: dict[str, dict[str, list[int]]] = defaultdict(dict)  # kind -> key -> row indexes
    for idx, (_, _, obj) in enumerate(rows):
        units[obj["kind"]].setdefault(conversation_key(obj), []).append(idx)
    target: dict[int, str] = {}
    turn = 0
    for kind in sorted(units):
        groups = list(units[kind].values())  # insertion order = file order
        rng.shuffle(groups)
        size = {"tune": 0, "heldout": 0}
        for grp in groups:
            # alternate; a conversation (several follow-ups) goes to the side with fewer
            # questions of this kind so far, so whole conversations do not unbalance a kind
            if size["tune"] == size["heldout"]:
                name = "tune" if turn % 2 == 0 else "heldout"
            else:
                name = min(size, key=size.get)
            turn += 1
            size[name] += len(grp)
            for idx in grp:
                target[idx] = name
    out = {"tune": [], "heldout": []}
    for idx, (_, line, _) in enumerate(rows):  # keep file order inside each split
        out[target[idx]].append(line)
    return out


def main() -> int:
    errors: list[str] = []
    docs = load_corpus(errors)
    all_rows = {name: load_jsonl(HERE / f"{name}.jsonl", errors) for name in SETS}

    dev_ids, dev_questions = set(), set()
    if DEV_SET.exists():
        for line in DEV_SET.read_text(encoding="utf-8").splitlines():
            if line.strip():
                d = json.loads(line)
                dev_ids.add(d.get("id"))
                dev_questions.add(norm(d.get("question", "")))

    seen_ids: dict[str, str] = {}
    # other question sets kept in this folder (read only): their ids must not clash either
    own = {f"{n}.jsonl" for n in SETS}
    for path in sorted(HERE.glob("*.jsonl")):
        if path.name in own or path.name.endswith((".tune.jsonl", ".heldout.jsonl")):
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                oid = json.loads(line).get("id") if line.strip() else None
            except (json.JSONDecodeError, AttributeError):
                continue
            if isinstance(oid, str):
                seen_ids.setdefault(oid, path.name)
    seen_questions: dict[tuple, str] = {}
    summit_sents = sentences(docs.get(SUMMIT_NAME, ""))
    coverage: Counter = Counter()
    for name, rows in all_rows.items():
        for n, _, obj in rows:
            where = f"{name}.jsonl:{n}"
            oid = obj.get("id")
            if isinstance(oid, str):
                if oid in seen_ids:
                    errors.append(f"{where}: duplicate id {oid!r} (first at {seen_ids[oid]})")
                seen_ids.setdefault(oid, where)
                if oid in dev_ids:
                    errors.append(f"{where}: id {oid!r} is a dev-set id")
            q = obj.get("question")
            if isinstance(q, str):
                key = (tuple(norm(h) for h in obj.get("history") or []), norm(q))
                if key in seen_questions:
                    errors.append(f"{where}: duplicate question (first at {seen_questions[key]})")
                seen_questions.setdefault(key, where)
                for text in [q, *(obj.get("history") or [])]:
                    if isinstance(text, str) and norm(text) in dev_questions:
                        errors.append(f"{where}: reuses a dev-set question: {text!r}")
            check_item(name, n, obj, docs, errors, coverage)

    # minimum counts
    for name, mins in MINIMUMS.items():
        objs = [o for _, _, o in all_rows[name]]
        kinds = Counter(o.get("kind") for o in objs)
        derived = {
            "_total": len(objs),
            "_answerable_single_turn": sum(kinds[k] for k in SINGLE_TURN_KINDS),
            "_not_answerable": sum(1 for o in objs if o.get("answerable") is False),
        }
        for key, want in mins.items():
            have = derived[key] if key.startswith("_") else kinds[key]
            if have < want:
                errors.append(f"{name}.jsonl: {key.lstrip('_')} = {have}, want >= {want}")
    for i, s in enumerate(summit_sents):
        if coverage[i] < MIN_SENTENCE_COVERAGE:
            errors.append(
                f"summit sentence {i + 1} is answered by only {coverage[i]} questions: {s[:60]!r}"
            )

    if errors:
        print(f"{len(errors)} problem(s):")
        for e in errors:
            print("  " + e)
        print("nothing written")
        return 1

    print(
        f"summit sentence coverage (answerable questions per sentence): "
        f"{[coverage[i] for i in range(len(summit_sents))]}"
    )
    for name, rows in all_rows.items():
        parts = split(rows)
        for part, lines in parts.items():
            (HERE / f"{name}.{part}.jsonl").write_text(
                "".join(line + "\n" for line in lines), encoding="utf-8"
            )
        kinds = sorted({o["kind"] for _, _, o in rows})
        by_part = {
            part: Counter(json.loads(line)["kind"] for line in lines)
            for part, lines in parts.items()
        }
        print(
            f"\n{name}.jsonl: {len(rows)} questions -> "
            f"{name}.tune.jsonl {len(parts['tune'])}, {name}.heldout.jsonl {len(parts['heldout'])}"
        )
        print(f"  {'kind':<15}{'all':>5}{'tune':>6}{'heldout':>9}")
        for k in kinds:
            t, h = by_part["tune"][k], by_part["heldout"][k]
            print(f"  {k:<15}{t + h:>5}{t:>6}{h:>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
