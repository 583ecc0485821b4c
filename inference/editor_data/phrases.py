"""Phrase lists for the "simplify" (wordy -> concise) and "formal" (informal -> formal) instructions.

A training pair is made backwards: a clean sentence that contains the concise (formal) side,
in a context where the wordy (informal) side can stand instead, gets that side swapped in and
becomes the input; the clean sentence is the target. Each pair names the context its short
side needs, so "to" is only expanded to "in order to" before a verb, and "most" only becomes
"the majority of" before a plural noun. The pairs are split by a hash into a training part and
a held-out part; the examples the issue names are always trained on.
"""

import random
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from inference.editor_data.corpus import is_held_out
from inference.editor_data.words import DETERMINERS, MODALS, VERBS

PHRASE_HELD_OUT_PERCENT = 20


@dataclass(frozen=True)
class PhrasePair:
    long: str  # the wordy or informal side: what the model gets
    short: str  # the concise or formal side: what it should write
    context: str = "any"  # where `short` may be replaced, a key of CONTEXTS


def _next_is_verb(prev: str, nxt: str) -> bool:
    return nxt in VERBS or nxt == "be"


# Words after which "to" starts a complement, not a purpose ("want to", "able to", "how to").
_NOT_PURPOSE = frozenset(
    "want wants need needs have has had able unable how going about try tries tried trying ought allowed seem seems "
    "likely expected required supposed safe easy hard possible necessary order so as meant is are be was were "
    "wish wishes prefer prefers used".split()
)


def _purpose_to(prev: str, nxt: str) -> bool:
    return _next_is_verb(prev, nxt) and prev not in _NOT_PURPOSE


# Words after which "if" means "whether" ("check if", "indicating if").
_IF_MEANS_WHETHER = frozenset(
    "check checks checking indicate indicates indicating determine determines determining see test tests know knows "
    "ask asks decide decides tell tells even as whether only return returns returning".split()
)


def _conditional_if(prev: str, nxt: str) -> bool:
    return prev not in _IF_MEANS_WHETHER


def _next_is_ing(prev: str, nxt: str) -> bool:
    return nxt.endswith("ing") and len(nxt) > 5


def _next_is_determiner(prev: str, nxt: str) -> bool:
    return nxt in DETERMINERS and nxt != "that"


def _next_is_plural(prev: str, nxt: str) -> bool:
    return (
        len(nxt) > 3
        and nxt.isalpha()
        and nxt.endswith("s")
        and not nxt.endswith(("ss", "us", "is"))
        and prev not in ("the", "at", "a", "too", "so", "how", "as", "very")
    )


def _after_modal(prev: str, nxt: str) -> bool:
    return prev in MODALS or prev in ("to", "not")


def _after_determiner(prev: str, nxt: str) -> bool:
    return prev in ("the", "a", "an", "its", "their", "this")


def _clause_end(prev: str, nxt: str) -> bool:
    return nxt in ("", ",", ".", ";", "and", "or", "if", "when", "by", "in", "on", "to", "than")


CONTEXTS: dict[str, Callable[[str, str], bool]] = {
    "any": lambda prev, nxt: True,
    "verb": _next_is_verb,
    "purpose": _purpose_to,
    "if": _conditional_if,
    "not_that": lambda prev, nxt: nxt != "that",
    "not_ing": lambda prev, nxt: not nxt.endswith("ing"),
    "ing": _next_is_ing,
    "det": _next_is_determiner,
    "plural": _next_is_plural,
    "after_modal": _after_modal,
    "after_det": _after_determiner,
    "clause_end": _clause_end,
}

P = PhrasePair
SIMPLIFY = (
    P("in order to", "to", "purpose"),
    P("so as to", "to", "purpose"),
    P("in an effort to", "to", "purpose"),
    P("for the purpose of", "for", "ing"),
    P("due to the fact that", "because"),
    P("owing to the fact that", "because"),
    P("in view of the fact that", "because"),
    P("for the reason that", "because"),
    P("on the grounds that", "because"),
    P("despite the fact that", "although"),
    P("in spite of the fact that", "although"),
    P("regardless of the fact that", "although"),
    P("at this point in time", "now", "not_that"),
    P("at the moment", "now", "not_that"),
    P("at the present time", "currently"),
    P("in the event that", "if", "if"),
    P("in the case that", "if", "if"),
    P("on the condition that", "if", "if"),
    P("with the exception of", "except", "det"),
    P("a large number of", "many", "plural"),
    P("the majority of", "most", "plural"),
    P("a sufficient number of", "enough", "plural"),
    P("a number of", "several"),
    P("in the near future", "soon"),
    P("prior to", "before", "det"),
    P("subsequent to", "after", "det"),
    P("in the absence of", "without", "det"),
    P("with regard to", "about", "det"),
    P("in regard to", "about", "det"),
    P("in relation to", "about", "det"),
    P("until such time as", "until"),
    P("during the course of", "during"),
    P("for the duration of", "during"),
    P("during the time that", "while", "not_ing"),
    P("in the majority of cases", "usually"),
    P("for the most part", "mostly"),
    P("at all times", "always"),
    P("each and every", "every"),
    P("whether or not", "whether"),
    P("as to whether", "whether"),
    P("at a later time", "later", "clause_end"),
    P("at an earlier time", "earlier", "clause_end"),
    P("at the same time", "simultaneously", "clause_end"),
    P("give consideration to", "consider", "after_modal"),
    P("take into consideration", "consider", "after_modal"),
    P("make use of", "use", "after_modal"),
    P("provide assistance to", "help", "after_modal"),
    P("combine together", "combine", "after_modal"),
    P("merge together", "merge", "after_modal"),
    P("return back", "return", "after_modal"),
    P("repeat again", "repeat", "after_modal"),
    P("is dependent on", "depends on"),
    P("is indicative of", "indicates", "det"),
    P("in excess of", "more than"),
    P("in a timely manner", "promptly"),
    P("end result", "result", "after_det"),
    P("past history", "history", "after_det"),
    P("exactly the same", "the same"),
    P("small in size", "small", "clause_end"),
    P("utilize", "use", "after_modal"),
    P("commence", "start", "after_modal"),
    P("endeavor to", "try to", "after_modal"),
    P("as a result of", "because of"),
    P("a variety of", "various", "plural"),
    P("in a similar fashion", "similarly"),
    P("large in size", "large", "clause_end"),
)

FORMAL = (
    P("gonna", "going to"),
    P("wanna", "want to"),
    P("gotta", "have to"),
    P("kinda", "somewhat"),
    P("sorta", "somewhat"),
    P("a lot of", "many", "plural"),
    P("lots of", "many", "plural"),
    P("tons of", "many", "plural"),
    P("a bunch of", "several"),
    P("a couple of", "a few"),
    P("a little bit", "slightly"),
    P("kids", "children"),
    P("kid", "child"),
    P("guys", "people"),
    P("folks", "people"),
    P("get rid of", "remove", "after_modal"),
    P("figure out", "determine", "after_modal"),
    P("deal with", "handle", "after_modal"),
    P("cut down on", "reduce", "after_modal"),
    P("go up", "increase", "after_modal"),
    P("go down", "decrease", "after_modal"),
    P("think about", "consider", "after_modal"),
    P("talk about", "discuss", "after_modal"),
    P("ask for", "request", "after_modal"),
    P("show up", "appear", "after_modal"),
    P("make sure", "ensure", "after_modal"),
    P("pick", "select", "after_modal"),
    P("grab", "retrieve", "after_modal"),
    P("throw away", "discard", "after_modal"),
    P("bump up", "increase", "after_modal"),
    P("tweak", "adjust", "after_modal"),
    P("hook up", "connect", "after_modal"),
    P("get", "obtain", "after_modal"),
    P("need", "require", "after_modal"),
    P("big", "large"),
    P("huge", "very large"),
    P("pretty much", "almost"),
    P("maybe", "perhaps"),
    P("totally", "completely"),
    P("super", "very"),
    P("right away", "immediately", "clause_end"),
    P("till", "until"),
    P("isn't", "is not"),
    P("aren't", "are not"),
    P("wasn't", "was not"),
    P("weren't", "were not"),
    P("doesn't", "does not"),
    P("don't", "do not"),
    P("didn't", "did not"),
    P("can't", "cannot"),
    P("won't", "will not"),
    P("shouldn't", "should not"),
    P("wouldn't", "would not"),
    P("couldn't", "could not"),
    P("hasn't", "has not"),
    P("haven't", "have not"),
    P("it's", "it is"),
    P("that's", "that is"),
    P("there's", "there is"),
)
del P

# The examples the issue names: always in training, never held out.
ALWAYS_TRAINED = frozenset(
    {"in order to", "due to the fact that", "at this point in time", "gonna", "kids", "a lot of"}
)
PHRASE_TASKS = {"simplify": SIMPLIFY, "formal": FORMAL}


def split_pairs(
    pairs: tuple[PhrasePair, ...], percent: int = PHRASE_HELD_OUT_PERCENT
) -> tuple[list[PhrasePair], list[PhrasePair]]:
    """(train, held_out): a pair is held out when the hash of its two sides says so."""
    held = [p for p in pairs if p.long not in ALWAYS_TRAINED and is_held_out(f"{p.long}->{p.short}", percent, "phrase")]
    return [p for p in pairs if p not in held], held


@lru_cache(maxsize=None)
def _phrase_pattern(phrase: str) -> re.Pattern:
    return re.compile(r"(?<![\w'-])" + re.escape(phrase) + r"(?![\w'-])", re.IGNORECASE)


def contains_phrase(sentence: str, phrases: list[str]) -> bool:
    return any(_phrase_pattern(p).search(sentence) for p in phrases)


def _neighbours(sentence: str, start: int, end: int) -> tuple[str, str]:
    before = sentence[:start].split()
    after = re.findall(r"[A-Za-z']+|[.,;]", sentence[end:])
    return (before[-1].lower() if before else ""), (after[0].lower() if after else "")


def places(sentence: str, pair: PhrasePair) -> list[tuple[int, int]]:
    """Spans of `pair.short` in `sentence` where `pair.long` could stand instead."""
    allowed = CONTEXTS[pair.context]
    return [
        (m.start(), m.end())
        for m in _phrase_pattern(pair.short).finditer(sentence)
        if m.group(0)[1:] == m.group(0)[1:].lower() and allowed(*_neighbours(sentence, m.start(), m.end()))
    ]


def lengthen(sentence: str, pair: PhrasePair, rng: random.Random) -> str | None:
    """`sentence` with one place of `pair.short` replaced by `pair.long` (the model's input), or None."""
    spans = places(sentence, pair)
    if not spans:
        return None
    start, end = rng.choice(spans)
    long = pair.long
    if sentence[start].isupper():
        long = long[0].upper() + long[1:]
    return sentence[:start] + long + sentence[end:]
