"""Ingest: load documents → split into sentence passages with exact offsets → diff against the
index → embed what is new → write → snapshot."""

from ingest.loader import IngestError, Skipped
from ingest.pipeline import IngestReport, ingest

__all__ = ["IngestError", "IngestReport", "Skipped", "ingest"]
