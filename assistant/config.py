"""All configuration in one place, read from ``ASSISTANT_*`` environment variables.

Every value is checked when the settings are read, before any model loads: a bad one is a
:class:`SettingsError` whose lines read ``ASSISTANT_PORT: not a port number`` (the CLI prints
them and exits 2). Messages never repeat a value, so a secret can't leak into a log.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.query_adapter import QUERY_ADAPTER_FILE
from vectorstore.chroma_store import StoreLocation
from vectorstore.embeddings import BACKENDS
from vectorstore.offline import configure_offline_env
from vectorstore.snapshot import SnapshotOptions

__all__ = ["REPO_ROOT", "Settings", "SettingsError", "configure_offline_env", "load_settings"]

REPO_ROOT = Path(__file__).resolve().parent.parent
#: The answerers ``ASSISTANT_ANSWERER`` may name.
ANSWERERS = ("extractive", "llm")
ENV_PREFIX = "ASSISTANT_"
#: What Chroma accepts in a collection name (we add ``__v<version>`` and such to it).
_COLLECTION = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{1,400}[A-Za-z0-9])?")
#: How pydantic's own checks (before ours) read as one line.
_TYPE_MESSAGES = {
    "int_parsing": "not a whole number",
    "int_from_float": "not a whole number",
    "float_parsing": "not a number",
    "bool_parsing": "not true or false",
    "path_type": "not a path",
    "finite_number": "not a finite number",
}


class SettingsError(ValueError):
    """One or more settings are invalid; ``lines`` has one ``ASSISTANT_X: why`` per setting."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("; ".join(lines))
        self.lines = lines


def parse_users(text: str, separator: str = ",") -> list[tuple[str, str]]:
    """``user:password`` entries (comma-separated, or one a line from a file with ``"\\n"``):
    the password is everything after the first colon; blank entries and ``#`` comments are
    ignored. The ValueError names the entry's position, never its content (a password)."""
    users = []
    for n, entry in enumerate((e.strip() for e in text.split(separator)), start=1):
        if not entry or entry.startswith("#"):
            continue
        user, sep, password = entry.partition(":")
        if not sep or not user.strip() or not password:
            raise ValueError(f"entry {n} is not user:password")
        users.append((user.strip(), password))
    return users


class Settings(BaseSettings):
    """Runtime settings; every field can be set as ``ASSISTANT_<FIELD>`` (case-insensitive)."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore")

    # Where things live
    data_dir: Path = REPO_ROOT / "data"
    index_dir: Path = REPO_ROOT / ".index"
    collection: str = "passages"
    #: When set (``http://host:port``), use a shared ``chroma run`` server instead of ``index_dir``.
    chroma_url: str | None = None
    #: Where ingest (or else start-up) saves what retrieval loads from the index (passages,
    #: vectors, BM25, HNSW) so start-up reads files instead of Chroma; default
    #: ``<index_dir>.snapshots`` (with a server too: each replica keeps its own). Safe to delete.
    snapshot_dir: Path | None = None

    # Model
    #: ``onnx-int8`` (default: the bundled model exported once to ONNX, int8 weights),
    #: ``onnx`` (fp32, the same vectors as torch) or ``torch`` (the reference).
    embedding_backend: str = "onnx-int8"
    model_cache_dir: Path = REPO_ROOT / ".models"
    #: Intra-op threads for the encoder; one is fastest for single queries on 2 cores.
    threads: int = 1
    embed_batch_size: int = 64

    #: Answer Korean, Chinese and Japanese questions (with the English sentences, cited):
    #: ingest then embeds every passage with multilingual-e5 too (~12 passages/s on 2 cores:
    #: seconds for the bundled article, hours at 243k passages), kept in the snapshot.
    #: ``auto`` (the default) builds it for corpora of up to ``multilingual_max_passages``
    #: passages (about 80 s of e5 at 1,000), where its cost is small, and not above, where it
    #: would dominate ingest (English ingest runs at ≥ 150 passages/s); ``true`` builds it
    #: at any size, ``false`` never.
    multilingual: bool | Literal["auto"] = "auto"
    multilingual_max_passages: int = 1_000

    # Retrieval and answering
    #: Passages each ranking (dense, BM25) contributes to the fusion.
    candidates: int = 20
    #: Weight of the BM25 score (scaled to the best candidate's) added to the cosine similarity.
    lexical_weight: float = 0.4
    #: Collections up to this many passages are searched exactly in memory (faster than a
    #: Chroma round trip, ~1.5 KB a passage); larger ones through an HNSW index built into
    #: the index snapshot (``vectorstore/hnsw.py``).
    exact_search_max: int = 20_000
    #: HNSW search breadth: more finds more of the true nearest passages, more slowly
    #: (243k passages: 90% of the top 20 in 0.75 ms at 128, 82% in 0.43 ms at 64).
    ef_search: int = 128
    #: Top passages the answerer may draw a second sentence from.
    top_k: int = 3
    #: Weights of a sentence's window (it and its neighbours) and of its document in the
    #: fused ranking that picks the answer model's candidates.
    window_weight: float = 0.5
    document_weight: float = 0.3
    #: The linear map applied to a question's vector before search
    #: (``assistant/query_adapter.py``), fitted on questions about the bundled corpora;
    #: ``none`` searches with the plain vector (for a corpus it was not fitted on).
    query_adapter: Path | None = QUERY_ADAPTER_FILE
    #: The answer model's probability needed to answer; unset: the fitted threshold
    #: (``assistant/answer_model.json``).
    answer_threshold: float | None = None

    # Generative answers (optional; README "Generative answers")
    #: ``extractive`` (default, no LLM) or ``llm``: an OpenAI-compatible chat model writes the
    #: answer from the passages retrieval chose; every sentence is checked against what it
    #: cites, and the extractive answer is the fallback.
    answerer: str = "extractive"
    #: The server's OpenAI-compatible base URL, ending in ``/v1`` (vLLM, Ollama, llama.cpp,
    #: OpenAI); required with ``answerer=llm``.
    llm_base_url: str | None = None
    #: The model name the server knows; required with ``answerer=llm``.
    llm_model: str | None = None
    #: Sent as ``Authorization: Bearer …`` when set; never logged nor shown in an error.
    llm_api_key: SecretStr | None = None
    #: Seconds a call may take (connect, and each wait for the next streamed chunk) before
    #: the extractive answer is given instead.
    llm_timeout: float = 30.0
    #: Longest answer the model may write, in tokens.
    llm_max_tokens: int = 200
    #: Passages the model is given, at least: those the extractive answer would quote (its
    #: best one or two), then retrieval's next best up to this many. 1 measured best with
    #: SmolLM2 (dev set: 3 passages cost 0.29 correct and 0.31 citation precision).
    llm_passages: int = 1
    #: Share of the content words the extractive answer adds to the question that the
    #: generated answer must have too, or the extractive answer is given (0: off); sentences
    #: are held back until it is reached. 0.9 chosen beforehand; on the summit tune set any
    #: value from 0.6 to 1.0 keeps the extractive answer's correct share (0 loses 0.07).
    llm_min_coverage: float = 0.9

    # Limits
    max_question_chars: int = 2000
    max_answer_chars: int = 400
    #: Earlier turns one request may carry (API ``history``, the chat's conversation): a
    #: follow-up needs only the last few, and each turn costs time and memory to process.
    max_history_turns: int = 100
    #: Characters of all those turns together.
    max_history_chars: int = 100_000
    #: Bytes of any request body, refused (413) before it is read: the largest legitimate one,
    #: the chat's conversation at ``max_history_turns``, is a few hundred KB.
    max_body_bytes: int = 1_000_000

    # Web
    host: str = "127.0.0.1"
    #: Seconds between the server's checks for a re-ingested index (0: never reload).
    reload_interval: float = 10.0
    port: int = 7860
    feedback_db: Path = REPO_ROOT / ".feedback.sqlite3"
    #: Public path prefix when a reverse proxy serves the app under a sub-path (``/qa``).
    root_path: str = ""
    #: Proxies whose ``X-Forwarded-*`` headers are trusted (comma-separated IPs, ``*`` for any).
    forwarded_allow_ips: str = "127.0.0.1"
    #: Origins allowed to call the server from their pages (CORS), comma-separated; none by
    #: default, so only pages served by this server can (same-origin).
    allowed_origins: str = ""
    #: Pages allowed to frame the chat (CSP ``frame-ancestors``), space-separated sources.
    frame_ancestors: str = "'self'"
    #: Login for the chat pages: ``user:password`` pairs, comma-separated; empty = no login.
    #: A password with a comma can't be written here: use ``auth_file``.
    auth_users: str = ""
    #: A file of ``user:password`` lines (any character but a newline in a password; ``#``
    #: lines are comments), read as well as ``auth_users``.
    auth_file: Path | None = None
    #: When set, ``/api/*`` requires ``Authorization: Bearer <api_key>``; without a login, the
    #: chat pages then ask for it too (any user name, the key as password).
    api_key: str = ""
    #: Failed logins a user name may have within ``login_window`` before it is locked (429).
    login_max_failures: int = 5
    #: Failed logins one client address may have within ``login_window``, over any user names.
    login_max_failures_per_address: int = 20
    #: Seconds a failed login counts against its user name and address.
    login_window: float = 300.0
    #: Secret that signs the answers the chat shows, so a vote can only be about an answer
    #: this server produced. Random per process when empty: replicas behind one load
    #: balancer need the same value, or a vote sent to another replica is refused.
    signing_key: str = ""
    #: Example questions under the chat's input, one per line (``#`` comments); default
    #: ``<data_dir>/examples.questions``, and a generic set when there is no such file.
    examples_file: Path | None = None

    # -- checks (each message names no value: it may be a secret) --------------------------
    @field_validator("port", mode="before")
    @classmethod
    def _port(cls, value: Any) -> int:
        try:
            port = int(str(value).strip())
        except ValueError:
            raise ValueError("not a port number") from None
        if not 0 < port < 65536:
            raise ValueError("not a port number (1-65535)")
        return port

    @field_validator("embedding_backend")
    @classmethod
    def _backend(cls, value: str) -> str:
        if value not in BACKENDS:
            raise ValueError(f"unknown embedding backend; choose one of {', '.join(BACKENDS)}")
        return value

    @field_validator(
        "threads",
        "embed_batch_size",
        "candidates",
        "top_k",
        "ef_search",
        "max_question_chars",
        "max_answer_chars",
        "llm_max_tokens",
        "llm_passages",
    )
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be 1 or more")
        return value

    @field_validator("query_adapter", mode="before")
    @classmethod
    def _query_adapter(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().casefold() in ("", "none", "off"):
            return None
        if value is not None and not Path(value).is_file():
            raise ValueError("no such file (none serves without a query adapter)")
        return value

    @field_validator("multilingual", mode="before")
    @classmethod
    def _multilingual(cls, value: Any) -> Any:
        if isinstance(value, str):
            word = value.strip().casefold()
            if word == "auto":
                return "auto"
            if word in ("true", "1", "yes", "on"):
                return True
            if word in ("false", "0", "no", "off"):
                return False
            raise ValueError("must be auto, true or false")
        return value

    @field_validator("exact_search_max", "multilingual_max_passages")
    @classmethod
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("must be 0 or more")
        return value

    @field_validator("reload_interval", "lexical_weight", "window_weight", "document_weight")
    @classmethod
    def _not_negative_float(cls, value: float) -> float:
        if not value >= 0:  # NaN too
            raise ValueError("must be 0 or more")
        return value

    @field_validator("llm_timeout")
    @classmethod
    def _positive_float(cls, value: float) -> float:
        if not value > 0:  # NaN too
            raise ValueError("must be more than 0 seconds")
        return value

    @field_validator("answerer")
    @classmethod
    def _answerer(cls, value: str) -> str:
        if value not in ANSWERERS:
            raise ValueError(f"unknown answerer; choose one of {', '.join(ANSWERERS)}")
        return value

    @field_validator("llm_base_url")
    @classmethod
    def _llm_base_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        url = urlparse(value)
        try:
            url.port  # noqa: B018 - raises on a bad port
        except ValueError:
            raise ValueError("not a URL like http://host:port/v1") from None
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError("not a URL like http://host:port/v1")
        return value

    @field_validator("llm_model", "llm_api_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _llm_configured(self) -> Settings:
        if self.answerer == "llm":
            missing = [
                f"{ENV_PREFIX}{name.upper()}: required with {ENV_PREFIX}ANSWERER=llm"
                for name in ("llm_base_url", "llm_model")
                if not getattr(self, name)
            ]
            if missing:
                raise SettingsError(missing)
        return self

    @field_validator("answer_threshold", "llm_min_coverage")
    @classmethod
    def _probability(cls, value: float | None) -> float | None:
        if value is not None and not 0.0 <= value <= 1.0:
            raise ValueError("must be a probability between 0 and 1")
        return value

    @field_validator("collection")
    @classmethod
    def _collection(cls, value: str) -> str:
        if not _COLLECTION.fullmatch(value):
            raise ValueError(
                "3-402 letters, digits, '.', '_' or '-', starting and ending with a letter or digit"
            )
        return value

    @field_validator("chroma_url")
    @classmethod
    def _chroma_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        url = urlparse(value)
        try:
            port = url.port
        except ValueError:
            port = -1
        if url.scheme not in ("http", "https") or not url.hostname or port == -1:
            raise ValueError("not a URL like http://host:port")
        return value

    @field_validator("auth_file", mode="before")
    @classmethod
    def _no_auth_file(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("auth_users")
    @classmethod
    def _auth_users(cls, value: str) -> str:
        parse_users(value)
        return value

    @model_validator(mode="after")
    def _auth_file(self) -> Settings:
        self.login_users()  # a missing or malformed file fails here, not at the first login
        return self

    def login_users(self) -> list[tuple[str, str]]:
        """(user, password) pairs for the chat login, from ``auth_users`` and ``auth_file``;
        empty when login is off."""
        users = parse_users(self.auth_users)
        if self.auth_file is not None:
            try:
                text = Path(self.auth_file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise _setting_error("auth_file", f"can't be read ({type(exc).__name__})") from None
            try:
                users += parse_users(text, "\n")
            except ValueError as exc:
                raise _setting_error("auth_file", str(exc).replace("entry", "line")) from None
        return users

    @property
    def examples_path(self) -> Path:
        """The chat's example questions: a settings file beside the documents, not one of them."""
        return self.examples_file or self.data_dir / "examples.questions"

    @property
    def store_location(self) -> StoreLocation:
        return StoreLocation(self.index_dir, self.collection, self.chroma_url)

    @property
    def snapshot_options(self) -> SnapshotOptions:
        root = self.snapshot_dir or self.index_dir.with_name(self.index_dir.name + ".snapshots")
        return SnapshotOptions(root, self.exact_search_max, self.ef_search)

    def multilingual_for(self, passages: int) -> bool:
        """Whether ingest builds the multilingual index for a corpus of this many passages."""
        if self.multilingual == "auto":
            return passages <= self.multilingual_max_passages
        return self.multilingual


def _setting_error(field: str, message: str) -> SettingsError:
    return SettingsError([f"{ENV_PREFIX}{field.upper()}: {message}"])


def describe_errors(exc: ValidationError) -> list[str]:
    """One ``ASSISTANT_X: why`` line per invalid setting (our own words, never the value)."""
    lines = []
    for error in exc.errors():
        name = f"{ENV_PREFIX}{str(error['loc'][0]).upper()}" if error["loc"] else "settings"
        if error["type"] == "value_error":
            cause = error.get("ctx", {}).get("error")
            if isinstance(cause, SettingsError) and len(cause.lines) > 1:
                lines += cause.lines
                continue
            message = (
                cause.lines[0].split(": ", 1)[1] if isinstance(cause, SettingsError) else str(cause)
            )
            if isinstance(cause, SettingsError):
                name = cause.lines[0].split(": ", 1)[0]
        else:
            message = _TYPE_MESSAGES.get(error["type"], "invalid value")
        lines.append(f"{name}: {message}")
    return lines


def load_settings(**overrides: Any) -> Settings:
    """The settings from the environment (and ``overrides``), or :class:`SettingsError`."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(describe_errors(exc)) from None
