"""Sentence spans with exact character offsets; the text between sentences is left alone.

A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before whitespace, or
at a blank line, except where the period belongs to an abbreviation: titles ("Dr. Smith"),
initials ("J. K. Rowling"), months ("Jan. 3"), "e.g.", "No. 5" and the like never end a
sentence, while "etc.", "p.m.", "Inc." end one only when a capital letter follows ("at 5 p.m. on
Monday" and "from 8 a.m. to 10 p.m. Monday through Friday" are one sentence each, "at 5 p.m. The
next day" two). Decimals, times, URLs and e-mail
addresses have no space after their inner periods, so they never split. A sentence that
starts in lower case after an ordinary word ("thanks. see you") is still split: chat often
starts that way, and the model should see each sentence on its own.
"""

import re

_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]»”’]*\s+|\n\s*\n\s*")
_OPENERS = "\"'([«“‘"

# Abbreviations after which a period never ends a sentence (compared without the period).
_NEVER_FINAL = frozenset(
    "Mr Mrs Ms Mx Dr Prof Sr Jr St Mt Rev Fr Gen Col Capt Lt Sgt Cpl Gov Sen Rep Hon Pres Supt Det Insp"
    " Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec"
    " e.g i.e cf viz vs approx appt dept est fig figs ft hr hrs min mins oz lb lbs pp sq tel vol"
    " E.g I.e Cf Approx Fig Tel Vol Ave Blvd Rd Hwy Apt Mon Tue Tues Wed Thu Thur Thurs Fri Sat".split()
)
# A period after these ends a sentence only if what follows starts with a capital letter.
_FINAL_BEFORE_CAPITAL = frozenset("etc a.m p.m am pm Inc Ltd Co Corp Bros LLC Jr al U.S U.K E.U".split())
# "at 10 p.m. Monday through Friday" is one sentence: a day or month after them is no new start.
_CALENDAR_WORDS = frozenset(
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July"
    " August September October November December".split()
)
_INITIALS = re.compile(r"(?:[A-Za-z]\.)*[A-Z]")  # "J", "J.K", "U.S.A" without its last period
_NUMBER_ABBREVIATIONS = frozenset("No no Nos nos Vol vol p pp Art art Fig fig Ch ch Sec sec".split())


def _word_before(text: str, period: int) -> str:
    """The run of non-space characters before text[period] (a period), opening brackets and
    quotes stripped: "(Dr." gives "Dr"."""
    start = period
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return text[start:period].lstrip(_OPENERS)


def _next_word(text: str, position: int) -> str:
    """The word at or after `position`, past opening quotes and brackets ("" at the end)."""
    while position < len(text) and text[position] in _OPENERS:
        position += 1
    end = position
    while end < len(text) and text[end].isalnum():
        end += 1
    return text[position:end] or text[position : position + 1]


def _ends_sentence(text: str, match: re.Match[str]) -> bool:
    if match.group(0).count("\n") >= 2:
        return True  # a blank line always ends a sentence
    mark = match.start() - 1
    while mark >= 0 and text[mark] not in ".!?":
        mark -= 1  # back over the closing quotes and brackets
    if mark < 0 or text[mark] != "." or (mark > 0 and text[mark - 1] == "."):
        return True  # "!", "?", an ellipsis
    word = _word_before(text, mark)
    following = _next_word(text, match.end())
    if word in _NEVER_FINAL or _INITIALS.fullmatch(word) and len(word) <= 5 and word not in _FINAL_BEFORE_CAPITAL:
        return False
    if word in _NUMBER_ABBREVIATIONS and following[:1].isdigit():
        return False
    if word in _FINAL_BEFORE_CAPITAL:
        return following[:1].isupper() and following not in _CALENDAR_WORDS
    return True


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace trimmed, in order; empty text gives []."""
    spans = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if not _ends_sentence(text, match):
            continue
        spans.append((start, match.start() + len(match.group(0).rstrip())))
        start = match.end()
    spans.append((start, len(text)))
    trimmed = []
    for s, e in spans:
        piece = text[s:e]
        lead = len(piece) - len(piece.lstrip())
        trail = len(piece) - len(piece.rstrip())
        if e - trail > s + lead:
            trimmed.append((s + lead, e - trail))
    return trimmed
