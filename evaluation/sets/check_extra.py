#!/usr/bin/env python3
"""Validate the extra tune-only question sets (standard library only).

    python3 evaluation/sets/check_extra.py

Checks summit_extra.tune.jsonl (over korea_china_summit.txt) and
multidoc_extra.tune.jsonl (over multidoc/corpus/<source>) line by line with the same checks
as the main sets (``check_and_split.check_item``), plus what only these files need: their id
prefix, no id or question taken from the tune halves or the dev set, and one gold sentence a
part. Prints every problem and exits 1 if there is any, else prints counts per kind and exits
0. Writes nothing. Reads only the public tune files and the dev set (for id and question
clashes); it never opens the held-out or full sets, nor any multilingual file.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
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
FILES = {"summit": HERE / "summit_extra.tune.jsonl", "multidoc": HERE / "multidoc_extra.tune.jsonl"}
ID_PREFIX = {"summit": "sx-", "multidoc": "mx-"}
#: Public files whose ids and questions must not be reused.
REFERENCE = [
    HERE / "summit.tune.jsonl",
    HERE / "multidoc.tune.jsonl",
    ROOT / "tests" / "data" / "dev_questions.jsonl",
]


def _reference() -> tuple[dict[str, str], dict[str, str]]:
    """Ids and (normalised) questions and history turns of the reference files."""
    ids: dict[str, str] = {}
    questions: dict[str, str] = {}
    for path in REFERENCE:
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


def main() -> int:
    errors: list[str] = []
    docs = load_corpus(errors)
    ref_ids, ref_questions = _reference()
    seen_ids: dict[str, str] = {}
    counts: dict[str, Counter] = {}
    for set_name, path in FILES.items():
        rows = load_jsonl(path, errors)
        counts[set_name] = Counter(o.get("kind") for _, _, o in rows)
        coverage: Counter = Counter()
        for n, _, obj in rows:
            found: list[str] = []
            check_item(set_name, n, obj, docs, found, coverage)
            errors += [e.replace(f"{set_name}.jsonl:", f"{path.name}:", 1) for e in found]
            where = f"{path.name}:{n} ({obj.get('id', '?')})"
            oid = obj.get("id")
            if not isinstance(oid, str) or not oid.startswith(ID_PREFIX[set_name]):
                errors.append(f"{where}: id must start with {ID_PREFIX[set_name]!r}")
            elif oid in seen_ids:
                errors.append(f"{where}: duplicate id (first at {seen_ids[oid]})")
            elif oid in ref_ids:
                errors.append(f"{where}: id clashes with {ref_ids[oid]}")
            if isinstance(oid, str):
                seen_ids.setdefault(oid, where)
            for text in [obj.get("question", ""), *(obj.get("history") or [])]:
                if isinstance(text, str) and norm(text) in ref_questions:
                    errors.append(f"{where}: copies a question of {ref_questions[norm(text)]}")
            problem = _one_sentence_a_part(obj, docs, set_name)
            if problem:
                errors.append(f"{where}: {problem}")

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
