#!/usr/bin/env python3
"""Validate the extra tune-only question sets (standard library only).

    python3 evaluation/sets/check_extra.py

Checks summit_extra.tune.jsonl (over korea_china_summit.txt) and
multidoc_extra.tune.jsonl (over multidoc/corpus/<source>).  Prints every problem and
exits 1 if there is any, else prints counts per kind and exits 0.  Writes nothing.
Reads only the public tune files and the dev set (for id and question clashes); it never
opens the held-out or full sets, nor any multilingual file.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from check_and_split import (  # noqa: E402  (reuses the evaluator's normalisation)
    CORPUS,
    FIELDS,
    KINDS,
    MAX_ANSWER_CHARS,
    MAX_GOLD_CHARS,
    MIN_GOLD_CHARS,
    SUMMIT_NAME,
    load_jsonl,
    norm,
    sentences,
)

ROOT = HERE.parent.parent
FILES = {"summit": HERE / "summit_extra.tune.jsonl", "multidoc": HERE / "multidoc_extra.tune.jsonl"}
ALLOWED = {
    "summit": KINDS - {"multi-doc"},
    "multidoc": {"multi-doc", "hard-negative", "unanswerable"},
}
ID_PREFIX = {"summit": "sx-", "multidoc": "mx-"}
# public files whose ids and questions must not be reused
REFERENCE = [
    HERE / "summit.tune.jsonl",
    HERE / "multidoc.tune.jsonl",
    ROOT / "tests" / "data" / "dev_questions.jsonl",
    Path("/work/shared/eval/dev_questions.jsonl"),
]


def main() -> int:
    errors: list[str] = []
    docs = {p.name: p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt"))}
    original = ROOT / "data" / SUMMIT_NAME
    if original.exists() and original.read_text(encoding="utf-8") != docs.get(SUMMIT_NAME):
        errors.append(f"{SUMMIT_NAME}: corpus copy differs from {original}")
    sents = {name: sentences(text) for name, text in docs.items()}
    ndocs = {name: norm(text) for name, text in docs.items()}

    ref_ids: dict[str, str] = {}
    ref_questions: dict[str, str] = {}
    for path in REFERENCE:
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                d = json.loads(line)
                ref_ids.setdefault(d.get("id"), path.name)
                for text in [d.get("question", ""), *(d.get("history") or [])]:
                    ref_questions.setdefault(norm(text), path.name)

    seen_ids: dict[str, str] = {}
    seen_q: dict[tuple, str] = {}
    counts: dict[str, Counter] = {}
    for set_name, path in FILES.items():
        rows = load_jsonl(path, errors)
        counts[set_name] = Counter(o.get("kind") for _, _, o in rows)
        for n, _, obj in rows:
            where = f"{path.name}:{n} ({obj.get('id', '?')})"

            def err(msg: str, where: str = where) -> None:
                errors.append(f"{where}: {msg}")

            for field in ("id", "kind", "question", "answerable"):
                if field not in obj:
                    err(f"missing field {field!r}")
            for field in obj:
                if field not in FIELDS:
                    err(f"unknown field {field!r}")
            oid, q, kind = obj.get("id"), obj.get("question"), obj.get("kind")
            if not isinstance(oid, str) or not oid.startswith(ID_PREFIX[set_name]):
                err(f"id must be a string starting with {ID_PREFIX[set_name]!r}")
            elif oid in seen_ids:
                err(f"duplicate id (first at {seen_ids[oid]})")
            elif oid in ref_ids:
                err(f"id clashes with {ref_ids[oid]}")
            if isinstance(oid, str):
                seen_ids.setdefault(oid, where)
            if not isinstance(q, str) or not q.strip():
                err("question must be a non-empty string")
                continue
            if kind not in ALLOWED[set_name]:
                err(f"kind {kind!r} not allowed here")
                continue

            history = obj.get("history")
            if kind == "follow-up":
                if not (
                    isinstance(history, list)
                    and 1 <= len(history) <= 3
                    and all(isinstance(h, str) and h.strip() for h in history)
                ):
                    err("follow-up needs history: a list of 1-3 non-empty strings")
                    history = []
            elif "history" in obj:
                err("only follow-up questions may have a history")
                history = []
            history = history or []
            key = (tuple(norm(h) for h in history), norm(q))
            if key in seen_q:
                err(f"duplicate question (first at {seen_q[key]})")
            seen_q.setdefault(key, where)
            for text in [q, *history]:
                if norm(text) in ref_questions:
                    err(f"copies a question of {ref_questions[norm(text)]}: {text!r}")

            answerable = obj.get("answerable")
            want = kind not in ("hard-negative", "unanswerable")
            if answerable is not want:
                err(f"kind {kind} must have answerable: {str(want).lower()}")
            source = obj.get("source")
            if set_name == "summit":
                if source not in (None, SUMMIT_NAME):
                    err("source must be absent or korea_china_summit.txt")
                doc_name = SUMMIT_NAME
            else:
                if kind in ("multi-doc", "hard-negative") and not source:
                    err(f"{kind} question needs a source")
                if source is not None and source not in docs:
                    err(f"unknown source {source!r}")
                    continue
                if kind == "unanswerable" and source is not None:
                    err("unanswerable (off-topic) questions name no source")
                doc_name = source

            if answerable is not True:
                if "gold" in obj or "must_include" in obj:
                    err("unanswerable questions must have no gold and no must_include")
                continue

            doc, doc_sents = docs[doc_name], sents[doc_name]
            gold = obj.get("gold")
            if not (
                isinstance(gold, list) and gold and all(isinstance(g, str) and g for g in gold)
            ):
                err("gold must be a non-empty list of strings")
                continue
            gold_sents: list[set[int]] = []
            for g in gold:
                hits = {i for i, s in enumerate(doc_sents) if g in s}
                gold_sents.append(hits)
                if g not in doc:
                    err(f"gold not an exact substring of {doc_name}: {g!r}")
                    continue
                if doc.count(g) != 1 or ndocs[doc_name].count(norm(g)) != 1:
                    err(f"gold not unique in {doc_name}: {g!r}")
                if not hits:
                    err(f"gold spans a sentence boundary: {g!r}")
                if not MIN_GOLD_CHARS <= len(g) <= MAX_GOLD_CHARS:
                    err(f"gold length {len(g)} outside {MIN_GOLD_CHARS}-{MAX_GOLD_CHARS}: {g!r}")
                if set_name == "multidoc":
                    for other, text in ndocs.items():
                        if other != doc_name and norm(g) in text:
                            err(f"gold also occurs in {other}: {g!r}")
            used = sorted(set().union(*gold_sents))
            if sum(len(doc_sents[i]) for i in used) + max(len(used) - 1, 0) > MAX_ANSWER_CHARS:
                err(f"gold sentences together exceed {MAX_ANSWER_CHARS} characters")

            groups = obj.get("must_include")
            if not (
                isinstance(groups, list)
                and groups
                and all(
                    isinstance(grp, list)
                    and grp
                    and all(isinstance(x, str) and x.strip() for x in grp)
                    for grp in groups
                )
            ):
                err("must_include must be a non-empty list of non-empty lists of strings")
                continue
            answer = " ".join(norm(doc_sents[i]) for i in used)
            for grp in groups:
                if not any(norm(x) in answer for x in grp):
                    err(f"no alternative of must_include group {grp} is in the gold sentence(s)")

            if kind == "multi-part":
                if len(gold) < 2 or len(gold) != len(groups):
                    err("multi-part needs one gold and one must_include group per part (>= 2)")
                elif len({min(h) for h in gold_sents if h}) != len(gold):
                    err("multi-part parts must be answered by different sentences")
                else:
                    for g, hits, grp in zip(gold, gold_sents, groups, strict=True):
                        text = " ".join(norm(doc_sents[i]) for i in hits)
                        if not any(norm(x) in text for x in grp):
                            err(f"part {g!r}: its must_include group {grp} is not in its sentence")
            elif len(used) > 1:
                err("gold points at more than one sentence (only multi-part may)")

    if errors:
        print(f"{len(errors)} problem(s):")
        for e in errors:
            print("  " + e)
        return 1
    for set_name, c in counts.items():
        print(f"{FILES[set_name].name}: {sum(c.values())} questions, all valid")
        for k in sorted(c):
            print(f"  {k:<15}{c[k]:>4}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
