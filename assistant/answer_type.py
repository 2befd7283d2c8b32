"""What kind of answer a question asks for, and which answers of that kind a sentence offers.

Classic factoid-QA answer typing: "How long …" (or "length of …") wants a duration
("100-minute", "a decade", "since 2016"), "How many X …" (or "number of X") a count of X or
of another word for X ("deals" counted as "seven agreements"; an ordinal counts: "a third
structure"), "How much is it worth?" a sum of money, "How big / large / old …" a number,
"When …"/"since when"/"what year" a time, "Who …", "Where …", "Which city / firm / sea …" a
name (of a person, place or organisation), "the president's full name" a name written
with a word of the question (a title, or the short name: "President Xi Jinping", "Lee Jae
Myung") and two words more, and "Why …"/"what was the purpose of …"/"what prompted …" a
reason: a sentence that says why, through a causal or purpose link ("because", "after",
"aimed to", "underscoring", "to avoid …", a reported "said"). A
sentence *answers the type* when it holds such an answer that the question doesn't already
contain: "Where was the APEC meeting held?" is answered by "… in Gyeongju", not by a
sentence that only repeats "APEC".
This is one feature of the answer model (:mod:`assistant.ranking`), not a rule on its own.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection
from dataclasses import dataclass

from assistant.lexicon import Lexicon
from assistant.question_words import FULL_NAME, topic_stems, topic_terms
from vectorstore.analysis import STOPWORDS, stem, stems, words

_NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "twenty thirty forty fifty hundred thousand million billion trillion dozen several"
).split()
_NUMBER = r"(?:\d[\d,.]*|" + "|".join(_NUMBER_WORDS) + r")"
#: An ordinal counts too: "China had installed a *third* steel structure" says how many.
_ORDINAL = (
    r"(?:\d+(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|"
    r"eleventh|twelfth)"
)
#: A word of a sentence that may say how many: a number or an ordinal.
_COUNT_WORD = re.compile(f"{_NUMBER}|{_ORDINAL}")
_UNIT = r"(?:second|minute|hour|day|week|month|year|decade)s?"
_MONTHS = (
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday"
).split()
_YEAR = r"\b(?:1[89]\d\d|20\d\d)\b"
#: A month's name, capitalised whatever the pattern's flags ("it *may* help" is no date).
_MONTH = "(?-i:" + "|".join(m.capitalize() for m in _MONTHS[:12]) + ")"
#: A length of time: "90-minute", "a decade", "two-day", or how long since a start ("How long
#: has that been the case?" — "since 2016").
_DURATION = re.compile(
    rf"\b{_NUMBER}[- ]?{_UNIT}\b|\ban? (?:minute|hour|day|week|month|year|decade)\b|"
    rf"\b{_UNIT}-long\b|"
    rf"\bsince (?:{_YEAR}|{_MONTH}\b)",
    re.IGNORECASE,
)
#: A year, a month or weekday as a name (capitalised: "it *may* help" is no date), or a
#: relative day.
_TIME = re.compile(
    _YEAR + r"|\b(?:" + "|".join(m.capitalize() for m in _MONTHS) + r")\b|"
    r"\b(?i:yesterday|today|tomorrow|tonight|last (?:week|month|year)|next (?:week|month|year))\b"
)
#: A sum of money: a number with a currency sign before it or a currency after it ("$350
#: billion", "about 2.3 trillion won").
_MAGNITUDE = r"(?:\s(?:hundred|thousand|million|billion|trillion))?"
_MONEY = re.compile(
    rf"[$€£¥₩]\s?{_NUMBER}{_MAGNITUDE}|"
    rf"\b{_NUMBER}{_MAGNITUDE}\s(?:won|yuan|renminbi|yen|dollars?|euros?|pounds?)\b|"
    rf"\b(?:USD|KRW|CNY|RMB|JPY|EUR|GBP)\s?{_NUMBER}{_MAGNITUDE}",
    re.IGNORECASE,
)
#: A proper name: capitalised words (or an acronym) after the sentence's first word.
_NAME = re.compile(
    r"(?<!^)(?<![.!?] )\b(?:[A-Z][\w’'-]*[a-z0-9][\w’'-]*|[A-Z]{2,})(?: [A-Z][\w’'-]+)*"
)

#: Nouns that, asked for with "which/what", want a name.
_NAMED_THINGS = (
    "city town country nation sea ocean island region province place venue location capital "
    "firm company companies group organisation organization agency bank forum body institution "
    "corporation business shipbuilder event gathering summit person leader president minister "
    "official man woman name names"
)
_WHICH_NAME = re.compile(
    rf"(?:which|what)\s+(?:\w+\s+)?(?:{'|'.join(_NAMED_THINGS.split())})(?:s|es)?\b"
)
#: Nouns that, asked for with "what is the …", want a number ("the *value* of the swap").
_AMOUNTS = "value size amount cost price sum worth total"
#: ("what's the size" is read "what the size": the tokeniser drops the "'s".)
_WHAT_AMOUNT = re.compile(
    rf"whats? (?:(?:is|was|are|were) )?the (?:{'|'.join(_AMOUNTS.split())})\b"
)


#: Asking for a reason or a purpose: "Why …", "how come …", "what was the goal of …", "for
#: what reason …", "what prompted …".
_REASON_ASKED = re.compile(
    r"(?:why|how come|whats? (?:(?:is|was|are|were) )?(?:the )?(?:main )?"
    r"(?:reasons?|purpose|goal|aim|motives?|rationale|justification)|"
    r"what reasons?|for what (?:reason|purpose)|"
    r"what (?:led|prompted|caused|triggered|drove|motivated|sparked))\b"
)
#: A link that gives a cause or a purpose. "since" a date says when, not why.
_REASON = re.compile(
    r"\b(?:because|due to|owing to|as a result|in response to|in order to|so that|so as to|"
    r"in a bid to|aim(?:s|ed|ing)? (?:to|at)|amid|after|following|while|"
    r"underscoring|highlighting|reflect(?:s|ed|ing)?|cit(?:es|ed|ing)|said|says|saying|"
    rf"since(?! (?:{_YEAR}|\d|{_MONTH}\b)))\b",
    re.IGNORECASE,
)
#: "to" and a verb: a purpose ("… to avoid misunderstandings"), not "to the region", not
#: "to 15 billion", not "to Seoul".
_PURPOSE = re.compile(r"\bto ([a-z]+)\b")


@dataclass(frozen=True)
class AnswerType:
    #: ``duration``, ``count``, ``money``, ``time``, ``name``, ``full_name`` or ``reason``.
    kind: str
    #: For counts: stems of the counted thing ("How many *agreements*").
    counted: frozenset[str] = frozenset()
    #: The counted thing's words, the first of which a sentence may count in other words
    #: ("How many *deals*" → "seven *agreements*") when a lexicon is at hand
    #: (:func:`answers_of`).
    counted_words: tuple[str, ...] = ()
    #: For full names: stems of the question's words, one of which the text writes with the
    #: name ("the Chinese *president*'s full name" → "President Xi Jinping").
    titles: frozenset[str] = frozenset()


#: "How many …" / "How much …": the counted word and the rest of the question.
_HOW_MANY = re.compile(r"how (?:(?P<many>many)|much)\b\s*(?P<word>\S*)(?P<rest>.*)")
#: Asking for a count or a length by its noun: "*what was the number of* pacts …", or in a
#: terse question with no question word, "*number of* pacts inked afterwards?", "*length of*
#: the sit-down": read as "how many" and "how long".
_ASKS_THE = r"(?:(?:what|which)s?(?: (?:is|was|are|were))? )?(?:the )?(?:total )?"
_NUMBER_OF = re.compile(rf"{_ASKS_THE}number of\s+(?P<word>\S*)(?P<rest>.*)")
_LENGTH_OF = re.compile(rf"{_ASKS_THE}(?:length|duration) of\b")
#: A count's noun follows its number within this many words, before any other function word
#: ("seven liquefied natural gas LNG *carriers*"; not "100-minute summit between President
#: *Lee*").
_COUNTED_WITHIN = 6
#: Function words inside a count or an amount ("$350 billion *in* investment", "seven *of*
#: the ships").
_AMOUNT_LINKS = frozenset({"in", "of"})

#: Where the question proper starts: its first question word decides the kind of answer.
_QUESTION_WORD = re.compile(r"\b(?:since when|what|which|who|whom|whose|where|when|why|how)\b")
#: "How big / large / old / far … is it?" asks for a measure, a number ("how big *a* role"
#: asks how much something mattered).
_HOW_BIG = re.compile(r"how (?:big|large|old|far|tall|high|heavy|wide|deep)\b(?! an?\b)")
_TIME_ASKED = re.compile(r"(?:when|since when|(?:what|which) (?:year|month|day|date|time))\b")


def expected_type(question: str) -> AnswerType | None:
    """The kind of answer the question asks for, when its wording says: read at its first
    question word ("Which topics came up *when* the talks turned to trade?" asks for no time),
    save for "full name" and "names of", which ask for a name wherever they stand."""
    tokens = words(question)
    text = " ".join(tokens)
    if FULL_NAME.search(text):
        return AnswerType("full_name", titles=frozenset(topic_stems(question)))
    first = _QUESTION_WORD.search(text)
    asked = text[first.start() :] if first else ""

    def by_noun(pattern: re.Pattern[str]) -> re.Match[str] | None:
        """At the question word, or anywhere in a question without one."""
        return pattern.match(asked) if first else pattern.search(text)

    if asked.startswith("how long") or by_noun(_LENGTH_OF):
        return AnswerType("duration")
    match = _HOW_MANY.match(asked) or by_noun(_NUMBER_OF)
    if match:
        # "How many did they sign?" counts what the conversation named: any number will do.
        # "How much is the order worth?", "How much did tickets cost?" ask for a sum of money.
        word, rest = match["word"], match["rest"]
        elided = not word or word in STOPWORDS
        if elided and not match.groupdict().get("many"):
            return AnswerType("money")
        counted = [] if elided else _counted_terms(f"{word} {rest}")
        return AnswerType("count", frozenset(s for s, _ in counted), tuple(w for _, w in counted))
    if _WHAT_AMOUNT.match(asked) or _HOW_BIG.match(asked):
        return AnswerType("count")
    if _TIME_ASKED.match(asked):
        return AnswerType("time")
    if re.match(r"(?:who|whom|where)\b", asked) or _WHICH_NAME.match(asked):
        return AnswerType("name")
    if re.search(r"\bnames? of\b", text):
        return AnswerType("name")
    if _REASON_ASKED.match(asked):
        return AnswerType("reason")
    return None


def _counted_terms(phrase: str) -> list[tuple[str, str]]:
    """(stem, word) of what a count counts: the noun phrase that opens ``phrase``, up to its
    first function word ("How many *priorities* did the APEC ministers set out?" counts
    priorities, not APEC), at most two words ("*steel structures*", "*times*")."""
    noun_phrase = " ".join(itertools.takewhile(lambda t: t not in STOPWORDS, words(phrase)))
    terms = topic_terms(noun_phrase) or {stem(w): w for w in words(noun_phrase)}
    return list(terms.items())[:2]


def answers_of(answer_type: AnswerType, sentence: str, lexicon: Lexicon | None = None) -> list[str]:
    """The answers of the asked-for kind that ``sentence`` offers (empty: none). A count is a
    number followed by the counted thing, or, with a ``lexicon``, by a word that means it."""
    kind = answer_type.kind
    if kind == "duration":
        return [m[0] for m in _DURATION.finditer(sentence)]
    if kind == "time":
        return [m[0] for m in _TIME.finditer(sentence)]
    if kind == "name":  # a weekday or a month is a time, not a name ("on Tuesday")
        return [m[0] for m in _NAME.finditer(sentence) if m[0].casefold() not in _MONTHS]
    if kind == "full_name":  # a name the question points at, and two words more
        found = []
        for m in _NAME.finditer(sentence):
            run = m[0].split()
            new = [w for w in run if stem(w.casefold()) not in answer_type.titles]
            if len(new) >= 2 and len(new) < len(run):
                found.append(" ".join(new))
        return found
    if kind == "money":
        return [m[0] for m in _MONEY.finditer(sentence)]
    if kind == "reason":
        links = [m[0] for m in _REASON.finditer(sentence)]
        return links + [m[0] for m in _PURPOSE.finditer(sentence) if m[1] not in STOPWORDS]
    if kind == "count":
        tokens = words(sentence)
        found = []
        for i, token in enumerate(tokens):
            if _COUNT_WORD.fullmatch(token):
                after = list(
                    itertools.takewhile(
                        lambda t: t not in STOPWORDS or t in _AMOUNT_LINKS,
                        tokens[i + 1 : i + 1 + _COUNTED_WITHIN],
                    )
                )
                if (
                    not answer_type.counted
                    or {stem(t) for t in after} & answer_type.counted
                    or (
                        lexicon is not None
                        and answer_type.counted_words
                        and lexicon.matches(answer_type.counted_words[0], after)
                    )
                ):
                    found.append(token)
        return found
    return []


def offers_new_answer(
    answer_type: AnswerType,
    sentence: str,
    question_stems: Collection[str],
    lexicon: Lexicon | None = None,
) -> bool:
    """True when ``sentence`` holds an answer of the asked-for kind that isn't in the question."""
    return any(
        not set(stems(answer)) <= set(question_stems) or not stems(answer)
        for answer in answers_of(answer_type, sentence, lexicon)
    )
