"""The Gradio chat: full page at ``/`` and a compact, frameable view at ``/embed``.

The conversation lives in the page, not the server: a hidden JSON component holds the raw
turns (questions and answer objects) and travels with every question, and the chat bubbles are
re-rendered from it. Any replica can therefore answer any page.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from assistant import Assistant, InvalidQuestion, Message
from web import render
from web.feedback import FeedbackStore
from web.render import SourceViewer

EXAMPLES = (
    "What did Lee raise about Hanwha Ocean?",
    "How many agreements were signed?",
    "Who is the president of France?",
)

Turn = dict[str, Any]

CSS = """
.a-text, .q-text { white-space: pre-wrap; overflow-wrap: anywhere; }
.searched, .reason { margin-top: .4em; font-size: .85em; opacity: .75; }
.sources { margin-top: .6em; font-size: .9em; }
.sources-title { font-weight: 600; }
details.source summary { cursor: pointer; }
details.source .paragraph { margin: .3em 0 .5em 1em; }
.a-error { color: var(--error-text-color, #b91c1c); }
"""

EMBED_CSS = (
    CSS
    + """
footer, .show-api { display: none !important; }
.gradio-container { padding: 4px !important; min-height: 0 !important; }
"""
)


def history_of(conversation: list[Turn]) -> list[Message]:
    """The turns the assistant should see: refused questions and their errors are left out."""
    return [
        Message("user" if t.get("role") == "user" else "assistant", str(t.get("content", "")))
        for t in conversation
        if not t.get("error") and not t.get("rejected")
    ]


def bubbles(conversation: list[Turn], viewer: SourceViewer) -> list[dict[str, str]]:
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
            content = render.answer_message(turn["answer"], viewer)
            messages.append({"role": "assistant", "content": content})
    return messages


class ChatHandlers:
    """The event functions, bound to one assistant, source viewer and feedback store."""

    def __init__(self, assistant: Assistant, viewer: SourceViewer, feedback: FeedbackStore):
        self.assistant = assistant
        self.viewer = viewer
        self.feedback = feedback

    def chat(
        self, question: str, conversation: list[Turn] | None
    ) -> Iterator[tuple[list[dict[str, str]], list[Turn], str]]:
        """Answer ``question`` in ``conversation``, streaming the answer into the chat."""
        conversation = [t for t in conversation or [] if isinstance(t, dict)]
        question = question if isinstance(question, str) else ""
        try:
            self.assistant.validate(question)
        except InvalidQuestion as exc:
            done = [
                *conversation,
                {"role": "user", "content": question, "rejected": True},
                {"role": "assistant", "content": str(exc), "error": True},
            ]
            yield bubbles(done, self.viewer), done, question if exc.kind == "too_long" else ""
            return
        asked = [*conversation, {"role": "user", "content": question}]
        waiting = {"role": "assistant", "content": "<div class='a-text'>…</div>"}
        yield [*bubbles(asked, self.viewer), waiting], conversation, ""
        answer: dict[str, Any] = {}
        for partial in self.assistant.stream(question, history_of(conversation)):
            answer = partial.to_dict()
            partial = render.answer_message(answer, self.viewer, final=False)
            shown = {"role": "assistant", "content": partial}
            yield [*bubbles(asked, self.viewer), shown], conversation, ""
        done = [*asked, {"role": "assistant", "content": answer["answer"], "answer": answer}]
        yield bubbles(done, self.viewer), done, ""

    def like(self, conversation: list[Turn] | None, data: gr.LikeData) -> None:
        """Store a like/dislike with the question, answer and citations it is about."""
        conversation = conversation or []
        index = data.index if isinstance(data.index, int) else data.index[0]
        if not 0 <= index < len(conversation) or "answer" not in conversation[index]:
            return
        answer = conversation[index]["answer"]
        if data.liked is True or data.liked == "Like":
            rating = "like"
        elif data.liked is False or data.liked == "Dislike":
            rating = "dislike"
        else:
            rating = str(data.liked) or "none"
        self.feedback.record(
            rating, answer["question"], answer["answer"], answer.get("citations") or []
        )


def build_chat(
    assistant: Assistant,
    viewer: SourceViewer,
    feedback: FeedbackStore,
    *,
    compact: bool = False,
) -> gr.Blocks:
    """The chat page; ``compact`` drops the header, examples and footer for iframes."""
    handlers = ChatHandlers(assistant, viewer, feedback)
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
            buttons=["copy"],
            placeholder="Ask a question about the news.",
        )
        with gr.Row(equal_height=True):
            question = gr.Textbox(
                show_label=False,
                placeholder="Ask about the news…",
                elem_id="question",
                scale=6,
                lines=1,
                max_lines=4,
                autofocus=not compact,
            )
            send = gr.Button("Ask", variant="primary", elem_id="ask", scale=1, min_width=80)
            clear = gr.Button("Clear", elem_id="clear", scale=0, min_width=80)
        if not compact:
            with gr.Row(elem_id="examples"):
                gr.Markdown("Try:")
                example_buttons = [gr.Button(q, size="sm") for q in EXAMPLES]
        else:
            example_buttons = []

        gr.on(
            triggers=[question.submit, send.click],
            fn=handlers.chat,
            inputs=[question, conversation],
            outputs=[chatbot, conversation, question],
            api_name="chat",
            show_progress="minimal",
        )
        for button, text in zip(example_buttons, EXAMPLES, strict=False):
            button.click(
                lambda text=text: text, outputs=question, api_visibility="private", queue=False
            ).then(
                handlers.chat,
                inputs=[question, conversation],
                outputs=[chatbot, conversation, question],
                api_visibility="private",
                show_progress="minimal",
            )
        clear.click(
            lambda: ([], [], ""),
            outputs=[chatbot, conversation, question],
            api_visibility="private",
            queue=False,
        )
        chatbot.clear(lambda: [], outputs=conversation, api_visibility="private", queue=False)
        chatbot.like(handlers.like, inputs=[conversation], api_visibility="private")
    demo.queue(default_concurrency_limit=4)
    return demo
