"""All configuration in one place, read from ``ASSISTANT_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from vectorstore.chroma_store import StoreLocation
from vectorstore.offline import configure_offline_env
from vectorstore.snapshot import SnapshotOptions

__all__ = ["REPO_ROOT", "Settings", "configure_offline_env"]

REPO_ROOT = Path(__file__).resolve().parent.parent


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
    #: The answer model's probability needed to answer; unset: the fitted threshold
    #: (``assistant/answer_model.json``).
    answer_threshold: float | None = None

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
    auth_users: str = ""
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

    @property
    def store_location(self) -> StoreLocation:
        return StoreLocation(self.index_dir, self.collection, self.chroma_url)

    @property
    def snapshot_options(self) -> SnapshotOptions:
        root = self.snapshot_dir or self.index_dir.with_name(self.index_dir.name + ".snapshots")
        return SnapshotOptions(root, self.exact_search_max, self.ef_search)
