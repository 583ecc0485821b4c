"""Sentence spans with exact character offsets; the text between sentences is left alone."""

import re

# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before whitespace,
# or at a blank line. Abbreviations are not special-cased: a split there only means the model
# sees two shorter pieces, and offsets stay exact either way.
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]»”’]*\s+|\n\s*\n\s*")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace trimmed, in order; empty text gives []."""
    spans = []
    start = 0
    for match in _BOUNDARY.finditer(text):
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
