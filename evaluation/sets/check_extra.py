#!/usr/bin/env python3
"""Validate the extra tune-only question sets (standard library only).

    python3 evaluation/sets/check_extra.py

Checks summit_extra.tune.jsonl and summit_blind.jsonl (over korea_china_summit.txt) and
multidoc_extra.tune.jsonl (over multidoc/corpus/<source>) line by line with the same checks
as the main sets (``check_and_split.check_item``), plus what only these files need: their id
prefix, no id or question taken from the tune halves or the dev set, and one gold sentence a
part. Prints every problem and exits 1 if there is any, else prints counts per kind and exits
0. Writes nothing. Reads only the public tune files and the dev set (for id and question
clashes); it never opens the held-out or full sets.

It also checks multilingual_blind.jsonl (``check_multilingual_blind``): valid JSON, unique
``mb-`` ids, the question's script matches ``lang``, every gold an exact substring of the
article inside one sentence, every must_include group answered by the gold sentence, and no
gold on unanswerable lines. For id and question clashes it reads the multilingual tune files.
"""

from __future__ import annotations

import json
import re
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
FILES = {
    "summit": HERE / "summit_extra.tune.jsonl",
    "multidoc": HERE / "multidoc_extra.tune.jsonl",
    "summit_blind": HERE / "summit_blind.jsonl",
}
ID_PREFIX = {"summit": "sx-", "multidoc": "mx-", "summit_blind": "sb-"}
#: Which set's rules (check_and_split.check_item) a file is checked with.
SET_OF = {"summit_blind": "summit"}
#: Files whose questions summit_blind.jsonl must not copy, besides REFERENCE.
BLIND_REFERENCE = [HERE / "summit_extra.tune.jsonl"]
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
#: Multilingual files whose ids and questions multilingual_blind.jsonl must not reuse.
ML_REFERENCE = [HERE / "multilingual.tune.jsonl", HERE / "multilingual_extra.tune.jsonl"]
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


def check_multilingual_blind(docs: dict[str, str], errors: list[str]) -> Counter:
    """Check multilingual_blind.jsonl over the summit article; return counts per (lang, kind)."""
    doc = docs.get(SUMMIT_NAME, "")
    sents = sentences(doc)
    ref_ids, ref_questions = _reference(ML_REFERENCE)
    seen: set[str] = set()
    counts: Counter = Counter()
    for n, _, obj in load_jsonl(ML_BLIND, errors):
        where = f"{ML_BLIND.name}:{n} ({obj.get('id', '?')})"
        oid, q, lang, kind = (obj.get(f) for f in ("id", "question", "lang", "kind"))
        counts[(lang, kind)] += 1
        if not isinstance(oid, str) or not oid.startswith(f"mb-{lang}-"):
            errors.append(f"{where}: id must start with 'mb-<lang>-'")
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
        for text in [q, *(history or [])]:
            if isinstance(text, str) and norm(text) in ref_questions:
                errors.append(f"{where}: copies a question of {ref_questions[norm(text)]}")
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


def main() -> int:
    errors: list[str] = []
    docs = load_corpus(errors)
    seen_ids: dict[str, str] = {}
    counts: dict[str, Counter] = {}
    for key, path in FILES.items():
        set_name = SET_OF.get(key, key)
        extra = BLIND_REFERENCE if key == "summit_blind" else []
        ref_ids, ref_questions = _reference([*REFERENCE, *extra])
        rows = load_jsonl(path, errors)
        counts[key] = Counter(o.get("kind") for _, _, o in rows)
        coverage: Counter = Counter()
        for n, _, obj in rows:
            found: list[str] = []
            check_item(set_name, n, obj, docs, found, coverage)
            errors += [e.replace(f"{set_name}.jsonl:", f"{path.name}:", 1) for e in found]
            where = f"{path.name}:{n} ({obj.get('id', '?')})"
            oid = obj.get("id")
            if not isinstance(oid, str) or not oid.startswith(ID_PREFIX[key]):
                errors.append(f"{where}: id must start with {ID_PREFIX[key]!r}")
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

    ml_counts = check_multilingual_blind(docs, errors)

    if errors:
        print(f"{len(errors)} problem(s):")
        for e in errors:
            print("  " + e)
        return 1
    for key, c in counts.items():
        print(f"{FILES[key].name}: {sum(c.values())} questions, all valid")
        for k in sorted(c):
            print(f"  {k:<15}{c[k]:>4}")
    print(f"{ML_BLIND.name}: {sum(ml_counts.values())} questions, all valid")
    for (lang, k), v in sorted(ml_counts.items()):
        print(f"  {lang} {k:<15}{v:>4}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
