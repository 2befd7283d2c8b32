#!/usr/bin/env python3
"""Validate multilingual.jsonl and split it once into tune / heldout.

Stdlib only. Usage (from anywhere):
    python3 multilingual_split.py [--article PATH]

Checks every line (fields, unique ids, language script, kind, every gold an
exact substring of the article lying inside one sentence, every must_include
group with an alternative in the article and in the gold sentence), then
splits with ONE random.Random(20261129), stratified by (lang, answerable),
into multilingual.tune.jsonl and multilingual.heldout.jsonl. Deterministic:
re-running gives byte-identical files. Exits 1 and writes nothing on error.
"""

import argparse
import json
import os
import random
import re
import sys
from collections import Counter, defaultdict

SEED = 20261129
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "multilingual.jsonl")
TUNE = os.path.join(HERE, "multilingual.tune.jsonl")
HELDOUT = os.path.join(HERE, "multilingual.heldout.jsonl")
DEFAULT_ARTICLE = os.path.normpath(os.path.join(HERE, "..", "..", "data", "korea_china_summit.txt"))

LANGS = ("ko", "zh", "ja")
ANSWERABLE_KINDS = {"multilingual", "follow-up"}
UNANSWERABLE_KINDS = {"unanswerable", "hard-negative"}
ALLOWED = {"id", "question", "history", "answerable", "gold", "must_include", "kind", "lang"}

HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
KANA = re.compile(r"[\u3040-\u30ff]")
HAN = re.compile(r"[\u4e00-\u9fff]")

MIN_PER_LANG = 24
MIN_FOLLOWUPS = 6
MIN_UNANSWERABLE = 12
MIN_UNANSWERABLE_PER_LANG = 4


def sentences(text):
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def lang_ok(lang, q):
    if lang == "ko":
        return bool(HANGUL.search(q))
    if lang == "ja":
        return bool(KANA.search(q))
    if lang == "zh":
        return bool(HAN.search(q)) and not KANA.search(q) and not HANGUL.search(q)
    return False


def is_str_list(x):
    return isinstance(x, list) and all(isinstance(s, str) and s.strip() for s in x)


def validate(rows, article):
    errs = []
    sents = sentences(article)
    low = article.casefold()
    seen = set()
    for lineno, o in rows:
        where = f"line {lineno}"
        if not isinstance(o, dict):
            errs.append(f"{where}: not an object")
            continue
        extra = set(o) - ALLOWED
        if extra:
            errs.append(f"{where}: unknown fields {sorted(extra)}")
        for f in ("id", "question", "answerable", "kind", "lang"):
            if f not in o:
                errs.append(f"{where}: missing {f}")
        i = o.get("id")
        if not (isinstance(i, str) and i.startswith("ml-")):
            errs.append(f"{where}: id must be a string starting with 'ml-': {i!r}")
        elif i in seen:
            errs.append(f"{where}: duplicate id {i}")
        else:
            seen.add(i)
            where = f"line {lineno} ({i})"
        q = o.get("question")
        lang = o.get("lang")
        if not (isinstance(q, str) and q.strip()):
            errs.append(f"{where}: empty question")
        if lang not in LANGS:
            errs.append(f"{where}: lang must be one of {LANGS}: {lang!r}")
        elif isinstance(q, str) and not lang_ok(lang, q):
            errs.append(f"{where}: question does not look like lang={lang}")
        hist = o.get("history")
        if "history" in o and not (is_str_list(hist) and hist):
            errs.append(f"{where}: history must be a non-empty list of strings")
        ans = o.get("answerable")
        kind = o.get("kind")
        if not isinstance(ans, bool):
            errs.append(f"{where}: answerable must be true/false")
            continue
        if ans:
            want = "follow-up" if hist else "multilingual"
            if kind != want:
                errs.append(f"{where}: kind should be {want!r}, got {kind!r}")
            gold = o.get("gold")
            if not (is_str_list(gold) and gold):
                errs.append(f"{where}: answerable needs a non-empty gold list")
                continue
            gold_sents = []
            for g in gold:
                if g not in article:
                    errs.append(f"{where}: gold not an exact substring of the article: {g!r}")
                    continue
                hit = [s for s in sents if g in s]
                if not hit:
                    errs.append(f"{where}: gold spans sentences: {g!r}")
                gold_sents.extend(hit)
            mi = o.get("must_include", [])
            if not isinstance(mi, list):
                errs.append(f"{where}: must_include must be a list")
                continue
            for grp in mi:
                if not (is_str_list(grp) and grp):
                    errs.append(f"{where}: bad must_include group {grp!r}")
                    continue
                if not any(a.casefold() in low for a in grp):
                    errs.append(f"{where}: no alternative of {grp} occurs in the article")
                elif gold_sents and not any(
                    a.casefold() in s.casefold() for a in grp for s in gold_sents
                ):
                    errs.append(f"{where}: no alternative of {grp} occurs in the gold sentence")
        else:
            if kind not in UNANSWERABLE_KINDS:
                errs.append(
                    f"{where}: kind should be one of {sorted(UNANSWERABLE_KINDS)}, got {kind!r}"
                )
            if o.get("gold") or o.get("must_include"):
                errs.append(f"{where}: unanswerable item must not carry gold/must_include")

    objs = [o for _, o in rows if isinstance(o, dict)]
    per_lang = Counter(o.get("lang") for o in objs)
    unans_lang = Counter(o.get("lang") for o in objs if o.get("answerable") is False)
    for lang in LANGS:
        if per_lang[lang] < MIN_PER_LANG:
            errs.append(f"only {per_lang[lang]} questions for {lang} (need >= {MIN_PER_LANG})")
        if unans_lang[lang] < MIN_UNANSWERABLE_PER_LANG:
            errs.append(
                f"only {unans_lang[lang]} unanswerable for {lang} "
                f"(need >= {MIN_UNANSWERABLE_PER_LANG})"
            )
    if sum(unans_lang.values()) < MIN_UNANSWERABLE:
        errs.append(f"only {sum(unans_lang.values())} unanswerable (need >= {MIN_UNANSWERABLE})")
    fu = sum(1 for o in objs if o.get("kind") == "follow-up")
    if fu < MIN_FOLLOWUPS:
        errs.append(f"only {fu} answerable follow-ups (need >= {MIN_FOLLOWUPS})")
    return errs


def split(objs):
    rng = random.Random(SEED)  # created once, consumed in a fixed stratum order
    strata = defaultdict(list)
    for o in objs:
        strata[(o["lang"], o["answerable"])].append(o)
    tune_ids = set()
    for key in sorted(strata):
        items = sorted(strata[key], key=lambda o: o["id"])
        rng.shuffle(items)
        k = len(items) // 2
        tune_ids.update(o["id"] for o in items[:k])
    tune = [o for o in objs if o["id"] in tune_ids]
    held = [o for o in objs if o["id"] not in tune_ids]
    return tune, held


def dump(path, objs):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for o in objs:
            f.write(json.dumps(o, ensure_ascii=False, separators=(",", ":")) + "\n")


def table(name, objs):
    c = Counter((o["lang"], o["answerable"]) for o in objs)
    parts = [f"{lang}: {c[(lang, True)]}+{c[(lang, False)]}" for lang in LANGS]
    return f"{name:8s} {len(objs):3d}  (answerable+unanswerable)  " + "  ".join(parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--article", default=DEFAULT_ARTICLE)
    args = ap.parse_args()
    with open(args.article, encoding="utf-8") as f:
        article = f.read()
    rows = []
    bad = []
    with open(SRC, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                bad.append(f"line {lineno}: blank line")
                continue
            try:
                rows.append((lineno, json.loads(line)))
            except json.JSONDecodeError as e:
                bad.append(f"line {lineno}: invalid JSON: {e}")
    errs = bad + validate(rows, article)
    if errs:
        print("\n".join(errs), file=sys.stderr)
        print(f"{len(errs)} problem(s); nothing written", file=sys.stderr)
        return 1
    objs = [o for _, o in rows]
    tune, held = split(objs)
    dump(TUNE, tune)
    dump(HELDOUT, held)
    print(f"ok: {len(objs)} valid lines, seed {SEED}")
    for name, part in (("all", objs), ("tune", tune), ("heldout", held)):
        print(table(name, part))
    return 0


if __name__ == "__main__":
    sys.exit(main())
