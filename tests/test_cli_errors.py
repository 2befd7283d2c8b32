"""Bad settings and a busy port: one clear line and a documented exit code, before any model
loads (the model cache directory is never created)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import app
from tests.servers import HOST, REPO_ROOT


@pytest.fixture()
def no_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A model cache dir that loading (or exporting) the model would create."""
    cache = tmp_path / "models"
    monkeypatch.setenv("ASSISTANT_MODEL_CACHE_DIR", str(cache))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "index"))
    return cache


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("ASSISTANT_PORT", "abc", "not a port number"),
        ("ASSISTANT_PORT", "70000", "not a port number (1-65535)"),
        ("ASSISTANT_EMBEDDING_BACKEND", "bogus", "unknown embedding backend; choose one of "
         "onnx, onnx-int8, torch"),
        ("ASSISTANT_AUTH_USERS", "alice", "entry 1 is not user:password"),
        ("ASSISTANT_AUTH_USERS", "alice:s3cret,pa,ss", "entry 2 is not user:password"),
        ("ASSISTANT_THREADS", "two", "not a whole number"),
        ("ASSISTANT_TOP_K", "0", "must be 1 or more"),
        ("ASSISTANT_ANSWER_THRESHOLD", "high", "not a number"),
        ("ASSISTANT_RELOAD_INTERVAL", "-1", "must be 0 or more"),
        ("ASSISTANT_CHROMA_URL", "localhost:8000", "not a URL like http://host:port"),
        ("ASSISTANT_COLLECTION", "a b", "3-402 letters, digits, '.', '_' or '-', starting and "
         "ending with a letter or digit"),
        ("ASSISTANT_AUTH_FILE", "/no/such/file", "can't be read (FileNotFoundError)"),
        ("ASSISTANT_QUERY_ADAPTER", "/no/such/file", "no such file (none serves without a "
         "query adapter)"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("command", [["ask", "Who met?"], ["ingest"], ["serve"]])
def test_a_bad_setting_is_one_line_and_exit_2_before_the_model_loads(
    no_model: Path, monkeypatch, capsys, name: str, value: str, message: str, command: list[str]
) -> None:
    monkeypatch.setenv(name, value)
    assert app.main(command) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", f"error: {name}: {message}\n")
    assert "s3cret" not in err and "pa,ss" not in err  # never a secret, nor half of one
    assert not no_model.exists()


def test_every_bad_setting_gets_its_line(no_model: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("ASSISTANT_PORT", "abc")
    monkeypatch.setenv("ASSISTANT_EMBEDDING_BACKEND", "bogus")
    assert app.main(["ask", "Who met?"]) == 2
    assert sorted(capsys.readouterr().err.splitlines()) == [
        "error: ASSISTANT_EMBEDDING_BACKEND: unknown embedding backend; choose one of onnx, "
        "onnx-int8, torch",
        "error: ASSISTANT_PORT: not a port number",
    ]


def test_passwords_with_commas_come_from_the_auth_file(tmp_path: Path, monkeypatch) -> None:
    from assistant import load_settings

    users = tmp_path / "users"
    users.write_text("# user:password, one a line\nalice:pa,ss:word\n\nbob:x\n", encoding="utf-8")
    monkeypatch.setenv("ASSISTANT_AUTH_FILE", str(users))
    monkeypatch.setenv("ASSISTANT_AUTH_USERS", "carol:c")
    assert load_settings().login_users() == [("carol", "c"), ("alice", "pa,ss:word"), ("bob", "x")]


def test_ingest_prepare_checks_settings_too(no_model: Path, monkeypatch, capsys) -> None:
    from ingest.prepare import main

    monkeypatch.setenv("ASSISTANT_EMBEDDING_BACKEND", "bogus")
    assert main(["--index"]) == 2
    assert capsys.readouterr().err.startswith("error: ASSISTANT_EMBEDDING_BACKEND: ")
    assert not no_model.exists()


def test_serve_on_a_busy_port_says_which_and_exits_1(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind((HOST, 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "app.py", "serve", "--host", HOST, "--port", str(port)],
            cwd=REPO_ROOT,
            env={**os.environ, "ASSISTANT_MODEL_CACHE_DIR": str(tmp_path / "models")},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 1
    assert done.stderr == (
        f"error: port {port} on {HOST} is already in use (another server?); pick another with "
        "--port N or ASSISTANT_PORT=N\n"
    )
    assert "serving on" not in done.stdout + done.stderr
    assert not (tmp_path / "models").exists()
