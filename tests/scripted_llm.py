"""A tiny OpenAI-compatible chat server with scripted replies, standing in for a remote LLM
service (which can't exist here) when a test needs exact output: a wrong ``[n]``, a 5xx, a
connection cut mid-answer, a stall.

``python -m tests.scripted_llm PORT SCRIPT.json`` serves ``POST /v1/chat/completions``
(streaming and not) and ``GET /health``. The script maps a substring of the question to the
reply; the first key found in the last user message wins, ``"*"`` is the default. A reply
may start with a directive: ``!500`` (answer 500), ``!cut `` (stream the rest word by word,
then close the connection with no end), ``!stall`` (wait 60 s before answering).
"""

from __future__ import annotations

import json
import re
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

_QUESTION = re.compile(r'Question:\n"""(.*?)"""', re.DOTALL)


def reply_for(script: dict[str, str], body: dict) -> str:
    text = body["messages"][-1]["content"]
    found = _QUESTION.search(text)
    question = found[1] if found else text
    for key, reply in script.items():
        if key != "*" and key.casefold() in question.casefold():
            return reply
    return script.get("*", "I don't know.")


def _chunk(content: str | None, finish: str | None = None) -> bytes:
    delta = {} if content is None else {"content": content}
    data = {
        "id": "scripted",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "scripted",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(data)}\n\n".encode()


class Handler(BaseHTTPRequestHandler):
    script: ClassVar[dict[str, str]] = {}
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        sys.stderr.write("scripted_llm: " + format % args + "\n")

    def do_GET(self) -> None:
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        reply = reply_for(self.script, body)
        if reply.startswith("!500"):
            self._json(500, {"error": {"message": "scripted failure"}})
            return
        if reply.startswith("!stall"):
            time.sleep(60)
            reply = reply.removeprefix("!stall").strip()
        cut = reply.startswith("!cut ")
        reply = reply.removeprefix("!cut ")
        if not body.get("stream"):
            message = {"role": "assistant", "content": reply}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            self._json(200, {"id": "scripted", "object": "chat.completion", "created": 0,
                             "model": "scripted", "choices": [choice]})  # fmt: skip
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for word in re.findall(r"\S+\s*", reply):
            self._write(_chunk(word))
            time.sleep(0.01)
        if cut:  # the connection ends mid-answer: no final chunk, no [DONE]
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self._write(_chunk(None, "stop"))
        self._write(b"data: [DONE]\n\n")
        self._write(b"")

    def _write(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _json(self, status: int, data: dict) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


def main() -> None:
    port, script = int(sys.argv[1]), Path(sys.argv[2])
    Handler.script = json.loads(script.read_text(encoding="utf-8"))
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
