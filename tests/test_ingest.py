"""Ingest against a real Chroma directory and the real model: idempotent, incremental, safe."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant import Settings, build_assistant
from ingest import ingest
from ingest.loader import IngestError, document_text
from tests.conftest import CORPUS
from vectorstore.chroma_store import PassageStore

ARTICLE = CORPUS.read_text(encoding="utf-8")


def _write(settings: Settings, name: str, text: str | bytes) -> Path:
    path = settings.data_dir / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _sources(settings: Settings, embedder) -> set[str]:
    store = PassageStore.open(settings.store_location, embedder.space)
    return {p.source for p in store.stored()}


def test_offsets_are_exact_for_every_passage(fresh_settings: Settings, embedder) -> None:
    _write(fresh_settings, "summit.txt", ARTICLE)
    _write(fresh_settings, "notes.md", "# Notes\n\nDr. Kim met Mr. Park at noon.\nIt rained.\n")
    ingest(fresh_settings, embedder)
    passages = PassageStore.open(fresh_settings.store_location, embedder.space).passages()
    assert len(passages) == 21 + 3
    for p in passages:
        assert document_text(fresh_settings.data_dir / p.source)[p.start : p.end] == p.text


def test_unchanged_reingest_embeds_nothing(fresh_settings: Settings, embedder) -> None:
    _write(fresh_settings, "summit.txt", ARTICLE)
    first = ingest(fresh_settings, embedder)
    assert first.added == 21
    again = ingest(fresh_settings, embedder)
    assert (again.added, again.moved, again.removed, again.unchanged) == (0, 0, 0, 21)


def test_edit_reembeds_only_changed_passages(fresh_settings: Settings, embedder) -> None:
    _write(fresh_settings, "summit.txt", ARTICLE)
    ingest(fresh_settings, embedder)
    edited = ARTICLE.replace(
        "Security concerns also played a key role.",
        "Security concerns also played a central role in the talks.",
    ).replace("The meeting aimed", "The one-day meeting aimed")
    _write(fresh_settings, "summit.txt", edited)
    report = ingest(fresh_settings, embedder)
    # Two sentences changed: two embedded, two old ones removed; later sentences only moved.
    assert (report.added, report.removed) == (2, 2)
    assert report.moved > 0
    assert report.added + report.moved + report.unchanged == 21
    passages = PassageStore.open(fresh_settings.store_location, embedder.space).passages()
    assert all(edited[p.start : p.end] == p.text for p in passages)


def test_deleted_file_passages_are_gone(fresh_settings: Settings, embedder) -> None:
    _write(fresh_settings, "summit.txt", ARTICLE)
    extra = _write(fresh_settings, "extra.txt", "Gyeongju hosted the APEC leaders. It was busy.")
    ingest(fresh_settings, embedder)
    assert _sources(fresh_settings, embedder) == {"summit.txt", "extra.txt"}
    extra.unlink()
    report = ingest(fresh_settings, embedder)
    assert report.removed == 2 and report.sources_removed == ["extra.txt"]
    assert _sources(fresh_settings, embedder) == {"summit.txt"}


def test_ingesting_another_path_keeps_other_sources(
    fresh_settings: Settings, embedder, tmp_path: Path
) -> None:
    _write(fresh_settings, "summit.txt", ARTICLE)
    ingest(fresh_settings, embedder)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "memo.txt").write_text("The memo is short. It has two sentences.")
    report = ingest(fresh_settings, embedder, [elsewhere])
    assert report.added == 2 and report.removed == 0
    assert len(_sources(fresh_settings, embedder)) == 2


def test_documents_outside_the_data_dir_are_named_without_a_server_path(
    fresh_settings: Settings, embedder, tmp_path: Path
) -> None:
    """Citations show source names: one from outside ``data/`` is relative to the folder that
    was ingested (its own name kept), never an absolute path; a re-ingest still removes it."""
    feeds = tmp_path / "srv" / "feeds"
    (feeds / "2025").mkdir(parents=True)
    (feeds / "2025" / "doc005.txt").write_text("The memo is short. It has two sentences.")
    (feeds / "gone.txt").write_text("This file will be deleted. Its passages must go too.")
    ingest(fresh_settings, embedder, [feeds])
    assert _sources(fresh_settings, embedder) == {"feeds/2025/doc005.txt", "feeds/gone.txt"}
    (feeds / "gone.txt").unlink()
    report = ingest(fresh_settings, embedder, [feeds])
    assert report.sources_removed == ["feeds/gone.txt"]
    assert _sources(fresh_settings, embedder) == {"feeds/2025/doc005.txt"}


def test_non_utf8_and_empty_files_are_warned_and_skipped(
    fresh_settings: Settings, embedder
) -> None:
    _write(fresh_settings, "summit.txt", ARTICLE)
    _write(fresh_settings, "latin1.txt", "Caf\xe9 cr\xe8me in Gyeongju.".encode("latin-1"))
    _write(fresh_settings, "empty.md", "  \n")
    messages: list[str] = []
    report = ingest(fresh_settings, embedder, log=messages.append)
    assert report.added == 21
    assert {s.source for s in report.skipped} == {"latin1.txt", "empty.md"}
    warnings = [m for m in messages if m.startswith("warning")]
    assert any("latin1.txt" in m and "UTF-8" in m for m in warnings)
    assert any("empty.md" in m and "empty" in m for m in warnings)
    assert _sources(fresh_settings, embedder) == {"summit.txt"}


def test_unreadable_file_mid_run_leaves_previous_index_answering(
    fresh_settings: Settings, embedder
) -> None:
    _write(fresh_settings, "a_summit.txt", ARTICLE)
    ingest(fresh_settings, embedder)
    # A new document, then a file that exists but can't be read (EIO even for root).
    _write(fresh_settings, "b_new.txt", "A brand new sentence about ports. Another one here.")
    os.symlink("/proc/self/mem", fresh_settings.data_dir / "c_unreadable.txt")
    with pytest.raises(IngestError, match=r"c_unreadable\.txt"):
        ingest(fresh_settings, embedder)
    assert _sources(fresh_settings, embedder) == {"a_summit.txt"}
    answer = build_assistant(fresh_settings, embedder).ask("How many agreements were signed?")
    assert answer.status == "answered" and "seven" in answer.answer


def test_missing_path_is_a_clear_error(fresh_settings: Settings, embedder) -> None:
    with pytest.raises(IngestError, match="No such file or directory"):
        ingest(fresh_settings, embedder, [fresh_settings.data_dir / "nope"])


def test_changing_the_embedding_backend_reembeds_and_stale_queries_fail_loudly(
    fresh_settings: Settings, embedder
) -> None:
    from assistant import load_embedder
    from vectorstore.chroma_store import IndexUnavailable

    _write(fresh_settings, "summit.txt", ARTICLE)
    ingest(fresh_settings, embedder)
    fp32_settings = fresh_settings.model_copy(update={"embedding_backend": "onnx"})
    fp32 = load_embedder(fp32_settings)
    assert fp32.space != embedder.space
    with pytest.raises(IndexUnavailable, match="was built with embeddings"):
        build_assistant(fp32_settings, fp32)
    messages: list[str] = []
    report = ingest(fp32_settings, fp32, log=messages.append)
    assert report.added == 21 and any("re-embedding everything" in m for m in messages)
    assert build_assistant(fp32_settings, fp32).ask("Who met at the summit?").status == "answered"


def test_appending_a_paragraph_moves_nothing(fresh_settings: Settings, embedder) -> None:
    article = ARTICLE.rstrip("\n") + "\n"
    _write(fresh_settings, "summit.txt", article)
    ingest(fresh_settings, embedder)
    before = PassageStore.open(fresh_settings.store_location, embedder.space).passages()
    _write(fresh_settings, "summit.txt", article + "\nThe talks will resume in spring.\n")
    report = ingest(fresh_settings, embedder)
    assert (report.added, report.moved, report.removed, report.unchanged) == (1, 0, 0, 21)
    after = PassageStore.open(fresh_settings.store_location, embedder.space).passages()
    assert after[:21] == before
    assert after[21].text == "The talks will resume in spring."
    assert after[21].paragraph == before[-1].paragraph + 1


def test_formats_html_text_and_one_line_for_the_rest(fresh_settings: Settings, embedder) -> None:
    _write(fresh_settings, "a.md", "# Notes\n\nDr. Kim met Mr. Park at noon.\n")
    _write(fresh_settings, "b.markdown", "Markdown files count too.\n")
    _write(
        fresh_settings,
        "c.html",
        "<!doctype html><html><head><title>T</title><style>p{color:red}</style>"
        "<script>var x = '<p>no</p>';</script></head><body><h1>Port &amp; trade</h1>"
        "<p>Busan&#8217;s port   grew.\nIt <b>doubled</b> its trade.</p><ul><li>One item.</li>"
        "</ul></body></html>",
    )
    _write(fresh_settings, "d.htm", "<p>An htm page.</p>")
    _write(fresh_settings, "e.pdf", b"%PDF-1.4 binary")
    _write(fresh_settings, "f.pdf", b"%PDF-1.4 binary")
    _write(fresh_settings, "g.docx", b"PK\x03\x04")
    _write(fresh_settings, ".hidden.txt", "Hidden files are not read.")
    _write(fresh_settings, "examples.questions", "The chat's examples, not a document?\n")
    messages: list[str] = []
    report = ingest(fresh_settings, embedder, log=messages.append)
    summary = [m for m in messages if "not read" in m]
    assert summary == [
        "skipped 3 file(s) of types that are not read: 1 .docx, 2 .pdf (only .txt, .md, "
        ".markdown, .html, .htm are ingested; convert others to text first)"
    ]
    store = PassageStore.open(fresh_settings.store_location, embedder.space)
    passages = store.passages()
    assert {p.source for p in passages} == {"a.md", "b.markdown", "c.html", "d.htm"}
    assert report.files == 4
    html = [p for p in passages if p.source == "c.html"]
    assert [(p.paragraph, p.text) for p in html] == [
        (0, "Port & trade"),
        (1, "Busan’s port grew."),
        (1, "It doubled its trade."),
        (2, "One item."),
    ]
    for p in passages:  # offsets index the extracted (and cleaned) text
        assert document_text(fresh_settings.data_dir / p.source)[p.start : p.end] == p.text


def test_control_characters_are_removed_at_load(fresh_settings: Settings, embedder) -> None:
    _write(fresh_settings, "ctl.txt", "Bell\x07 and NUL\x00 gone.\r\nC1\x85 too.\tTabs stay.\x1b\n")
    ingest(fresh_settings, embedder)
    text = document_text(fresh_settings.data_dir / "ctl.txt")
    assert text == "Bell and NUL gone.\nC1 too.\tTabs stay.\n"
    passages = PassageStore.open(fresh_settings.store_location, embedder.space).passages()
    assert [p.text for p in passages] == ["Bell and NUL gone.", "C1 too.", "Tabs stay."]
    assert all(text[p.start : p.end] == p.text for p in passages)
