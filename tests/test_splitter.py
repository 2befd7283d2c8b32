"""Sentence passages keep exact offsets and never cross a paragraph."""

from __future__ import annotations

from ingest.splitter import split_document
from tests.conftest import CORPUS


def _texts(text: str) -> list[str]:
    passages = split_document("doc", text)
    assert all(text[p.start : p.end] == p.text for p in passages)
    return [p.text for p in passages]


def test_article_splits_into_its_sentences_with_paragraphs() -> None:
    text = CORPUS.read_text(encoding="utf-8")
    passages = split_document("summit", text)
    assert len(passages) == 21
    assert [p.paragraph for p in passages][:6] == [0, 0, 0, 1, 1, 1]
    assert passages[1].text.startswith("The move came during a 100-minute summit")
    assert passages[-1].paragraph == 7


def test_abbreviations_initials_and_quotes_do_not_end_sentences() -> None:
    assert _texts('Dr. Kim met Mr. J. Park at 3 p.m. on Monday. "It went well." He left!') == [
        "Dr. Kim met Mr. J. Park at 3 p.m. on Monday.",
        '"It went well."',
        "He left!",
    ]


def test_every_line_is_a_paragraph_with_or_without_blank_lines() -> None:
    text = "# Title\n\nFirst line of a\nwrapped sentence. Second one?\n\nNew paragraph."
    passages = split_document("md", text)
    assert [(p.paragraph, p.text) for p in passages] == [
        (0, "# Title"),
        (1, "First line of a"),
        (2, "wrapped sentence."),
        (2, "Second one?"),
        (3, "New paragraph."),
    ]


def test_appending_a_paragraph_after_a_blank_line_changes_nothing_before_it() -> None:
    text = CORPUS.read_text(encoding="utf-8").rstrip("\n") + "\n"
    before = split_document("summit", text)
    after = split_document("summit", text + "\nA new closing paragraph was added. It has two.\n")
    assert after[: len(before)] == before
    assert [p.text for p in after[len(before) :]] == [
        "A new closing paragraph was added.",
        "It has two.",
    ]
    assert {p.paragraph for p in after[len(before) :]} == {before[-1].paragraph + 1}


def test_crlf_unicode_and_repeated_sentences_keep_offsets_and_distinct_ids() -> None:
    text = "Ünïcode “quotes” work… Yes.\r\nSame.\r\nSame.\r\n"
    passages = split_document("u", text)
    assert [p.text for p in passages] == ["Ünïcode “quotes” work…", "Yes.", "Same.", "Same."]
    assert len({p.id for p in passages}) == 4
    assert all(text[p.start : p.end] == p.text for p in passages)


def test_ids_depend_on_content_not_position() -> None:
    before = split_document("d", "Alpha one. Beta two.")
    after = split_document("d", "New start here. Alpha one. Beta two.")
    assert {p.id for p in before} <= {p.id for p in after}
