"""The question-answering core: settings, the types that travel, question analysis,
retrieval, answerability, answerers, the chain and the assistant service.

Imports nothing from ``ingest``, ``web`` or ``evaluation``; front ends import from here.
"""

from assistant import multilingual, ranking
from assistant.answerer import Answerer, ExtractiveAnswerer
from assistant.chain import ChainState
from assistant.citations import Draft
from assistant.config import (
    REPO_ROOT,
    Settings,
    SettingsError,
    configure_offline_env,
    load_settings,
)
from assistant.csv_cells import inert
from assistant.grounding import SUPPORT_THRESHOLD, check, support
from assistant.query import Query, SearchText, analyse
from assistant.query_adapter import QUERY_ADAPTER_FILE, QueryAdapter
from assistant.retrieval import PassageRetriever
from assistant.service import (
    Assistant,
    InvalidQuestion,
    build_assistant,
    build_retriever,
    load_embedder,
    load_multilingual_embedder,
)
from assistant.types import ANSWER_FIELDS, Answer, Citation, Evidence, Message, Passage, Status
from vectorstore import IndexUnavailable

__all__ = [
    "ANSWER_FIELDS",
    "QUERY_ADAPTER_FILE",
    "REPO_ROOT",
    "SUPPORT_THRESHOLD",
    "Answer",
    "Answerer",
    "Assistant",
    "ChainState",
    "Citation",
    "Draft",
    "Evidence",
    "ExtractiveAnswerer",
    "IndexUnavailable",
    "InvalidQuestion",
    "Message",
    "Passage",
    "PassageRetriever",
    "Query",
    "QueryAdapter",
    "SearchText",
    "Settings",
    "SettingsError",
    "Status",
    "analyse",
    "build_assistant",
    "build_retriever",
    "check",
    "configure_offline_env",
    "inert",
    "load_embedder",
    "load_multilingual_embedder",
    "load_settings",
    "multilingual",
    "ranking",
    "support",
]
