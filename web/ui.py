"""The Gradio chat: full page at ``/`` and a compact, frameable view at ``/embed/``.

The conversation lives in the page, not the server: a hidden JSON component holds the raw
turns (questions and answer objects) and travels with every question, and the chat bubbles are
re-rendered from it. Any replica can therefore answer any page. Because the page can change
what it sends back, every answer carries the server's signature (:mod:`web.signing`), and a
vote is stored only for a signed answer; the conversation is bounded like the API's history.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import gradio as gr

from assistant import Assistant, InvalidQuestion, Message, Settings
from vectorstore import clean_text, without_invalid
from web import render
from web.documents import Library
from web.feedback import FeedbackStore
from web.limits import ConversationTooLong, check_conversation
from web.signing import AnswerSigner

log = logging.getLogger(__name__)

Turn = dict[str, Any]
Bubble = dict[str, str]

CSS = """
.a-text, .q-text { white-space: pre-wrap; overflow-wrap: anywhere; }
.searched, .reason, .written { margin-top: .4em; font-size: .85em; opacity: .75; }
.sources { margin-top: .6em; font-size: .9em; }
.sources-title { font-weight: 600; }
details.source summary { cursor: pointer; }
details.source .paragraph { margin: .3em 0 .5em 1em; }
.a-error { color: var(--error-text-color, #b91c1c); }
.copy-text { display: none; }
button.copy-answer { margin-top: .5em; padding: .1em .7em; font-size: .8em; cursor: pointer;
  border: 1px solid var(--border-color-primary); border-radius: var(--radius-sm);
  background: var(--background-fill-secondary); color: var(--body-text-color); }
#vote-status { font-size: .85em; opacity: .75; min-height: 0 !important; }
#vote-status .html-container { padding: 0 !important; }
/* Votes are for answers: none on errors, nor on an answer still streaming. */
#chat .message-row:has(.a-error) + .message-buttons,
#chat .message-row:has(.a-text:not(.final)) + .message-buttons { display: none !important; }
/* The placeholder starts below the "Conversation" label, never under it. */
#chat .placeholder-content, #chat .placeholder { padding-top: 2.2em; }
#ask-row { flex-wrap: nowrap !important; align-items: stretch; }
#ask-row > * { min-width: 0 !important; }
#ask, #clear { flex: 0 0 auto !important; min-width: 64px !important; }
#examples { flex-wrap: wrap !important; gap: 6px; }
#examples > * { flex: 0 1 auto !important; min-width: 0 !important; }
#documents table { width: 100%; font-size: .9em; border-collapse: collapse; }
#documents th, #documents td { text-align: left; padding: .2em .5em .2em 0; }
#documents td.file { font-family: var(--font-mono); font-size: .85em; overflow-wrap: anywhere;
  min-width: 8em; }
"""

EMBED_CSS = (
    CSS
    + """
footer, .show-api { display: none !important; }
.gradio-container { padding: 4px !important; min-height: 0 !important; }
"""
)

#: Runs once in the page: the Copy button of each answer copies its plain text (with sources),
#: through the clipboard API where the page is a secure context, else a hidden text area.
COPY_JS = """
() => {
  const copy = async (text) => {
    try { await navigator.clipboard.writeText(text); return true; } catch (error) {}
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    let done = false;
    try { done = document.execCommand("copy"); } catch (error) {}
    area.remove();
    return done;
  };
  document.addEventListener("click", async (event) => {
    const button = event.target.closest ? event.target.closest("button.copy-answer") : null;
    if (!button) return;
    event.preventDefault();
    event.stopPropagation();
    const source = button.parentElement && button.parentElement.querySelector(".copy-text");
    const done = await copy(source ? source.textContent : "");
    button.textContent = done ? "Copied" : "Copy failed";
    setTimeout(() => { button.textContent = "Copy"; }, 1500);
  }, true);
}
"""

TRY_AGAIN = "Something went wrong while answering; please ask again."


def history_of(conversation: Sequence[Turn]) -> list[Message]:
    """The turns the assistant should see: refused questions and their errors are left out."""
    return [
        Message("user" if t.get("role") == "user" else "assistant", str(t.get("content", "")))
        for t in conversation
        if not t.get("error") and not t.get("rejected")
    ]


def all_turns(conversation: Sequence[Turn]) -> list[Message]:
    """Every turn as sent, refused ones included: what the limits count."""
    return [Message("user", str(t.get("content", ""))) for t in conversation]


def bubbles(conversation: Sequence[Turn], library: Library) -> list[Bubble]:
    """Chat messages, one per turn (so a like's index is the turn's index)."""
    messages = []
    for turn in conversation:
        if turn.get("role") == "user":
            show = render.rejected_question if turn.get("rejected") else render.user_message
            messages.append({"role": "user", "content": show(str(turn.get("content", "")))})
        elif turn.get("error"):
            content = render.error_message(str(turn.get("content", "")))
            messages.append({"role": "assistant", "content": content})
        elif isinstance(turn.get("answer"), dict):
            content = render.answer_message(turn["answer"], library)
            messages.append({"role": "assistant", "content": content})
    return messages


def vote_status(message: str, *, vote_id: int | None = None, rating: str = "") -> str:
    """A muted line under the chat saying what happened to a vote; tests and pages can wait
    for its ``data-vote-id`` (the stored row) rather than poll the database."""
    return (
        f'<span class="vote" data-vote-id="{vote_id or ""}" data-rating="{html.escape(rating)}">'
        f"{html.escape(message)}</span>"
    )


def _minute(iso: str | None) -> str:
    """``2026-11-29T14:32:38+00:00`` → ``2026-11-29 14:32`` (the column says UTC)."""
    return iso[:16].replace("T", " ") if iso else "–"


def documents_html(library: Library) -> str:
    """The Documents panel: each ingested document with its file, passages and ingest time."""
    documents = library.documents()
    if not documents:
        return "<p>No documents are indexed yet.</p>"
    rows = "".join(
        f"<tr><td>{html.escape(d.title)}</td><td class='file'>{html.escape(d.source)}</td>"
        f"<td>{d.passages}</td><td>{html.escape(_minute(d.ingested_at))}</td>"
        "</tr>"
        for d in documents
    )
    return (
        "<table><thead><tr><th>Title</th><th>File</th><th>Passages</th><th>Ingested (UTC)</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


class ChatHandlers:
    """The event functions, bound to one assistant, library, feedback store and signer."""

    def __init__(
        self,
        assistant: Assistant,
        library: Library,
        feedback: FeedbackStore,
        signer: AnswerSigner,
        settings: Settings,
    ) -> None:
        self.assistant = assistant
        self.library = library
        self.feedback = feedback
        self.signer = signer
        self.settings = settings

    def chat(
        self, question: Any, conversation: Any
    ) -> Iterator[tuple[list[Bubble], list[Turn], str]]:
        """Answer ``question`` in ``conversation``, streaming the answer into the chat.

        Nothing here raises: an unexpected failure becomes an error bubble, never Gradio's
        error overlay (which would leave the chat waiting)."""
        turns = [t for t in conversation or [] if isinstance(t, dict)]
        asked = question if isinstance(question, str) else ""
        try:
            yield from self._chat(asked, turns)
        except Exception:
            log.exception("the chat failed to answer")
            failed = {"role": "assistant", "content": TRY_AGAIN, "error": True}
            yield [*bubbles(turns, self.library), *bubbles([failed], self.library)], turns, ""

    def _chat(
        self, question: str, conversation: list[Turn]
    ) -> Iterator[tuple[list[Bubble], list[Turn], str]]:
        cleaned = clean_text(question)
        if not cleaned:  # nothing to ask (blank, or invisible characters only): no bubble
            yield bubbles(conversation, self.library), conversation, ""
            return
        try:
            check_conversation(all_turns(conversation), self.settings, chat=True)
        except ConversationTooLong as exc:
            error = {"role": "assistant", "content": str(exc), "error": True}
            recent = conversation[-self.settings.max_history_turns :]  # the page keeps the rest
            shown = [*bubbles(recent, self.library), *bubbles([error], self.library)]
            yield shown, conversation, without_invalid(question)
            return
        try:
            self.assistant.validate(cleaned)
        except InvalidQuestion as exc:
            done = [
                *conversation,
                {"role": "user", "content": cleaned, "rejected": True},
                {"role": "assistant", "content": str(exc), "error": True},
            ]
            kept = without_invalid(question) if exc.kind == "too_long" else ""
            yield bubbles(done, self.library), done, kept
            return
        asked = [*conversation, {"role": "user", "content": cleaned}]
        shown = bubbles(asked, self.library)
        waiting = {"role": "assistant", "content": "<div class='a-text'>…</div>"}
        yield [*shown, waiting], conversation, ""
        answer: dict[str, Any] = {}
        answer_id = self.signer.new_id()
        for partial in self.assistant.stream(cleaned, history_of(conversation), id=answer_id):
            answer = partial.to_dict()
            content = render.answer_message(answer, self.library, final=False)
            yield [*shown, {"role": "assistant", "content": content}], conversation, ""
        turn = {
            "role": "assistant",
            "content": answer["answer"],
            "answer": answer,
            "sig": self.signer.sign(answer),
        }
        done = [*asked, turn]
        yield bubbles(done, self.library), done, ""

    def like(self, conversation: Any, data: gr.LikeData) -> str:
        """Store a vote on a signed answer (one per answer; an undo removes it)."""
        turns = conversation if isinstance(conversation, list) else []
        index = data.index if isinstance(data.index, int) else data.index[0]
        turn = turns[index] if isinstance(index, int) and 0 <= index < len(turns) else None
        if not isinstance(turn, dict) or not self.signer.verify(
            turn.get("answer"), turn.get("sig")
        ):
            return vote_status(
                "This answer can't be rated (it did not come from this server).", rating="refused"
            )
        answer = turn["answer"]
        if data.liked is True or data.liked == "Like":
            rating = "like"
        elif data.liked is False or data.liked == "Dislike":
            rating = "dislike"
        else:
            self.feedback.withdraw(answer["id"])
            return vote_status("Rating removed.", rating="none")
        vote_id = self.feedback.record(
            answer["id"], rating, answer["question"], answer["answer"], answer["citations"] or []
        )
        return vote_status("Thanks, your rating was saved.", vote_id=vote_id, rating=rating)


def build_chat(
    handlers: ChatHandlers, examples: Sequence[str], *, compact: bool = False
) -> gr.Blocks:
    """The chat page; ``compact`` drops the header, examples, documents and footer for iframes."""
    library = handlers.library
    with gr.Blocks(title="News QA assistant", fill_height=True, fill_width=compact) as demo:
        if not compact:
            gr.Markdown(
                "# News QA assistant\nAsk about the news articles; every sentence of an answer "
                "cites its source. Open a source to see the sentence in its paragraph."
            )
        conversation = gr.JSON(value=[], visible=False)
        chatbot = gr.Chatbot(
            label="Conversation",
            elem_id="chat",
            height=None if compact else 520,
            scale=1,
            min_height=200,
            sanitize_html=True,
            allow_tags=False,
            latex_delimiters=[],
            feedback_options=("Like", "Dislike"),
            buttons=[],
            placeholder="Ask a question about the news.",
        )
        with gr.Row(equal_height=True, elem_id="ask-row"):
            question = gr.Textbox(
                show_label=False,
                placeholder="Your question…",
                elem_id="question",
                scale=6,
                min_width=0,
                lines=1,
                max_lines=4,
                autofocus=not compact,
                container=False,
            )
            send = gr.Button("Ask", variant="primary", elem_id="ask", scale=0, min_width=64)
            clear = gr.Button("Clear", elem_id="clear", scale=0, min_width=64)
        vote = gr.HTML("", elem_id="vote-status", padding=False)
        example_buttons = []
        if not compact:
            with gr.Row(elem_id="examples"):
                gr.Markdown("Try:")
                example_buttons = [gr.Button(q, size="sm") for q in examples]
            with gr.Accordion("Documents", open=False, elem_id="documents"):
                documents = gr.HTML("")
            demo.load(
                lambda: documents_html(library),
                outputs=documents,
                api_visibility="private",
                show_progress="hidden",
            )

        ask = {
            "fn": handlers.chat,
            "inputs": [question, conversation],
            "outputs": [chatbot, conversation, question],
            "show_progress": "minimal",
            "api_visibility": "private",
        }
        gr.on(triggers=[question.submit, send.click], **ask)
        for button, text in zip(example_buttons, examples, strict=False):
            button.click(None, js=f"() => {json.dumps(text)}", outputs=question).then(**ask)
        clear.click(
            None, js="() => [[], [], '', '']", outputs=[chatbot, conversation, question, vote]
        )
        chatbot.clear(None, js="() => [[], '']", outputs=[conversation, vote])
        chatbot.like(handlers.like, inputs=[conversation], outputs=vote, api_visibility="private")
    demo.queue(default_concurrency_limit=4)
    return demo
