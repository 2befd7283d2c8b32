"""The retrieval chain as LangChain runnables: resolve → retrieve → judge → answer.

The state that travels between steps is typed (:class:`ChainState`); each step is a named
runnable that passes its ``config`` on, so a LangChain callback handler or tracer sees
``resolve``, ``retrieve``, ``judge`` and ``answer`` as child runs of the chain. ``stream``
yields the answer sentence by sentence (each chunk a complete :class:`Answer` so far), so a
front end shows text as an answerer produces it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, TypedDict, TypeVar

from langchain_core.runnables import Runnable, RunnableConfig

from assistant.answer_type import AnswerType, contains
from assistant.answerability import AnswerabilityCheck, Verdict
from assistant.answerer import Answerer
from assistant.citations import number_citations
from assistant.query import Query, SearchText, analyse
from assistant.retrieval import HybridRetriever
from assistant.types import Answer, Evidence, Message
from vectorstore.analysis import normalize_for_match, stems

NOT_FOUND = "The documents don't contain an answer to this question."

_CITATION_MARKER = re.compile(r"\s*\[\d+\]\s*")
#: An answer split after each citation marker: the unit of streaming.
_CITED_PIECE = re.compile(r".*?\[\d+\]|.+$", re.DOTALL)

#: What holding the asked-for person or place is worth in fused-score units (cosine scale).
TYPE_BONUS = 0.08


class ChainInput(TypedDict):
    """What the chain is invoked with: a cleaned question and the conversation before it."""

    question: str
    history: Sequence[Message]


@dataclass(frozen=True)
class Retrieved:
    """The ranked evidence for one search text."""

    search: SearchText
    evidence: list[Evidence]


@dataclass(frozen=True)
class ChainState:
    """What the steps know so far; each step returns a copy with its part filled in."""

    query: Query
    history: Sequence[Message] = ()
    retrieved: tuple[Retrieved, ...] = ()
    chosen: Retrieved | None = None
    verdict: Verdict | None = None


In = TypeVar("In")
Out = TypeVar("Out")


def observed(config: RunnableConfig | None) -> bool:
    """True when a callback handler (a tracer included) listens to this run."""
    callbacks = (config or {}).get("callbacks")
    if callbacks is None:
        return False
    return bool(callbacks if isinstance(callbacks, list) else callbacks.handlers)


class Step(Runnable[In, Out], Generic[In, Out]):
    """One named step of the chain: a plain function as a runnable that reports itself to
    callbacks (``on_chain_start``/``end`` under its name) and passes ``config`` on.

    When nothing listens, the function is called directly: the callback machinery costs
    ~0.25 ms a step (measured: 1 ms of a 4.3 ms answer for four steps), which is what
    ``RunnableLambda`` would cost on every call.
    """

    def __init__(self, name: str, func: Callable[[In], Out]) -> None:
        self.name = name
        self.func = func

    def invoke(self, input: In, config: RunnableConfig | None = None, **kwargs: Any) -> Out:
        if not observed(config):
            return self.func(input)
        return self._call_with_config(self._run, input, config, run_type="chain")

    def _run(self, input: In) -> Out:
        return self.func(input)


class StreamingStep(Step[In, Out]):
    """A step whose function yields successive outputs; ``invoke`` returns the last one."""

    def __init__(self, name: str, func: Callable[[In], Iterator[Out]]) -> None:
        super().__init__(name, lambda state: _last(func(state)))
        self.generate = func

    def transform(
        self, input: Iterator[In], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Out]:
        if not observed(config):
            yield from self._generate(input)
            return
        yield from self._transform_stream_with_config(input, self._generate, config, "chain")

    def stream(
        self, input: In, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Out]:
        return self.transform(iter([input]), config, **kwargs)

    def _generate(self, inputs: Iterator[In]) -> Iterator[Out]:
        for state in inputs:
            yield from self.generate(state)


def _last(outputs: Iterator[Out]) -> Out:
    last = None
    for last in outputs:  # noqa: B007 - the last one is the whole output
        pass
    if last is None:
        raise RuntimeError("the step produced no output")
    return last


def build_chain(
    retriever: HybridRetriever, check: AnswerabilityCheck, answerer: Answerer
) -> Runnable[ChainInput, Answer]:
    """Input a :class:`ChainInput`; output an :class:`Answer` (``stream``: one per sentence)."""

    def resolve(inputs: ChainInput) -> ChainState:
        history = inputs.get("history", ())
        return ChainState(query=analyse(inputs["question"], history), history=history)

    def retrieve(state: ChainState) -> ChainState:
        """Rank passages for the resolved search and each fallback."""
        query = state.query
        shown = shown_passages(state.history, retriever) if query.wants_new else set()
        prefer = _next_to(shown, retriever)
        retrieved = tuple(
            Retrieved(
                search,
                _rank(retriever.retrieve(search, exclude=shown, prefer=prefer), query),
            )
            for search in query.searches
        )
        return replace(state, retrieved=retrieved)

    def judge(state: ChainState) -> ChainState:
        """The first search whose passages answer the question; else the first, refused."""
        verdicts = []
        for retrieved in state.retrieved:
            verdict = check.judge(state.query, retrieved.search, retrieved.evidence)
            if verdict.answerable:
                return replace(state, chosen=retrieved, verdict=verdict)
            verdicts.append(verdict)
        return replace(state, chosen=state.retrieved[0], verdict=verdicts[0])

    def answer(state: ChainState) -> Iterator[Answer]:
        assert state.chosen is not None and state.verdict is not None
        base = Answer(
            question=state.query.question,
            search_query=state.chosen.search.text,
            status="not_found",
            answer=NOT_FOUND,
        )
        if not state.verdict.answerable:
            yield replace(base, reason=state.verdict.reason)
            return
        text, citations = number_citations(answerer.answer(state.query, state.chosen.evidence))
        if not citations:
            yield replace(base, reason="no passage could be quoted as an answer")
            return
        shown = ""
        for piece in _CITED_PIECE.findall(text):
            shown += piece
            cited = [c for c in citations if f"[{c.n}]" in shown]
            yield replace(base, status="answered", answer=shown.strip(), citations=cited)

    return (
        Step("resolve", resolve)
        | Step("retrieve", retrieve)
        | Step("judge", judge)
        | StreamingStep("answer", answer)
    )


def shown_passages(history: Sequence[Message], retriever: HybridRetriever) -> set[str]:
    """Ids of passages the assistant already quoted in this conversation.

    Answers quote whole sentences, each followed by its ``[n]`` marker, so each quoted piece
    is looked up by its normalised text (no scan of the corpus).
    """
    shown: set[str] = set()
    for message in history:
        if message.role == "assistant":
            for piece in _CITATION_MARKER.split(message.content):
                shown.update(retriever.ids_with_text(normalize_for_match(piece)))
    return shown


def _next_to(shown: set[str], retriever: HybridRetriever) -> set[str]:
    """Passages that continue the ones already shown: where "what else" most often is."""
    following = (retriever.next_passage(pid) for pid in shown)
    return {p.id for p in following if p is not None and p.id not in shown}


def _rank(evidence: list[Evidence], query: Query) -> list[Evidence]:
    """Passages holding the asked-for kind of answer first among near-equals; passages about
    what the user put aside ("besides the sanctions") last."""
    wanted: AnswerType | None = query.answer_type
    if wanted is not None and wanted.specific:
        # A duration, count or time is the answer itself: the best passage holding one wins.
        typed = next((e for e in evidence[:3] if contains(wanted, e.passage.text)), None)
        if typed is not None:
            evidence = [typed, *(e for e in evidence if e is not typed)]
    elif wanted is not None:
        evidence = sorted(
            evidence,
            key=lambda e: -(e.score + (TYPE_BONUS if contains(wanted, e.passage.text) else 0.0)),
        )
    if query.set_aside:
        # sorted() is stable: passages without a set-aside word keep their order, first.
        aside = query.set_aside
        evidence = sorted(evidence, key=lambda e: bool(aside & set(stems(e.passage.text))))
    return evidence
