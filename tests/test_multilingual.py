"""Korean, Chinese and Japanese questions over the English article: the real e5 model, the
real index, the real chain (CLI, API, chat and evaluation all go through it)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from assistant import Message, Settings, build_assistant
from assistant.script import QUOTE_PHRASES, question_language
from ingest import ingest
from tests.conftest import CORPUS
from vectorstore import PassageStore
from vectorstore.chroma_store import open_client
from vectorstore.multilingual import MultilingualEmbedder
from vectorstore.snapshot import MULTILINGUAL_FILE, load_index


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("한중 양국은 몇 개의 협정에 서명했나요?", "ko"),
        ("李在明总统提出了什么问题？", "zh"),
        ("両首脳は何を話し合いましたか？", "ja"),
        ("習近平主席は何を求めましたか", "ja"),  # kana among the kanji
        ("习近平主席呼吁什么", "zh"),  # ideographs only
        ("What did Lee raise about Hanwha Ocean?", None),
        ("Was sagte Präsident Xi über Gyeongju?", None),
        ("Who is 习近平 and what did he say at the summit?", None),  # mostly Latin
        ("APEC 회의는 어디서 열렸나요?", "ko"),  # mostly Hangul
        ("12345 ?", None),
    ],
)
def test_questions_are_routed_by_their_script(text: str, language: str | None) -> None:
    assert question_language(text) == language


@pytest.mark.parametrize(
    ("question", "language", "gold"),
    [
        ("정상회담 후 두 나라는 몇 개의 협정에 서명했나요?", "ko", "signed seven agreements"),
        ("李在明总统就韩华海洋提出了什么问题？", "zh", "Chinese sanctions on US-based"),
        (
            "両首脳は西海についてどんな問題を話し合いましたか？",
            "ja",
            "maritime issues in the West Sea",
        ),
    ],
)
def test_a_cjk_question_is_answered_with_the_english_sentence_cited(
    assistant, question: str, language: str, gold: str
) -> None:
    answer = assistant.ask(question)
    assert answer.status == "answered", answer.reason
    assert answer.answer.startswith(QUOTE_PHRASES[language])  # type: ignore[index]
    assert gold in answer.citations[0].text
    article = CORPUS.read_text(encoding="utf-8")
    for c in answer.citations:  # the same exact citations as English answers
        assert article[c.start : c.end] == c.text
        assert f"[{c.n}]" in answer.answer


@pytest.mark.parametrize(
    "question",
    [
        "BTS의 다음 월드 투어는 언제 시작하나요?",  # a name the article never uses
        "中韩货币互换协议的规模是多少？",  # a number the article doesn't give
        "日本の首相は誰ですか？",
    ],
)
def test_a_cjk_question_the_article_does_not_answer_is_refused(assistant, question: str) -> None:
    answer = assistant.ask(question)
    assert answer.status == "not_found"
    assert answer.citations == []
    assert answer.reason


def test_a_korean_follow_up_to_an_english_question(assistant) -> None:
    first = "Who did Lee Jae Myung meet in Gyeongju?"
    earlier = assistant.ask(first)
    history = [Message("user", first), Message("assistant", earlier.answer)]
    answer = assistant.ask("그 회담은 몇 분 동안 진행됐어?", history)
    assert answer.status == "answered", answer.reason
    assert "100-minute summit" in answer.citations[0].text
    assert first in answer.search_query  # the English turn was searched with it


def test_an_english_follow_up_to_a_korean_question(assistant) -> None:
    first = "이재명 대통령은 한화오션과 관련해 어떤 문제를 제기했나요?"
    earlier = assistant.ask(first)
    assert "Hanwha Ocean" in earlier.citations[0].text
    history = [Message("user", first), Message("assistant", earlier.answer)]
    assert "cultural exports since 2016" in earlier.answer  # it leans on the first: quoted
    answer = assistant.ask("What else did he note?", history)
    assert answer.status == "answered", answer.reason
    # what else he noted: the sentence quoted as the first's continuation, not the first again
    assert answer.citations[0].text.startswith("He also noted")
    led = (earlier.citations[0].start, earlier.citations[0].end)
    assert led not in {(c.start, c.end) for c in answer.citations}
    assert "sanctions" in answer.search_query  # carried from the Korean turn's English answer


def test_a_cjk_answer_streams(assistant) -> None:
    chunks = list(assistant.stream("정상회담 후 두 나라는 몇 개의 협정에 서명했나요?"))
    assert chunks[-1].status == "answered"
    assert chunks[-1].answer.startswith(QUOTE_PHRASES["ko"])


def test_with_multilingual_search_off_a_cjk_question_is_refused_saying_so(
    indexed_settings: Settings, embedder
) -> None:
    off = build_assistant(indexed_settings.model_copy(update={"multilingual": False}), embedder)
    answer = off.ask("정상회담 후 두 나라는 몇 개의 협정에 서명했나요?")
    assert answer.status == "not_found" and answer.citations == []
    assert "multilingual search is off" in (answer.reason or "")
    english = off.ask("How many agreements were signed?")
    assert english.status == "answered"


def _multilingual_vectors(settings: Settings, embedder) -> tuple[list[str], np.ndarray | None]:
    store = PassageStore.open(settings.store_location, embedder.space)
    index = load_index(store, settings.snapshot_options)
    return [p.id for p in index.passages], index.multilingual


def test_ingest_keeps_e5_vectors_and_embeds_only_new_passages(
    fresh_settings: Settings, embedder
) -> None:
    article = CORPUS.read_text(encoding="utf-8")
    (fresh_settings.data_dir / "summit.txt").write_text(article, encoding="utf-8")
    messages: list[str] = []
    ingest(fresh_settings, embedder, log=messages.append)
    assert any("embedding 21 passage(s) with multilingual-e5" in m for m in messages)
    ids, vectors = _multilingual_vectors(fresh_settings, embedder)
    assert vectors is not None and vectors.shape == (21, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)

    messages.clear()  # nothing changed: nothing written, nothing embedded
    ingest(fresh_settings, embedder, log=messages.append)
    assert not any("multilingual-e5" in m for m in messages)

    extra = "Both leaders will meet again next year in Beijing."
    (fresh_settings.data_dir / "summit.txt").write_text(f"{article}{extra}\n", encoding="utf-8")
    messages.clear()
    ingest(fresh_settings, embedder, log=messages.append)
    assert any("embedding 1 passage(s) with multilingual-e5" in m for m in messages)
    new_ids, new_vectors = _multilingual_vectors(fresh_settings, embedder)
    assert new_vectors is not None and len(new_ids) == 22
    old = dict(zip(ids, vectors, strict=True))
    for pid, vector in zip(new_ids, new_vectors, strict=True):
        if pid in old:
            assert np.array_equal(vector, old[pid])  # copied, not re-embedded


def test_a_snapshot_without_e5_vectors_refuses_cjk_until_the_next_ingest(
    summit_settings: Settings, embedder
) -> None:
    ingest(summit_settings, embedder)
    location = summit_settings.store_location
    version = str(PassageStore.current_version(location))
    open_client(location).delete_collection(location.multilingual_name(version))
    for file in summit_settings.snapshot_options.root.glob(f"*/{MULTILINGUAL_FILE}"):
        file.unlink()
    question = "정상회담 후 두 나라는 몇 개의 협정에 서명했나요?"
    answer = build_assistant(summit_settings, embedder).ask(question)
    assert answer.status == "not_found" and "run `python app.py ingest`" in (answer.reason or "")
    ingest(summit_settings, embedder)  # no change to the documents: only the vectors are added
    assert build_assistant(summit_settings, embedder).ask(question).status == "answered"


def test_auto_skips_the_multilingual_index_above_its_corpus_size_and_says_so(
    summit_settings: Settings, embedder
) -> None:
    """``auto`` (the default) builds the e5 vectors for small corpora only: above the cap,
    ingest says it skipped them, CJK questions are refused giving the size as the reason, and
    English ones are answered; ``true`` builds them at any size."""
    assert summit_settings.multilingual == "auto"
    capped = summit_settings.model_copy(update={"multilingual_max_passages": 20})  # 21 passages
    messages: list[str] = []
    ingest(capped, embedder, log=messages.append)
    assert any("multilingual index not built: 21 passages" in m for m in messages)
    assert _multilingual_vectors(capped, embedder)[1] is None
    assistant = build_assistant(capped, embedder)
    refused = assistant.ask("정상회담 후 두 나라는 몇 개의 협정에 서명했나요?")
    assert refused.status == "not_found" and refused.citations == []
    assert "off for a corpus this large" in (refused.reason or "")
    assert assistant.ask("How many agreements were signed?").status == "answered"

    forced = capped.model_copy(update={"multilingual": True})
    ingest(forced, embedder)  # documents unchanged: only the vectors are added
    assert _multilingual_vectors(forced, embedder)[1] is not None


def test_e5_answers_concurrent_callers_on_at_most_two_copies_with_the_same_vectors() -> None:
    """A server's threads embed at once, each on its own copy of the engine (it isn't
    documented thread-safe): the vectors are those of one caller at a time, and no more
    copies are loaded than allowed (85 MB each)."""
    environment = os.environ.get("OMP_NUM_THREADS")
    embedder = MultilingualEmbedder(engines=2)
    questions = [f"정상회담에서 {n}번째로 논의된 것은 무엇인가요?" for n in range(12)]
    alone = [embedder.embed_query(q) for q in questions]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(embedder.embed_query, questions))
    assert all(np.array_equal(a, b) for a, b in zip(alone, together, strict=True))
    assert 1 <= embedder.engines_loaded <= 2
    assert os.environ.get("OMP_NUM_THREADS") == environment  # each load restores it
