"""The retrieval chain as LangChain runnables: resolve → retrieve → answer.

Each step is its own runnable over a dict, so an LLM answerer can replace ``answer``
without touching retrieval, and the chain can be traced or streamed like any LCEL chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.runnables import Runnable, RunnableLambda

from assistant.answerability import AnswerabilityCheck
from assistant.answerer import ExtractiveAnswerer
from assistant.followup import Resolution, resolve
from assistant.retrieval import HybridRetriever
from assistant.text import normalize_for_match, stems
from assistant.types import Answer, Evidence, Message


def resolve_conversation(question: str, history: Sequence[Message]) -> Resolution:
    """Resolve every earlier user turn in order, then the question, so context chains."""
    resolved: list[str] = []
    for message in history:
        if message.role == "user":
            resolved.append(resolve(message.content, resolved).search_query)
    return resolve(question, resolved)


def shown_passages(history: Sequence[Message], retriever: HybridRetriever) -> set[str]:
    """Ids of passages the assistant already quoted in this conversation."""
    said = [normalize_for_match(m.content) for m in history if m.role == "assistant"]
    if not said:
        return set()
    return {
        p.id
        for p in retriever.passages
        if any(normalize_for_match(p.text) in text for text in said)
    }


def build_chain(
    retriever: HybridRetriever, check: AnswerabilityCheck, answerer: ExtractiveAnswerer
) -> Runnable[dict[str, Any], Answer]:
    """Input ``{"question": str, "history": [Message, ...]}``; output an :class:`Answer`."""

    def resolve_step(inputs: dict[str, Any]) -> dict[str, Any]:
        resolution = resolve_conversation(inputs["question"], inputs.get("history", ()))
        return {**inputs, "resolution": resolution}

    def retrieve_step(inputs: dict[str, Any]) -> dict[str, Any]:
        resolution: Resolution = inputs["resolution"]
        exclude = (
            shown_passages(inputs.get("history", ()), retriever) if resolution.wants_new else set()
        )
        evidence = retriever.retrieve(resolution.search_query, exclude=exclude)
        if resolution.set_aside:
            evidence = _set_aside_last(evidence, resolution.set_aside)
        return {**inputs, "search_query": resolution.search_query, "evidence": evidence}

    def answer_step(inputs: dict[str, Any]) -> Answer:
        question, query, evidence = inputs["question"], inputs["search_query"], inputs["evidence"]
        if not check.judge(question, query, evidence).answerable:
            return answerer.not_found(question, query)
        return answerer.answer(question, query, evidence)

    return (
        RunnableLambda(resolve_step, name="resolve")
        | RunnableLambda(retrieve_step, name="retrieve")
        | RunnableLambda(answer_step, name="answer")
    )


def _set_aside_last(evidence: list[Evidence], set_aside: frozenset[str]) -> list[Evidence]:
    """Stable partition: passages about what the user put aside go after all others."""
    keep = [e for e in evidence if not set_aside & set(stems(e.passage.text))]
    aside = [e for e in evidence if set_aside & set(stems(e.passage.text))]
    return keep + aside
