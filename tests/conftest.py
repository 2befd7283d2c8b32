"""Shared fixtures: one real model and one real Chroma index per test session.

Loading the model and building the index are the slow parts, so they are session-scoped;
tests that change an index build their own in a temporary directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import REPO_ROOT, Settings, configure_offline_env

configure_offline_env()

#: Web servers (one per access mode) and chromium, shared by the web test modules.
pytest_plugins = ["tests.web_fixtures"]

DEV_QUESTIONS = REPO_ROOT / "tests" / "data" / "dev_questions.jsonl"
CALIBRATION = REPO_ROOT / "tests" / "data" / "calibration.jsonl"
CORPUS = REPO_ROOT / "data" / "korea_china_summit.txt"
ARTIFACTS = REPO_ROOT / "artifacts"
MULTIDOC_CORPUS = REPO_ROOT / "evaluation" / "sets" / "multidoc" / "corpus"


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def base_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings with the index and feedback DB in a session temp dir (never the dev's .index)."""
    root = tmp_path_factory.mktemp("session")
    return Settings(
        data_dir=REPO_ROOT / "data",
        index_dir=root / "index",
        feedback_db=root / "feedback.sqlite3",
    )


@pytest.fixture(scope="session")
def embedder(base_settings: Settings):
    from assistant import load_embedder

    return load_embedder(base_settings)


@pytest.fixture(scope="session")
def indexed_settings(base_settings: Settings, embedder) -> Settings:
    """``base_settings`` with the default corpus ingested."""
    from ingest import ingest

    ingest(base_settings, embedder)
    return base_settings


@pytest.fixture(scope="session")
def assistant(indexed_settings: Settings, embedder):
    from assistant import build_assistant

    return build_assistant(indexed_settings, embedder)


@pytest.fixture(scope="session")
def multidoc_settings(tmp_path_factory: pytest.TempPathFactory, embedder) -> Settings:
    """Our multi-document corpus (eight short articles on overlapping topics), ingested."""
    from ingest import ingest

    root = tmp_path_factory.mktemp("multidoc")
    settings = Settings(data_dir=MULTIDOC_CORPUS, index_dir=root / "index")
    ingest(settings, embedder)
    return settings


@pytest.fixture(scope="session")
def multidoc_assistant(multidoc_settings: Settings, embedder):
    from assistant import build_assistant

    return build_assistant(multidoc_settings, embedder)


@pytest.fixture()
def fresh_settings(tmp_path: Path) -> Iterator[Settings]:
    """Settings with an empty data dir and index of the test's own."""
    data = tmp_path / "data"
    data.mkdir()
    yield Settings(data_dir=data, index_dir=tmp_path / "index", feedback_db=tmp_path / "fb.db")


@pytest.fixture()
def summit_settings(fresh_settings: Settings) -> Settings:
    """:func:`fresh_settings` with the summit article in its data dir (not yet ingested)."""
    (fresh_settings.data_dir / "summit.txt").write_text(
        CORPUS.read_text(encoding="utf-8"), encoding="utf-8"
    )
    return fresh_settings
