"""The LangChain seams: a reusable retriever of Documents, steps visible to callbacks,
streaming, and an answerer that plugs in without touching retrieval or citations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler

from assistant import Draft, Evidence, PassageRetriever, Query
from assistant.chain import build_chain
from assistant.citations import number_citations
from tests.conftest import CORPUS


class StepNames(BaseCallbackHandler):
    def __init__(self) -> None:
        self.started: list[str] = []

    def on_chain_start(self, serialized: Any, inputs: Any, **kwargs: Any) -> None:
        self.started.append(kwargs.get("name") or "")


def test_a_callback_handler_sees_every_step(assistant) -> None:
    handler = StepNames()
    answer = assistant.ask("How many agreements were signed?", config={"callbacks": [handler]})
    assert answer.status == "answered"
    steps = ("resolve", "retrieve", "rank", "judge", "answer")
    assert [n for n in handler.started if n in steps] == list(steps)


def test_the_retriever_returns_documents_with_exact_offsets(assistant) -> None:
    retriever = PassageRetriever(retriever=assistant.engine.retriever, k=3)
    documents = retriever.invoke("Which currency deal was renewed?")
    source_text = CORPUS.read_text(encoding="utf-8")
    assert len(documents) == 3
    assert "won-yuan currency swap" in documents[0].page_content
    for document in documents:
        meta = document.metadata
        assert meta["source"] == "korea_china_summit.txt"
        assert source_text[meta["start"] : meta["end"]] == document.page_content
        assert isinstance(meta["score"], float)
    scores = [d.metadata["score"] for d in documents]
    assert scores == sorted(scores, reverse=True)


def test_stream_yields_the_answer_sentence_by_sentence(assistant) -> None:
    question = "What did both sides agree to reopen, and what will this system allow?"
    chunks = list(assistant.stream(question))
    whole = assistant.ask(question)
    assert len(whole.citations) == 2
    assert len(chunks) == 2
    assert chunks[0].answer.endswith("[1]") and [c.n for c in chunks[0].citations] == [1]
    assert (chunks[-1].answer, chunks[-1].citations) == (whole.answer, whole.citations)


def test_citations_are_numbered_outside_the_answerer(assistant) -> None:
    evidence = assistant.engine.retriever.retrieve(assistant_query("swap").searches[0])
    draft = Draft("Second. [2] First again. [1] Nowhere. [9] Second again. [2]", evidence[:2])
    text, citations = number_citations(draft)
    assert text == "Second. [1] First again. [2] Nowhere. Second again. [1]"
    assert [c.text for c in citations] == [e.passage.text for e in (evidence[1], evidence[0])]


class LastSentenceAnswerer:
    """Another answerer: cites the third-best passage only."""

    def answer(self, query: Query, evidence: Sequence[Evidence]) -> Draft:
        return Draft(f"{evidence[2].passage.text} [1]", [evidence[2]])


def test_another_answerer_plugs_into_the_same_chain(assistant) -> None:
    pipeline = replace(assistant.engine.pipeline, answerer=LastSentenceAnswerer())
    chain = build_chain(pipeline)
    answer = chain.invoke({"question": "Which currency deal was renewed?", "history": []})
    usual = assistant.ask("Which currency deal was renewed?")
    assert answer.status == "answered" and len(answer.citations) == 1
    assert answer.citations[0].text not in {c.text for c in usual.citations[:1]}
    assert answer.answer == f"{answer.citations[0].text} [1]"
    refused = chain.invoke({"question": "Who is the president of France?", "history": []})
    assert refused.status == "not_found" and not refused.citations
    assert refused.reason == "the documents never mention “France”"


def assistant_query(text: str) -> Query:
    from assistant import analyse

    return analyse(text)
