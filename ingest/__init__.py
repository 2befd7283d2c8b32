"""Ingest: load documents → split into sentence passages with exact offsets → diff against
the served version → embed what is new → write a new version → snapshot → publish."""

from ingest.loader import SUFFIXES, IngestError, Skipped, document_text
from ingest.pipeline import IngestReport, ingest
from vectorstore import IndexLocked

__all__ = [
    "SUFFIXES",
    "IndexLocked",
    "IngestError",
    "IngestReport",
    "Skipped",
    "document_text",
    "ingest",
]
