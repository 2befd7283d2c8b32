"""Decide whether the documents answer a question, and say why not.

The decision is the answer model's (:mod:`assistant.ranking`): the best candidate's
probability of answering must reach the model's threshold, which was fitted on the tune halves
of our question sets. The reason given with a refusal names what the model saw: names or words
of the question the documents never use, or no passage close enough.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.ranking import Ranked


@dataclass(frozen=True)
class Verdict:
    answerable: bool
    #: Why, in words a user can act on (shown under a refusal as the answer's ``reason``).
    reason: str


def judge(ranked: Ranked, threshold: float) -> Verdict:
    """Answerable when the best candidate's probability reaches ``threshold``."""
    if not ranked.evidence:
        return Verdict(False, "no passage of the documents matches the question")
    confidence = ranked.confidence
    if confidence >= threshold:
        return Verdict(True, f"a passage answers it (confidence {confidence:.2f})")
    if ranked.unknown_names:
        return Verdict(False, f"the documents never mention “{' '.join(ranked.unknown_names)}”")
    if ranked.lacks_asked_type:
        return Verdict(
            False, "no passage gives the kind of answer asked for (a number, date or name)"
        )
    if ranked.absent_words:
        return Verdict(
            False,
            f"the documents never mention “{' '.join(ranked.absent_words)}”, and no passage "
            f"answers the question closely enough (confidence {confidence:.2f})",
        )
    if ranked.vetoed_by == "nothing_matched":
        return Verdict(False, "no passage of the documents uses any word of the question")
    return Verdict(
        False,
        f"no passage answers the question closely enough (confidence {confidence:.2f}, "
        f"needed {threshold:.2f})",
    )
