"""sentence_spans: exact offsets that cover the whole text and leave the gaps alone."""

from hypothesis import given, settings
from hypothesis import strategies as st

from inference.sentences import sentence_spans

pieces = st.sampled_from(
    ["Hello", "world", "café", "你好", "😀", "ok", ".", "!", "?", "…", ",", '"', ")"]
    + [" ", "  ", "\n", "\n\n", "\t", "\n \n", "\u00a0"]
)
texts = st.one_of(st.lists(pieces, max_size=40).map("".join), st.text(max_size=60))


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in sentence_spans(text)]


@settings(max_examples=150, deadline=None)
@given(texts)
def test_spans_are_exact_ordered_and_trimmed(text: str) -> None:
    spans = sentence_spans(text)
    for start, end in spans:
        assert 0 <= start < end <= len(text)
        assert text[start:end] == text[start:end].strip()
    for (_, first_end), (second_start, _) in zip(spans, spans[1:]):
        assert first_end < second_start
        assert text[first_end:second_start].strip() == "", "only whitespace lies between sentences"


@settings(max_examples=150, deadline=None)
@given(texts)
def test_spans_cover_every_non_space_character(text: str) -> None:
    covered = set()
    for start, end in sentence_spans(text):
        covered.update(range(start, end))
    assert {i for i, ch in enumerate(text) if not ch.isspace()} <= covered


def test_splits_after_sentence_punctuation() -> None:
    assert sentences("Hello world. How are you? Fine!") == ["Hello world.", "How are you?", "Fine!"]


def test_text_without_punctuation_is_one_sentence() -> None:
    assert sentence_spans("just some words here") == [(0, 20)]


def test_blank_lines_end_sentences() -> None:
    assert sentences("Title\n\nFirst para. Second.\n\n\n  Last") == ["Title", "First para.", "Second.", "Last"]


def test_closing_quote_stays_with_its_sentence() -> None:
    assert sentences('He said "stop." Then left.') == ['He said "stop."', "Then left."]


def test_unicode_text_keeps_exact_offsets() -> None:
    text = "Ça va? Très bien! 你好。 😀 ok."
    assert sentences(text) == ["Ça va?", "Très bien!", "你好。 😀 ok."]
    assert sentence_spans(text)[1] == (7, 17)


def test_empty_and_blank_text_have_no_sentences() -> None:
    assert sentence_spans("") == []
    assert sentence_spans(" \n\n\t ") == []


def test_abbreviations_initials_and_times_stay_inside_their_sentence() -> None:
    assert sentences("Dr. Smith met Mr. Jones at 5 p.m. on Jan. 3. They talked.") == [
        "Dr. Smith met Mr. Jones at 5 p.m. on Jan. 3.",
        "They talked.",
    ]
    assert sentences("J. K. Rowling wrote it. I read it.") == ["J. K. Rowling wrote it.", "I read it."]
    assert sentences("Open from 8 a.m. to 10 p.m. Monday through Friday. Closed Sundays.") == [
        "Open from 8 a.m. to 10 p.m. Monday through Friday.",
        "Closed Sundays.",
    ]
    assert sentences("Bring fruit, e.g. Apples or pears (approx. two kilos). Thanks.") == [
        "Bring fruit, e.g. Apples or pears (approx. two kilos).",
        "Thanks.",
    ]
    assert sentences("See No. 5 in the list. No. That one.") == ["See No. 5 in the list.", "No.", "That one."]


def test_abbreviations_that_can_end_a_sentence_do_before_a_capital() -> None:
    assert sentences("We left at 5 p.m. The next day was calm.") == ["We left at 5 p.m.", "The next day was calm."]
    assert sentences("Pens, paper, etc. are in the cupboard. Ask Sam.") == [
        "Pens, paper, etc. are in the cupboard.",
        "Ask Sam.",
    ]
    assert sentences("I work for Acme Inc. It is fine.") == ["I work for Acme Inc.", "It is fine."]


def test_decimals_urls_and_addresses_do_not_split() -> None:
    text = "It costs $3.50 at 10.30 today. Visit www.example.com/a.b or write to sam@example.org. Bye."
    assert sentences(text) == [
        "It costs $3.50 at 10.30 today.",
        "Visit www.example.com/a.b or write to sam@example.org.",
        "Bye.",
    ]
