"""Answer quality on the public dev set and on our own calibration set, through the real chain.

The dev set runs through ``python app.py eval`` (in-process), exactly as evaluators run it.
"""

from __future__ import annotations

import json

import pytest

import app
from assistant import Answer, Settings
from evaluation.questions import Question, load_jsonl
from evaluation.scoring import is_correct
from ingest import document_text
from tests.conftest import CALIBRATION, DEV_QUESTIONS


@pytest.fixture(scope="module")
def dev_answers(
    indexed_settings: Settings, tmp_path_factory: pytest.TempPathFactory, monkeypatch_module
) -> list[tuple[Question, Answer]]:
    out = tmp_path_factory.mktemp("dev-eval")
    monkeypatch_module.setenv("ASSISTANT_INDEX_DIR", str(indexed_settings.index_dir))
    assert app.main(["eval", str(DEV_QUESTIONS), "--out", str(out)]) == 0
    questions, problems = load_jsonl(DEV_QUESTIONS)
    assert not problems
    rows = [json.loads(line) for line in (out / "answers.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == [q.id for q in questions]
    return [(q, Answer.from_dict(r)) for q, r in zip(questions, rows, strict=True)]


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def _failures(pairs: list[tuple[Question, Answer]]) -> list[str]:
    return [
        f"{q.id} {q.question!r} -> {a.status}: {a.answer!r} (searched {a.search_query!r})"
        for q, a in pairs
        if not is_correct(q, a)
    ]


def test_every_dev_question_is_right(dev_answers: list[tuple[Question, Answer]]) -> None:
    assert _failures(dev_answers) == []


def test_dev_set_has_all_three_kinds(dev_answers: list[tuple[Question, Answer]]) -> None:
    kinds = {(q.answerable, bool(q.history)) for q, _ in dev_answers}
    assert {(True, False), (True, True), (False, False)} <= kinds


def test_refusals_carry_no_sources_and_answers_are_short(
    dev_answers: list[tuple[Question, Answer]],
) -> None:
    for q, a in dev_answers:
        if q.answerable is False:
            assert a.status == "not_found" and a.citations == []
        else:
            assert len(a.answer) <= 400 and 1 <= len(a.citations) <= 3
            # every citation is referenced in the answer
            assert all(f"[{c.n}]" in a.answer for c in a.citations)


def test_follow_ups_search_with_the_conversation(
    dev_answers: list[tuple[Question, Answer]],
) -> None:
    follow_ups = [(q, a) for q, a in dev_answers if q.history]
    assert follow_ups
    for q, a in follow_ups:
        assert a.search_query.startswith(q.question)


def test_every_citation_points_at_its_exact_source_text(
    dev_answers: list[tuple[Question, Answer]], indexed_settings: Settings
) -> None:
    cited = [c for _, a in dev_answers for c in a.citations]
    assert len(cited) >= 14
    for c in cited:
        source = document_text(indexed_settings.data_dir / c.source)
        assert source[c.start : c.end] == c.text


def test_calibration_set_beyond_the_dev_set(assistant) -> None:
    """Our own questions (refusals, paraphrases, follow-ups), part of what the answer model
    was fitted on (not the query adapter): at most two of 40 may fail. Measured: c24 alone (a
    follow-up refused) before the query adapter; with it c24 is right, and c23 ("What else did
    he note?" after Hanwha Ocean: "Both leaders agreed …" comes before "He also noted …") and
    c39 (tariffs, which the article never names, answered with the economic talks) fail."""
    questions, problems = load_jsonl(CALIBRATION)
    assert not problems and len(questions) >= 25
    pairs = [(q, assistant.replay(q.history, q.question, id=q.id)) for q in questions]
    assert len(_failures(pairs)) <= 2, _failures(pairs)


def test_what_else_skips_what_the_last_answer_led_with(assistant) -> None:
    """ "What else" skips the sentence an earlier answer led with, not the ones it quoted
    after it: "He also noted …" was quoted as the first's continuation, and it is what else
    he noted (tune: every "what else" follow-up was wrong while the answer skipped every
    quoted sentence and the ranker couldn't see what continues them)."""
    first = assistant.ask("What did Lee raise about Hanwha Ocean?")
    from assistant import Message

    history = [Message("user", first.question), Message("assistant", first.answer)]
    assert first.citations[0].text.startswith("President Lee raised")
    assert "cultural" in first.answer
    again = assistant.ask("What else did he note?", history)
    assert again.status == "answered"
    assert again.citations[0].text.startswith("He also noted")
    led = (first.citations[0].start, first.citations[0].end)
    assert led not in {(c.start, c.end) for c in again.citations}


@pytest.mark.parametrize(
    ("question", "leaning"),
    [
        # Two sentences on: "… communication channel. This system will … It also reflects …"
        ("What does reopening the communication channel reflect?", "It also reflects"),
        # its subject a pronoun after an opening phrase: "Despite differences, they agreed …"
        (
            "After talking about the West Sea and the submarines, what did the leaders agree?",
            "Despite differences, they agreed",
        ),
        # no word of the question in it, but the first holds what the question puts aside
        ("Other than the Hanwha Ocean sanctions, what complaint did Lee raise?", "He also noted"),
        ("Apart from the seven pacts, what else came out of the summit?", "They also renewed"),
    ],
)
def test_a_sentence_that_leans_on_the_answer_is_quoted_first_with_its_context(
    assistant, question: str, leaning: str
) -> None:
    """What the question asks about a sentence's subject is said in a later sentence that
    refers back to it, holding a word of the question the first lacks ("*reflect*",
    "*agree*") or leaving out what the question puts aside and the first holds ("Other than
    the *sanctions*"): the answer quotes it first, and the sentence it leans on after it, each
    cited."""
    answer = assistant.ask(question)
    assert answer.status == "answered" and 2 <= len(answer.citations) <= 3
    first, context = answer.citations[0], answer.citations[1]
    assert first.text.startswith(leaning)
    assert context.source == first.source and context.end <= first.start
    n = len(answer.citations)
    assert answer.answer.endswith(f"[{n}]") and len(answer.answer) <= 400


@pytest.mark.parametrize(
    ("question", "first"),
    [
        # the sentence after ("They also renewed … deal") adds no word the question asks with
        ("What did the two nations sign after the summit?", "After the summit, both nations"),
        # a count is asked: the sentence offering it stays first, though the one leaning on
        # it ("They also renewed a major won-yuan currency swap *deal*") holds "deals" and it
        # doesn't
        ("How many deals did they sign?", "After the summit, both nations signed seven"),
    ],
)
def test_a_sentence_leaning_on_the_answer_stays_second_unless_it_holds_what_is_asked(
    assistant, question: str, first: str
) -> None:
    answer = assistant.ask(question)
    assert answer.citations[0].text.startswith(first)
    assert len(answer.citations) >= 2  # the sentence after it is still quoted


def test_words_the_documents_never_use_pull_towards_what_they_paraphrase(
    assistant, indexed_settings, embedder
) -> None:
    """A word the documents never use that paraphrases what the best sentence says ("kind of
    *vessels*" for submarines, the *goal* of a meeting for what it aimed at) draws the search
    to it; one that asks for a detail no sentence gives ("*invite*", "fraud *cases*") draws
    the search away from the sentences it would otherwise land on (one of the three best: their
    order is the ranker's business, and moves when it is refitted). Read in the
    encoder's own space: through the query adapter, which maps whole questions, "vessels"
    pulls -0.003 (the question is answered with the submarines all the same)."""
    from assistant import build_assistant

    plain = indexed_settings.model_copy(update={"query_adapter": None})
    pipeline = build_assistant(plain, embedder).engine.pipeline
    vessels = assistant.ask("Which kind of vessels does Seoul plan to develop?")
    assert vessels.status == "answered" and "submarines" in vessels.citations[0].text

    def pulls(question: str) -> list[float]:
        """The pull on the three best candidates ("The meeting aimed …", "President Xi
        concluded the meeting …" and "Both governments now aim …" for the goal of the
        meeting, close enough for the answer to quote more than one)."""
        inputs = {"question": question, "history": []}
        state = pipeline.judge(pipeline.rank(pipeline.retrieve(pipeline.resolve(inputs))))
        return [e.absent_pull for e in state.chosen.evidence[:3]]

    for paraphrase in (
        "Which kind of vessels does Seoul plan to develop?",
        "What was the goal of the meeting?",
    ):
        assert max(pulls(paraphrase)) > 0.01, paraphrase
    for detail in (
        "Did Xi invite Lee to visit Beijing?",
        "What fraud cases led to the anti-fraud agreement?",
    ):
        assert min(pulls(detail)) < -0.01, detail


@pytest.mark.parametrize(
    "question",
    [
        # A capital for the government the text names otherwise (WordNet: part of North Korea)
        "What did Seoul want Beijing to do about Pyongyang?",
        # An acronym of words the text spells out
        "Which stage of the FTA did the economic talks cover?",
    ],
)
def test_names_the_text_says_otherwise_are_not_unknown(assistant, question: str) -> None:
    answer = assistant.ask(question)
    assert answer.status == "answered", answer.reason


def test_an_acronym_of_a_name_the_text_uses_is_known_and_a_place_it_never_names_is_not(
    assistant,
) -> None:
    """Acronyms WordNet spells out ("PRC" and "DPRK" are China and North Korea) and a
    country's initials ("ROK": Republic of Korea, whose common name is South Korea) name what
    the article names; India, Japan and Taiwan it never names (WordNet also calls Taiwan's
    government "China": only an acronym is read as another name)."""
    from assistant.query import analyse

    features = assistant.engine.pipeline.features
    for question, unknown in (
        ("Which security matters did the ROK and PRC delegations discuss?", ()),
        ("What did Xi say about the DPRK?", ()),
        ("What did Lee say about India, Japan and Taiwan?", ("India", "Japan", "Taiwan")),
    ):
        assert features.unknown_names(analyse(question)) == unknown, question


def test_initials_stand_for_the_countries_whose_names_they_begin() -> None:
    from assistant.countries import named_by

    assert "south korea" in named_by("ROK") and "china" in named_by("PRC")
    assert "north korea" in named_by("DPRK") and "united states" in named_by("USA")
    assert not named_by("Rok") and not named_by("APEC") and not named_by("FTA")


def test_a_question_no_passage_shares_a_word_with_is_refused_whatever_its_scores(
    assistant,
) -> None:
    """No candidate holds a word of the question, or one that means it: the veto refuses
    before the decision (fitted on few such questions, it answered "What's a *good* recipe for
    kimchi?" at 0.72). That one is refused by the decision now (0.43): since the query
    adapter, its candidates hold "benefit", which WordNet gives for "good"."""
    pipeline = assistant.engine.pipeline
    for question, vetoed in (
        ("What's the recipe for kimchi?", True),
        ("What's a good recipe for kimchi?", False),
    ):
        inputs = {"question": question, "history": []}
        state = pipeline.judge(pipeline.rank(pipeline.retrieve(pipeline.resolve(inputs))))
        assert state.chosen is not None
        if vetoed:
            assert state.chosen.vetoed_by == "nothing_matched" and state.chosen.confidence == 0.0
        answer = assistant.ask(question)
        assert answer.status == "not_found" and not answer.citations
        assert "never mention" in (answer.reason or "")


def test_words_carried_from_the_last_turn_are_not_held_against_a_follow_up(assistant) -> None:
    """The first turn uses a word the article doesn't ("wrap up"); it is carried into the
    follow-up's search for context, but only the follow-up's own words count as never used."""
    from assistant import Message

    first = "How did Xi wrap up the meeting?"
    history = [Message("user", first), Message("assistant", assistant.ask(first).answer)]
    answer = assistant.ask("What should that cooperation achieve, in his view?", history)
    assert "wrap" in answer.search_query
    assert answer.status == "answered", answer.reason
    assert "expand common interests" in answer.answer


def test_what_readers_call_the_article_is_no_word_it_must_use(assistant) -> None:
    """ "What's the story with …" asks about the sanctions; "story" names the article, as
    "report" does, so the documents never using it is no sign they can't answer."""
    answer = assistant.ask("whats the story with the ship builder being penalised by the chinese")
    assert answer.status == "answered", answer.reason
    assert "sanctions on US-based subsidiaries" in answer.answer.split("[1]")[0]


def test_a_weekday_is_a_time_not_a_name_and_may_is_not_a_month() -> None:
    """ "On Tuesday" offers no answer to "which group" (it would make any dated sentence look
    like it names someone)."""
    from assistant.answer_type import answers_of, expected_type

    asked = expected_type("What is the name of the shipping group that ordered the carriers?")
    sentence = "Hanwha Ocean said on Tuesday it had won an order from a shipping group."
    assert "Tuesday" not in answers_of(asked, sentence)
    assert answers_of(expected_type("When did Hanwha Ocean win the order?"), sentence)
    # A month is a time when written as one: the modal "may" is not.
    when = expected_type("When will the talks resume?")
    assert answers_of(when, "The talks may resume soon.") == []
    assert answers_of(when, "The talks resume in May.") == ["May"]


def test_a_word_for_a_kind_of_the_class_asked_for_matches_it(assistant) -> None:
    """ "Which type of *vessel* …" is answered by "*submarines*", four steps below it in WordNet
    (one more than a broader word may be); the lead-like last sentence, which shares "Seoul"
    and nothing of the class, goes second."""
    from assistant.lexicon import load_lexicon

    lexicon = load_lexicon()
    assert lexicon.names_a_kind_of("vessel", ["nuclear", "submarines"])
    assert not lexicon.matches("vessel", ["nuclear", "submarines"])
    assert not lexicon.names_a_kind_of("vessel", ["leaders", "summit", "seoul"])
    answer = assistant.ask("Which type of vessel does Seoul want to build?")
    assert "submarines" in answer.citations[0].text


def test_the_class_a_question_asks_for_is_not_a_word_the_documents_must_use() -> None:
    """ "Which *city*" is answered by "Gyeongju": the class word is what the answer is a
    member of, not a topic the text must name; "What did …" asks for no class."""
    from assistant.answer_type import expected_type
    from assistant.question_words import asked_class

    assert asked_class("Which city was it in?") == ["city"]
    assert asked_class("What sort of atomic boats does Korea want?") == ["atomic", "boats"]
    assert asked_class("Which organisation's gathering was it?")[0] == "organisation"
    assert asked_class("What did the two countries sign?") == []
    # "whole name" asks for the long form of a name, as "full name" does
    assert asked_class("the korean guy is Lee something - what's his whole name?") == [
        "whole",
        "name",
    ]
    assert expected_type("what's his whole name?").kind == "full_name"


def test_a_follow_up_naming_only_the_class_of_its_answer_builds_on_the_conversation(
    assistant,
) -> None:
    """ "By which government?" names what kind of answer it wants, not a topic of its own:
    searched alone it lands on "Both governments now aim …"; with the conversation, on the
    sanctions it asks about."""
    from assistant import Message
    from assistant.query import depends_on_context, resolve

    assert depends_on_context("By which government?")
    assert not depends_on_context("Which currency deal did Seoul and Beijing renew?")
    assert resolve("By which country?", ["Hanwha Ocean units sanctioned"]).fallbacks == ()
    first = "So Hanwha Ocean's units in America got sanctioned?"
    history = [Message("user", first), Message("assistant", assistant.ask(first).answer)]
    answer = assistant.ask("By which government?", history)
    assert answer.status == "answered", answer.reason
    assert "Chinese sanctions" in answer.citations[0].text


def test_an_elliptical_follow_up_asks_for_the_kind_of_answer_the_turn_before_did(
    assistant,
) -> None:
    """ "And the Chinese one?" asks the previous question (a full name) of another thing; a
    follow-up that asks its own question keeps its own kind."""
    from assistant import Message
    from assistant.query import analyse

    first = "What's the full name of the South Korean president?"
    history = [Message("user", first), Message("assistant", assistant.ask(first).answer)]
    for elliptical in ("And the Chinese one?", "what about China's"):
        assert analyse(elliptical, history).answer_type.kind == "full_name"
    for own in ("Did they meet?", "Any about fraud?", "And what did he say?"):
        assert analyse(own, history).answer_type is None
    answer = assistant.ask("And the Chinese one?", history)
    assert answer.status == "answered", answer.reason
    assert "Xi Jinping" in answer.citations[0].text
    # What was counted may be what the follow-up replaces: the swap has no figure, but an answer.
    first = "How many agreements did they sign?"
    history = [Message("user", first), Message("assistant", assistant.ask(first).answer)]
    assert analyse("And the currency swap?", history).answer_type is None
    swap = assistant.ask("And the currency swap?", history)
    assert swap.status == "answered" and "currency swap" in swap.citations[0].text


def test_context_chains_through_a_follow_up_that_names_its_own_topic(assistant) -> None:
    """ "And for how many minutes?" names a topic of its own, so it is searched alone; the next
    turn, "Which city was it in?", still builds on the meeting the first turn asked about."""
    from assistant import Message

    history: list[Message] = []
    for turn in ("Who did Lee Jae Myung meet at APEC?", "And for how many minutes?"):
        history += [
            Message("user", turn),
            Message("assistant", assistant.ask(turn, history).answer),
        ]
    answer = assistant.ask("Which city was it in?", history)
    assert "apec" in answer.search_query.casefold()
    assert answer.status == "answered", answer.reason
    assert "Gyeongju" in answer.answer


def test_as_well_asks_for_something_not_yet_given() -> None:
    from assistant.query import analyse

    assert analyse("Did they renew anything as well?").wants_new
    assert not analyse("How well did the talks go?").wants_new


def test_plural_classes_and_amounts_ask_for_a_kind_of_answer() -> None:
    """ "Which *ministers* signed …" wants names as "which minister" does, and "what is the
    *value* of the swap" or "how *big* is it" a number: a sentence without one doesn't answer
    them. "How big a role …" asks how much it mattered, not for a number."""
    from assistant.answer_type import answers_of, expected_type

    ministers = expected_type("Which ministers signed the seven agreements?")
    assert ministers is not None and ministers.kind == "name"
    for asked in ("What was the value of the currency swap?", "How big is the won-yuan swap?"):
        value = expected_type(asked)
        assert value is not None and value.kind == "count", asked
        assert answers_of(value, "They also renewed a major won-yuan currency swap deal.") == []
        assert answers_of(value, "The swap is worth 70 trillion won.")
    assert expected_type("How large, in dollars or won, is the swap line?").kind == "count"
    assert expected_type("How big a role did security play?") is None


def test_a_size_the_documents_never_give_is_refused(assistant) -> None:
    """The article calls the swap "major" but gives no figure."""
    answer = assistant.ask("How large is the currency swap deal they renewed?")
    assert answer.status == "not_found" and not answer.citations
    assert assistant.ask("How big a role did security play?").status == "answered"


def test_a_reason_asked_is_a_causal_or_purpose_link_in_the_sentence() -> None:
    """ "Why …", "what was the purpose of …", "what prompted …" ask for a reason: a sentence
    gives one through a link ("aimed to", "after", "to avoid …"), not by naming the thing
    asked about; "since 2016" says when, and "to the region" is no purpose."""
    from assistant.answer_type import answers_of, expected_type, offers_new_answer
    from vectorstore.analysis import stems

    for asked in (
        "Why did China sanction the shipbuilder's US units?",
        "What was the purpose of the get-together?",
        "what prompted the new stage",
        "Did Beijing explain why it penalised them?",
        "For what reason were the curbs imposed?",
    ):
        found = expected_type(asked)
        assert found is not None and found.kind == "reason", asked
    assert expected_type("What did the two leaders discuss?") is None
    why = expected_type("Why did they agree to keep talking?")
    raised = "President Lee raised the issue of Chinese sanctions on US-based subsidiaries."
    assert answers_of(why, raised) == []
    assert answers_of(why, "He noted restrictions on cultural exports since 2016.") == []
    assert answers_of(why, "Swaps rose to 15 billion dollars, up to the region.") == []
    aim = "The meeting aimed to strengthen bilateral relations."
    assert answers_of(why, aim) == ["aimed to", "to strengthen"]
    # a purpose the question itself states is no answer to it
    agreed = "They agreed to maintain open communication."
    assert not offers_new_answer(why, agreed, stems("Why did they agree to maintain contact?"))
    assert offers_new_answer(why, agreed + " to avoid misunderstandings", stems("Why?"))


def test_a_reason_the_documents_never_give_is_refused(assistant) -> None:
    """The article says China sanctioned the units, not why."""
    answer = assistant.ask(
        "What reason did Beijing give for penalising Hanwha Ocean's American subsidiaries?"
    )
    assert answer.status == "not_found" and not answer.citations
    answer = assistant.ask("Why did the two presidents meet, according to the article?")
    assert answer.status == "answered"
    assert answer.citations[0].text.startswith("The meeting aimed to strengthen")


def test_a_count_asked_by_its_noun_and_counted_in_other_words() -> None:
    """Terse questions ask "number of pacts …", "what's the size …", "length of the talks":
    counts and durations as "how many" and "how long" are. A count of *deals* is answered by
    "seven *agreements*" (WordNet: a deal is an agreement); a number before other nouns counts
    none of them, and a question word before "number of" still decides the kind."""
    from assistant.answer_type import answers_of, expected_type
    from assistant.lexicon import load_lexicon

    lexicon = load_lexicon()
    deals = expected_type("number of deals signed once the Lee-Xi talks ended?")
    assert deals is not None and deals.kind == "count" and deals.counted == {"deal", "sign"}
    assert expected_type("What was the total number of agreements?").kind == "count"
    assert expected_type("what's the size of that currency deal").kind == "count"
    assert expected_type("What was the length of the Lee–Xi summit?").kind == "duration"
    signed = "After the summit, both nations signed seven agreements covering innovation."
    assert answers_of(deals, signed) == []
    assert answers_of(deals, signed, lexicon) == ["seven"]
    lead = "The move came during a 100-minute summit between President Lee and President Xi."
    assert answers_of(deals, lead, lexicon) == []
    since = expected_type("Since when has the number of fishing boats near Incheon grown?")
    assert since is not None and since.kind == "time"
    carriers = expected_type("How many LNG carriers did Hanwha Ocean win an order to build?")
    order = "It won an order to build seven liquefied natural gas (LNG) carriers."
    assert answers_of(carriers, order) == ["seven"]
    pledge = expected_type("How much investment did Seoul pledge?")
    assert answers_of(pledge, "Seoul pledged $350 billion in investment.")[0] == "350"
    meetings = expected_type("How many times had Lee and Xi met before?")
    assert answers_of(meetings, lead, lexicon) == []
    workers = expected_type("How many people work at the memory plant?")
    assert answers_of(workers, "The plant will house seven production lines.", lexicon) == []
    # what is counted is the noun phrase after "how many", not a word of the rest
    priorities = expected_type("How many priorities did the APEC ministers' statement set out?")
    assert answers_of(priorities, "Ministers from the 21 APEC economies met on Jeju.") == []
    assert answers_of(priorities, "The statement set out seven priorities.") == ["seven"]


def test_a_sum_an_ordinal_and_a_time_since_answer_how_much_how_many_and_how_long() -> None:
    """ "How much is the order worth?" asks for money, which any number doesn't give; "a *third*
    steel structure" says how many there are; "since 2016" and "a decade" say how long."""
    from assistant.answer_type import answers_of, expected_type

    worth = expected_type("How much is Hanwha Ocean's new LNG carrier order worth?")
    assert worth is not None and worth.kind == "money"
    order = "It won an order worth about 2.3 trillion won ($1.6 billion) on Tuesday."
    assert answers_of(worth, order) == ["2.3 trillion won", "$1.6 billion"]
    assert answers_of(worth, "Starlight Avenue performed before 40,000 fans.") == []
    assert expected_type("How much investment did Seoul pledge?").kind == "count"
    structures = expected_type("How many steel structures has China now installed?")
    third = "China had installed a third steel structure in a jointly managed fishing zone."
    assert answers_of(structures, third) == ["third"]
    assert answers_of(structures, "The second stage of the free trade agreement.") == []
    since = expected_type("How long has that been the case?")
    assert since is not None and since.kind == "duration"
    assert answers_of(since, "He noted restrictions on cultural exports since 2016.") == [
        "since 2016"
    ]
    assert answers_of(since, "The limits lasted for nearly a decade.") == ["a decade"]
    assert answers_of(since, "They discussed the second stage.") == []


def test_a_later_sentence_holding_what_the_lead_lacks_beats_the_lead(
    multidoc_settings, embedder, multidoc_assistant
) -> None:
    """The lead names the article's topic ("Hanwha Ocean said on Tuesday it had won an order
    …") and so matches most of the question; the sentence that holds what else it asks
    ("*Chief executive* Park Jae-won told reporters …") is the answer: the ranker puts it
    first. It is unsure (0.30), so e5's second opinion ranks instead, and e5 finds the lead
    closest (z-score 5.3 against 1.8): the answer then quotes it third, still cited (the
    trade measured in README, "e5's second opinion")."""
    from assistant import build_assistant

    question = "Who is the chief executive of Hanwha Ocean, per the LNG carrier report?"
    ranker_alone = build_assistant(
        multidoc_settings.model_copy(update={"multilingual": False}), embedder
    )
    answer = ranker_alone.ask(question)
    assert answer.status == "answered"
    assert answer.citations[0].text.startswith("Chief executive Park Jae-won")
    seconded = multidoc_assistant.ask(question)
    assert seconded.status == "answered"
    assert any(c.text.startswith("Chief executive Park Jae-won") for c in seconded.citations)


@pytest.mark.parametrize(
    "question",
    ["How long was the meeting?", "How long did the meeting last?", "How long did the talks last?"],
)
def test_the_sentence_with_the_asked_for_kind_of_answer_goes_first(assistant, question) -> None:
    """ "The *meeting* aimed …" holds the question's word but no length of time; the runner-up
    "… a *100-minute* summit …" holds one and is quoted first ("last" only asks how long)."""
    answer = assistant.ask(question)
    assert answer.status == "answered", answer.reason
    assert "100-minute" in answer.citations[0].text


def test_two_parts_whose_best_sentence_is_the_same_cite_two_sentences(assistant) -> None:
    """Both parts rank the "Xi expressed support …" sentence first; the first part takes it and
    the second its next best, so the answer cites one sentence a part."""
    answer = assistant.ask("What did Xi express about Lee's efforts, and what did he call for?")
    assert answer.status == "answered", answer.reason
    texts = [c.text for c in answer.citations]
    assert texts[0].startswith("Xi expressed support"), texts
    assert any("calling for continued strategic cooperation" in t for t in texts[1:]), texts


@pytest.mark.parametrize(
    ("question", "openings"),
    [
        # the first part's best names the channel; the sentence after it says what it allows
        (
            "What will the reopened high-level channel allow and what interest does it reflect?",
            ["This system will allow", "It also reflects"],
        ),
        # the second part asks about the first part's answer ("it"): the sentence after it
        (
            "What request did Lee make about North Korea, and what was Xi's reaction to it?",
            ["President Lee presented", "Xi expressed support"],
        ),
    ],
)
def test_a_part_is_answered_by_the_sentence_leaning_on_its_best(
    assistant, question: str, openings: list[str]
) -> None:
    """As a one-part question quotes first a sentence leaning on its best that holds what is
    asked, so does each part of a two-part question (one sentence a part)."""
    answer = assistant.ask(question)
    assert answer.status == "answered", answer.reason
    assert len(answer.citations) == 2
    assert [c.text[: len(o)] for c, o in zip(answer.citations, openings, strict=True)] == openings


@pytest.mark.parametrize(
    "question",
    [
        "hello, how long did the summit last?",
        "hey whats the deal with the west sea",
        "yo what did they sign",
        "quick question: who did lee meet",
    ],
)
def test_chat_before_the_question_is_not_searched(assistant, question: str) -> None:
    """Greetings and fillers the documents never use ("hello", "yo", "quick question") are
    chat, not topics they lack; the question is still shown as typed."""
    answer = assistant.ask(question)
    assert answer.status == "answered", answer.reason
    assert answer.question == question


def test_a_preamble_that_names_the_topic_or_only_joins_is_kept() -> None:
    from assistant.question_words import without_preamble

    used = {"lee", "xi"}.__contains__
    assert without_preamble("Lee and Xi: what did they sign?", used).startswith("Lee")
    assert without_preamble("And what else did they do?", used).startswith("And")
    assert without_preamble("hey, what did they sign?", used) == "what did they sign?"


@pytest.mark.parametrize(
    "chat", [" Thanks so much :)", " Please cite the source.", " Short answer is enough."]
)
def test_chat_after_the_question_changes_nothing(assistant, chat: str) -> None:
    """A courtesy after the question mark is chat: the answer is the one to the bare question
    (its words would otherwise count as words the documents never use)."""
    bare = assistant.ask("How long did the summit last?")
    answer = assistant.ask(f"How long did the summit last?{chat}")
    assert answer.status == "answered", answer.reason
    assert (answer.search_query, answer.answer) == (bare.search_query, bare.answer)
    assert answer.question.endswith(chat)


def test_what_follows_the_question_is_kept_when_it_asks_or_names_a_topic() -> None:
    from assistant.question_words import without_postamble

    used = {"company", "xi"}.__contains__
    assert without_postamble("Who bought the ships? company name", used).endswith("name")
    assert without_postamble("Any request to China? What was it?", used).endswith("it?")
    assert without_postamble("How did Xi react? tell me his words", used).endswith("words")
    assert without_postamble("What did they sign?? thx!", used) == "What did they sign??"
    assert without_postamble("no question mark, thanks", used).endswith("thanks")


def test_a_contraction_typed_without_its_apostrophe_gets_it_back(assistant) -> None:
    speller = assistant.engine.pipeline.speller
    assert speller.correct("whats the deal and didnt they sign") == (
        "what's the deal and didn't they sign"
    )


@pytest.mark.parametrize(
    "question", ["What is the Chinese president's full name?", "What is Lee's full name?"]
)
def test_a_full_name_is_the_long_form_of_a_name_the_question_points_at(
    assistant, question: str
) -> None:
    """The article names each president in full once ("President Lee Jae Myung and President
    Xi Jinping") and by the short name elsewhere ("President Lee raised …")."""
    answer = assistant.ask(question)
    assert answer.status == "answered", answer.reason
    assert "Jae Myung" in answer.citations[0].text


@pytest.mark.parametrize(
    ("question", "name"),
    [
        ("What is the surname of the Korean president?", "Lee Jae Myung"),
        ("Korean president's first and last name?", "Lee Jae Myung"),
        ("Xi's given name per this report?", "Xi Jinping"),
    ],
)
def test_a_part_of_a_name_is_asked_like_the_full_name(assistant, question: str, name: str) -> None:
    """ "Surname", "first and last name", "given name" ask for a part of the name the
    sentence writes in full: they type the question as a full name does, and the documents
    need not use those words (before, "surname" was a word the documents never use: refused)."""
    from assistant.answer_type import expected_type
    from assistant.question_words import asked_class

    assert expected_type(question).kind == "full_name"
    assert set(asked_class(question)) & {"surname", "first", "last", "given"}
    answer = assistant.ask(question)
    assert answer.status == "answered", answer.reason
    assert name in answer.citations[0].text


def test_the_first_question_word_decides_the_kind_of_answer() -> None:
    """ "… *when* the talks turned to trade" is a clause, not a question for a time; "How many
    did they sign?" counts what the conversation named, so any number answers it; "How much
    did tickets cost?" asks for a sum of money."""
    from assistant.answer_type import expected_type
    from assistant.query import split_parts

    assert expected_type("Which topics came up when the talks turned to trade?") is None
    assert expected_type("Can you tell me when the summit was?").kind == "time"
    elided = expected_type("How many did they sign?")
    assert elided.kind == "count" and not elided.counted
    assert expected_type("How much did tickets cost?").kind == "money"
    assert split_parts("Which firm was sanctioned, and since what year were exports curbed?") == [
        "Which firm was sanctioned",
        "since what year were exports curbed?",
    ]


def test_a_comma_and_then_or_plus_joins_two_requests_but_a_list_stays_one() -> None:
    """ "List X, then Y", "A, plus B", "A, and B" ask two things whatever the second opens
    with (tune: three such multi-part questions answered one part only); a comma before it
    makes it a list's last item."""
    from assistant.query import split_parts

    assert split_parts("List the security topics discussed, then the topics of the pacts.") == [
        "List the security topics discussed",
        "the topics of the pacts.",
    ]
    assert len(split_parts("Which channel was restored, plus from what year are curbs?")) == 2
    assert len(split_parts("Need 2 numbers: minutes they met, and agreements signed.")) == 2
    assert split_parts("Did they discuss trade, investment, and tourism?") == [
        "Did they discuss trade, investment, and tourism?"
    ]
    assert len(split_parts("What did Lee raise about Hanwha Ocean?")) == 1


def test_a_sentence_opening_on_a_definite_description_is_read_with_the_one_before(
    assistant,
) -> None:
    """ "The move came during a 100-minute summit … in Gyeongju" says where the move of the
    sentence before ("agreed to restart high-level dialogue") happened."""
    answer = assistant.ask("Where was the agreement to restart high-level dialogue reached?")
    assert answer.status == "answered", answer.reason
    assert any("Gyeongju" in c.text for c in answer.citations)
