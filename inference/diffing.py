"""Word-level diff into R3 edit actions with exact character offsets, and applying them.

An edit action replaces text[start:end] (its `before`) with `after`: type A adds (empty span),
D deletes (empty after), R replaces. Changes separated only by whitespace are merged into one
action, the way R3 shows them ("the quick" -> "a fast" is one replacement, not two).
"""

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Iterable

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


@dataclass(frozen=True)
class EditAction:
    action: str  # "A", "R" or "D"
    start: int
    end: int
    before: str
    after: str


class EditConflict(ValueError):
    """Edits overlap or do not match the text they are applied to."""


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _action_type(before: str, after: str) -> str:
    if not before:
        return "A"
    if not after:
        return "D"
    return "R"


def diff_words(before: str, after: str, offset: int = 0) -> list[EditAction]:
    """Edit actions that turn `before` into `after`; offsets are shifted by `offset`."""
    if before == after:
        return []
    a, b = _tokens(before), _tokens(after)
    a_pos = [0]
    for tok in a:
        a_pos.append(a_pos[-1] + len(tok))
    b_pos = [0]
    for tok in b:
        b_pos.append(b_pos[-1] + len(tok))

    # Each change as token ranges; merge those separated only by whitespace tokens.
    changes: list[list[int]] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if changes:
            prev = changes[-1]
            gap_a, gap_b = a[prev[1] : i1], b[prev[3] : j1]
            if gap_a == gap_b and all(t.isspace() for t in gap_a):
                prev[1], prev[3] = i2, j2
                continue
        changes.append([i1, i2, j1, j2])

    edits = []
    for i1, i2, j1, j2 in changes:
        start, end = a_pos[i1], a_pos[i2]
        old, new = before[start:end], after[b_pos[j1] : b_pos[j2]]
        edits.append(EditAction(_action_type(old, new), start + offset, end + offset, old, new))
    return edits


def check_edits(text: str, edits: Iterable[EditAction]) -> list[EditAction]:
    """The edits sorted by position; raises EditConflict if any overlap or mismatch the text."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    last_end = -1
    last_was_insert_at = None
    for e in ordered:
        if not 0 <= e.start <= e.end <= len(text):
            raise EditConflict(f"edit span {e.start}:{e.end} is outside the text (length {len(text)})")
        if text[e.start : e.end] != e.before:
            raise EditConflict(f"edit at {e.start}:{e.end} expects {e.before!r}, text has {text[e.start : e.end]!r}")
        if e.start < last_end or (e.start == e.end and e.start == last_was_insert_at):
            raise EditConflict(f"edit at {e.start}:{e.end} overlaps the one before it")
        last_end = e.end
        last_was_insert_at = e.start if e.start == e.end else None
    return ordered


def apply_edits(text: str, edits: Iterable[EditAction]) -> str:
    """`text` with the given edits applied (any subset of a diff's edits applies cleanly)."""
    out = []
    cursor = 0
    for e in check_edits(text, edits):
        out.append(text[cursor : e.start])
        out.append(e.after)
        cursor = e.end
    out.append(text[cursor:])
    return "".join(out)


CONTEXT_CHARS = 20


def edit_context_key(text: str, edit: EditAction) -> tuple[str, str, str, str]:
    """What identifies "the same edit at the same place" across rounds of one document:
    before/after plus the text around the span (offsets shift when earlier edits apply)."""
    left = text[max(0, edit.start - CONTEXT_CHARS) : edit.start]
    right = text[edit.end : edit.end + CONTEXT_CHARS]
    return (edit.before, edit.after, left, right)
