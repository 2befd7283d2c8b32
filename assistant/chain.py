"""The retrieval chain as LangChain runnables: resolve → retrieve → rank → judge → answer.

The state that travels between steps is typed (:class:`ChainState`); each step is a named
runnable that passes its ``config`` on, so a LangChain callback handler or tracer sees
``resolve``, ``retrieve``, ``rank``, ``judge`` and ``answer`` as child runs. ``stream``
yields the answer sentence by sentence (each chunk a complete :class:`Answer` so far), so a
front end shows text as an answerer produces it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cached_property, partial
from typing import Any, Generic, TypedDict, TypeVar

from langchain_core.runnables import Runnable, RunnableConfig

from assistant.answerability import Verdict, judge
from assistant.answerer import Answerer, answers_in_its_place, continuation, evidence_for
from assistant.citations import Draft, number_citations
from assistant.lexicon import Lexicon
from assistant.multilingual import MultilingualSearch, analyse_multilingual
from assistant.query import Query, SearchText, analyse, depends_on_context, split_parts
from assistant.question_words import without_markup, without_postamble, without_preamble
from assistant.ranking import AnswerModel, Features, Ranked, rank
from assistant.retrieval import HybridRetriever
from assistant.script import QUOTE_PHRASES, question_language, without_quote_phrase
from assistant.spelling import Speller
from assistant.types import Answer, Evidence, Message
from vectorstore.analysis import normalize_for_match, stem

NOT_FOUND = "The documents don't contain an answer to this question."
#: Why a Korean, Chinese or Japanese question is refused when there is no multilingual search.
MULTILINGUAL_OFF = (
    "multilingual search is off, so questions in Korean, Chinese or Japanese can't be "
    "searched: ask in English, or set ASSISTANT_MULTILINGUAL=true and run ingest"
)
MULTILINGUAL_MISSING = (
    "this index has no multilingual vectors yet: run `python app.py ingest` to add them"
)
MULTILINGUAL_TOO_LARGE = (
    "multilingual search is off for a corpus this large, so questions in Korean, Chinese or "
    "Japanese can't be searched: ask in English, or set ASSISTANT_MULTILINGUAL=true and run "
    "ingest (it embeds every passage again, ~12 a second)"
)

_CITATION_MARKER = re.compile(r"\s*\[\d+\]\s*")
#: An answer split after each citation marker: the unit of streaming.
_CITED_PIECE = re.compile(r".*?\[\d+\]|.+$", re.DOTALL)


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
    #: The question as asked (the query's may have typos corrected).
    asked: str = ""
    retrieved: tuple[Retrieved, ...] = ()
    ranked: tuple[Ranked, ...] = ()
    chosen: Ranked | None = None
    verdict: Verdict | None = None
    #: A question that joins several ("… and which sea was discussed?"): one state a part,
    #: each part resolved with the part before it as context.
    parts: tuple[ChainState, ...] = ()


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


@dataclass(frozen=True)
class Pipeline:
    """The steps of the chain over one index, as plain functions of the typed state (the
    chain wraps each as a runnable; the answer model's fitting runs the first ones)."""

    retriever: HybridRetriever
    model: AnswerModel
    answerer: Answerer
    lexicon: Lexicon
    #: The search for Korean, Chinese and Japanese questions; None when it is off or the
    #: index has no multilingual vectors (``multilingual_problem`` says which).
    multilingual: MultilingualSearch | None = None
    multilingual_problem: str = MULTILINGUAL_OFF

    @cached_property
    def speller(self) -> Speller:
        return Speller((p.text for p in self.retriever.passages), self.lexicon)

    @cached_property
    def features(self) -> Features:
        r = self.retriever
        return Features(r.lexical, self.lexicon, r.before, r.document_sentences, r.acronyms)

    def resolve(self, inputs: ChainInput) -> ChainState:
        """The question analysed once, in its conversation (each part, when it has several)."""
        question, history = inputs["question"], list(inputs.get("history", ()))
        language = question_language(question)
        if language is not None:  # no English words to correct, split or carry
            query = analyse_multilingual(question, history, language)
            return ChainState(query=query, history=history, asked=question)
        asked, question = question, self.speller.correct(without_markup(question))
        question = without_postamble(without_preamble(question, self._used), self._used)
        query = self._in_conversation(analyse(question, history), history)
        state = ChainState(query=query, history=history, asked=asked)
        texts = split_parts(question)
        if len(texts) == 1:
            return state
        parts = []
        for i, text in enumerate(texts):
            context = [*history, *(Message("user", t) for t in texts[:i])]
            query = self._in_conversation(analyse(text, context), context)
            parts.append(ChainState(query=query, history=context))
        return replace(state, parts=tuple(parts))

    def _used(self, word: str) -> bool:
        """Whether the documents use this word (its stem)."""
        return stem(word) in self.retriever.lexical

    def _in_conversation(self, query: Query, history: Sequence[Message]) -> Query:
        """The query with the passages earlier answers led with and what continues them, when
        it asks for more, and with the passage the last answer quoted first, when it leans on
        the conversation ("what were they about?" after the agreements signed)."""
        if query.wants_new:
            shown = shown_passages(history, self.retriever)
            query = replace(
                query,
                shown=frozenset(shown),
                continuing=frozenset(_next_to(shown, self.retriever)),
            )
        last = [m for m in history if m.role == "assistant"][-1:]
        if not last or not depends_on_context(query.question):
            return query
        return replace(query, last_answer=frozenset(_quoted(last[0], self.retriever)[0]))

    def retrieve(self, state: ChainState) -> ChainState:
        """Fused candidates for the resolved search and each fallback."""
        if state.parts:
            return replace(state, parts=tuple(self.retrieve(p) for p in state.parts))
        query, retriever = state.query, self.retriever
        if query.language is not None:
            if self.multilingual is None:
                return state
            found = (Retrieved(s, self.multilingual.retrieve(s)) for s in query.searches)
            return replace(state, retrieved=tuple(found))
        retrieved = tuple(
            Retrieved(
                search, retriever.retrieve(search, exclude=query.shown, prefer=query.continuing)
            )
            for search in query.searches
        )
        return replace(state, retrieved=retrieved)

    def rank(self, state: ChainState) -> ChainState:
        """Each search's best candidates in the order of the answer model's probability."""
        if state.parts:
            return replace(state, parts=tuple(self.rank(p) for p in state.parts))
        if state.query.language is not None:
            if self.multilingual is None:
                return state
            ranked = tuple(
                self.multilingual.rank(state.query, r.search, r.evidence) for r in state.retrieved
            )
            return replace(state, ranked=ranked)
        ml = self.multilingual
        ranked = tuple(
            rank(
                self.model, self.features, state.query, r.search, r.evidence,
                None if ml is None else partial(ml.standing, r.search.text),
            )
            for r in state.retrieved
        )  # fmt: skip
        return replace(state, ranked=ranked)

    def judge(self, state: ChainState) -> ChainState:
        """The search whose best passage is likeliest to answer, and whether it does; for
        several parts, the parts the documents answer (a refusal only when none is)."""
        if state.parts:
            parts = tuple(self.judge(p) for p in state.parts)
            answered = [p for p in parts if p.verdict and p.verdict.answerable] or [parts[0]]
            rankings: list[Ranked] = []
            for part in answered:
                if part.chosen is not None:
                    rankings.append(self._answering_first(part, rankings[-1] if rankings else None))
            merged = _merge(rankings)
            return replace(state, parts=parts, chosen=merged, verdict=answered[0].verdict)
        threshold = self.model.threshold
        if state.query.language is not None:
            if self.multilingual is None:
                chosen = Ranked(state.query.searches[0], [], [])
                return replace(
                    state, chosen=chosen, verdict=Verdict(False, self.multilingual_problem)
                )
            threshold = self.multilingual.model.threshold
        chosen = max(state.ranked, key=lambda r: r.confidence)  # the first among equals
        return replace(state, chosen=chosen, verdict=judge(chosen, threshold))

    def _answering_first(self, part: ChainState, earlier: Ranked | None) -> Ranked:
        """A part's ranking with a sentence leaning on its best first when that sentence
        answers in its place (:func:`assistant.answerer.answers_in_its_place`: "What will the
        reopened channel *allow* and …" → "This system will *allow* …"), as a one-part
        question quotes it first. A part that leans on the part before ("…, and what was
        Xi's reaction to *it*?") looks after that part's answer ("Xi expressed support for
        these efforts …"). On tune, two multi-part questions more right (437 of 523), none
        worse."""
        chosen = part.chosen
        assert chosen is not None
        if not chosen.evidence or part.query.answer_type is not None:
            return chosen
        first = chosen.evidence[0]
        if earlier is not None and earlier.evidence and depends_on_context(part.query.question):
            first = earlier.evidence[0]
        for following in continuation(first.passage, self.retriever.next_passage):
            if answers_in_its_place(part.query, first.passage, following):
                lead = evidence_for(following, chosen.evidence)
                rest = [e for e in chosen.evidence if e.passage.id != following.id]
                return replace(chosen, evidence=[lead, *rest])
        return chosen

    def answer(self, state: ChainState) -> Iterator[Answer]:
        """The answer sentence by sentence (each yield complete so far), or the refusal."""
        assert state.chosen is not None and state.verdict is not None
        searched = [p.chosen.search.text for p in state.parts if p.chosen] or [
            state.chosen.search.text
        ]
        base = Answer(
            question=state.asked or state.query.question,
            search_query=" / ".join(searched),
            status="not_found",
            answer=NOT_FOUND,
        )
        if not state.verdict.answerable:
            yield replace(base, reason=state.verdict.reason)
            return
        query = state.query
        if state.parts:  # one sentence for each part the documents answer
            query = replace(query, parts=sum(1 for p in state.parts if p.verdict.answerable))
        stream = getattr(self.answerer, "stream", None)
        # an answerer that streams its own checked sentences; the check reads English, so a
        # question in another language gets the extractive answer (its fallback)
        if stream is not None and query.language is None:
            last: Answer | None = None
            for draft in stream(query, state.chosen.evidence, state.history):
                last = _answered(base, draft)
                if last.status == "answered" or draft.answerer != "llm":
                    yield last
            if last is None:
                yield replace(base, reason="no passage could be quoted as an answer")
            return
        # the extractive answerer: the configured one, or the LLM answerer's fallback
        answerer = self.answerer if stream is None else self.answerer.fallback  # type: ignore[attr-defined]
        draft = answerer.answer(query, state.chosen.evidence)
        text, citations = number_citations(draft)
        if query.language is not None:  # it quotes English: say so in the question's language
            text = f"{QUOTE_PHRASES[query.language]} {text}"
        if not citations:
            yield replace(base, reason="no passage could be quoted as an answer")
            return
        shown = ""
        for piece in _CITED_PIECE.findall(text):
            shown += piece
            cited = [c for c in citations if f"[{c.n}]" in shown]
            yield replace(base, status="answered", answer=shown.strip(), citations=cited)


def _answered(base: Answer, draft: Draft) -> Answer:
    """The answer a draft makes (a refusal when it cites nothing), with who wrote it."""
    text, citations = number_citations(draft)
    made = replace(
        base,
        answerer="llm" if draft.answerer == "llm" else "extractive",
        sentences_dropped=draft.dropped,
        first_sentence_ms=draft.first_sentence_ms,
        fallback=draft.fallback,
    )
    if not citations:
        return replace(made, reason="no passage could be quoted as an answer")
    return replace(made, status="answered", answer=text.strip(), citations=citations)


def build_chain(pipeline: Pipeline) -> Runnable[ChainInput, Answer]:
    """Input a :class:`ChainInput`; output an :class:`Answer` (``stream``: one per sentence)."""
    return (
        Step("resolve", pipeline.resolve)
        | Step("retrieve", pipeline.retrieve)
        | Step("rank", pipeline.rank)
        | Step("judge", pipeline.judge)
        | StreamingStep("answer", pipeline.answer)
    )


def _merge(ranked: Sequence[Ranked]) -> Ranked:
    """Several parts' rankings as one: each part's best not taken by an earlier part first
    (one sentence a part, as multi-part questions are asked, even when two parts rank the
    same sentence first), then the rest, no repeats."""
    seen: set[str] = set()
    evidence: list[Evidence] = []

    def take(e: Evidence) -> None:
        seen.add(e.passage.id)
        evidence.append(e)

    for r in ranked:
        best = next((e for e in r.evidence if e.passage.id not in seen), None)
        if best is not None:
            take(best)
    for e in (e for r in ranked for e in r.evidence):
        if e.passage.id not in seen:
            take(e)
    first = ranked[0]
    return replace(first, evidence=evidence, probabilities=[e.score for e in evidence])


def shown_passages(history: Sequence[Message], retriever: HybridRetriever) -> set[str]:
    """Ids of the passages the assistant's answers in this conversation led with: what "what
    else" skips. The sentences quoted after the first stay candidates: "He also noted …",
    quoted as the continuation of "President Lee raised …", is what else he noted (skipping
    every quoted sentence, every "what else" follow-up of the tune files was wrong).

    Answers quote whole sentences, each followed by its ``[n]`` marker, so the first quoted
    piece is looked up by its normalised text (no scan of the corpus).
    """
    shown: set[str] = set()
    for message in history:
        if message.role == "assistant":
            shown.update(_quoted(message, retriever)[0])
    return shown


def _quoted(message: Message, retriever: HybridRetriever) -> list[list[str]]:
    """For each piece of an assistant answer up to a ``[n]`` marker, in order, the ids of the
    passages it quotes (none for a refusal's text or a sentence not quoted whole)."""
    pieces = _CITATION_MARKER.split(without_quote_phrase(message.content))
    return [retriever.ids_with_text(normalize_for_match(piece)) for piece in pieces]


def _next_to(shown: set[str], retriever: HybridRetriever) -> set[str]:
    """Passages that continue the ones answers led with: where "what else" most often is."""
    following = (retriever.next_passage(pid) for pid in shown)
    return {p.id for p in following if p is not None and p.id not in shown}
