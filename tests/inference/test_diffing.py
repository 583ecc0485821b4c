"""diff_words and apply_edits: exact offsets, full and partial application, no overlaps."""

from hypothesis import given, settings
from hypothesis import strategies as st

from inference.diffing import EditAction, apply_edits, check_edits, diff_words

WORDS = [
    "the",
    "The",
    "a",
    "quick",
    "fast",
    "fox",
    "café",
    "naïve",
    "Ångström",
    "straße",
    "über",
    "你好",
    "世界",
    "日本語",
    "😀",
    "👍🏽",
    "🇫🇷",
    "don't",
    "e-mail",
    "3.14",
    "42",
]
PUNCT = list(".,;:!?…—-()[]\"'«»“”")
SPACES = [" ", "  ", "\t", "\n", "\n\n", " \u00a0", "\u3000"]
ODD = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=3)

tokens = st.one_of(st.sampled_from(WORDS), st.sampled_from(PUNCT), st.sampled_from(SPACES), ODD)
texts = st.lists(tokens, max_size=20).map("".join)


@st.composite
def related_pairs(draw: st.DrawFn) -> tuple[str, str]:
    """A text and an edited copy of it, the way a model's revision relates to its input."""
    before = draw(st.lists(tokens, max_size=20))
    after = list(before)
    for _ in range(draw(st.integers(0, 5))):
        position = draw(st.integers(0, len(after)))
        operation = draw(st.sampled_from(["insert", "delete", "replace"]))
        if operation == "insert" or not after:
            after.insert(position, draw(tokens))
        elif operation == "delete":
            del after[min(position, len(after) - 1)]
        else:
            after[min(position, len(after) - 1)] = draw(tokens)
    return "".join(before), "".join(after)


pairs = st.one_of(related_pairs(), st.tuples(texts, texts))


def assert_well_formed(text: str, edits: list[EditAction]) -> None:
    for e in edits:
        assert text[e.start : e.end] == e.before
        assert e.action == ("A" if not e.before else "D" if not e.after else "R")
        assert e.before != e.after
    for first, second in zip(edits, edits[1:]):
        assert first.end < second.start, "edits touch or overlap"


@settings(max_examples=150, deadline=None)
@given(pairs)
def test_applying_all_edits_gives_the_target(pair: tuple[str, str]) -> None:
    before, after = pair
    edits = diff_words(before, after)
    assert_well_formed(before, edits)
    assert apply_edits(before, edits) == after


@settings(max_examples=100, deadline=None)
@given(pairs)
def test_applying_no_edits_keeps_the_input(pair: tuple[str, str]) -> None:
    before, after = pair
    diff_words(before, after)
    assert apply_edits(before, []) == before


@settings(max_examples=150, deadline=None)
@given(pairs, st.data())
def test_any_subset_applies_cleanly(pair: tuple[str, str], data: st.DataObject) -> None:
    before, after = pair
    edits = diff_words(before, after)
    chosen = [e for e in edits if data.draw(st.booleans())]
    check_edits(before, chosen)
    result = apply_edits(before, chosen)
    # Untouched stretches between the chosen edits survive as they were.
    cursor = 0
    for e in chosen:
        assert before[cursor : e.start] in result
        cursor = e.end
    if len(chosen) == len(edits):
        assert result == after


@settings(max_examples=100, deadline=None)
@given(texts, pairs)
def test_offset_shifts_spans_into_a_larger_text(prefix: str, pair: tuple[str, str]) -> None:
    before, after = pair
    whole = prefix + before
    edits = diff_words(before, after, offset=len(prefix))
    assert_well_formed(whole, edits)
    assert apply_edits(whole, edits) == prefix + after


def test_identical_texts_give_no_edits() -> None:
    assert diff_words("Nothing to change here.", "Nothing to change here.") == []


def test_neighbouring_word_changes_merge_into_one_replacement() -> None:
    assert diff_words("the quick fox", "a fast fox") == [EditAction("R", 0, 9, "the quick", "a fast")]


def test_doubled_word_is_one_deletion() -> None:
    text = "The cat sat on the the mat."
    edits = diff_words(text, "The cat sat on the mat.")
    assert edits == [EditAction("D", 19, 23, "the ", "")]


def test_inserted_word_is_an_addition() -> None:
    assert diff_words("She went home.", "She went back home.") == [EditAction("A", 9, 9, "", "back ")]


def test_separate_changes_stay_separate_and_apply_one_by_one() -> None:
    text = "Hello world"
    comma, bang = diff_words(text, "Hello, world!")
    assert (comma.action, comma.start, comma.after) == ("A", 5, ",")
    assert (bang.action, bang.start, bang.after) == ("A", 11, "!")
    assert apply_edits(text, [bang]) == "Hello world!"
    assert apply_edits(text, [comma]) == "Hello, world"
