"""What the preference screens show: on the labelling screen, each output's text cut into
segments, those that differ from the output it is compared with marked (plain text segments:
the template escapes them like any model output); on the quality page, labels per day."""

from dataclasses import dataclass

from inference.diffing import diff_words
from webapp.core.charts import LineChart, Series, day_axis, line_chart
from webapp.preferences import selectors

# Beyond this many characters, the word diff is too slow for a page view; the texts are shown unmarked.
MAX_DIFF_CHARS = 20_000

Segment = tuple[str, bool]  # (text, differs)


def diff_segments(before: str, after: str) -> tuple[list[Segment], list[Segment]]:
    """`before` and `after` as segments, the words that differ between them marked on each side."""
    if len(before) > MAX_DIFF_CHARS or len(after) > MAX_DIFF_CHARS:
        return [(before, False)], [(after, False)]
    edits = diff_words(before, after)
    left: list[Segment] = []
    right: list[Segment] = []
    at_left = at_right = 0
    for edit in edits:
        start_right = edit.start - at_left + at_right
        left.append((before[at_left : edit.start], False))
        right.append((after[at_right:start_right], False))
        left.append((edit.before, True))
        right.append((edit.after, True))
        at_left, at_right = edit.end, start_right + len(edit.after)
    left.append((before[at_left:], False))
    right.append((after[at_right:], False))
    return [s for s in left if s[0]], [s for s in right if s[0]]


@dataclass(frozen=True)
class ShownOutput:
    index: int
    letter: str
    number: int  # the key that picks it in a ranking: 1..9, then 0 for the tenth
    segments: list[Segment]


def shown_outputs(texts: list[str]) -> list[ShownOutput]:
    """Outputs in order, A marked against B and every other against A. Nothing but the text:
    the screen is blind to where an output came from."""
    shown = []
    for i, text in enumerate(texts):
        if len(texts) < 2:
            segments = [(text, False)]
        elif i == 0:
            segments = diff_segments(text, texts[1])[0]
        else:
            segments = diff_segments(texts[0], text)[1]
        shown.append(ShownOutput(i, chr(ord("A") + i), (i + 1) % 10, segments))
    return shown


def labels_per_day_chart(project) -> LineChart | None:
    """Labels given per day (line_chart), or None before the first label."""
    days = selectors.labels_per_day(project)
    if not days:
        return None
    points = [(day.toordinal(), n) for day, n in days]
    return line_chart(
        [Series("labels per day", points)],
        y_range=(0, max(n for _, n in points) * 1.15),
        x_format=day_axis,
    )
