"""Edit kinds, R3 intents and the lexicon guard, on the edits a writer saw the old editor make."""

import pytest

from inference.edit_kinds import (
    ANY_GAIN,
    REPEATED_WORD_MIN_GAIN,
    REWORDING_MIN_GAIN,
    classify_edit,
    document_word_counts,
    edit_intent,
    guard_min_gain,
)
from inference.lexicon import confusable, is_english, plausible_respelling, same_word_family

EMAIL = (
    "Hi Sarah, I hope you recieve the invoice by friday. Their is a problem with the the order, "
    "if you has any questions let me know. Priya said it was form the office, see you in Lagos."
)


def kind_of(before: str, after: str, text: str = EMAIL, occurrence: int = 0):
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(before, start + 1)
    return classify_edit(text, start, start + len(before), after, document_word_counts(text))


def test_a_repeated_word_taken_out_is_a_doubled_word() -> None:
    assert kind_of("the ", "", occurrence=1).kind == "doubled_word"  # "with the the order"
    assert kind_of("the ", "", occurrence=0).kind == "function_word"  # "recieve the invoice"


@pytest.mark.parametrize(
    ("before", "after", "kind"),
    [
        ("recieve", "receive", "spelling"),
        ("friday", "Friday", "capitalisation"),
        ("Their", "There", "confusion"),
        ("has", "have", "word_form"),
        ("form", "from", "confusion"),
        ("Hi Sarah,", "Hi Sarah", "punctuation"),
        ("invoice", "invicence", "unknown_word"),
        ("questions", "queryset", "unknown_word"),
        ("Hi Sarah", "Hash", "rewording"),
        ("hope", "want", "rewording"),
    ],
)
def test_the_kind_of_an_edit(before: str, after: str, kind: str) -> None:
    assert kind_of(before, after).kind == kind


def test_the_guard_drops_non_words_and_holds_back_rewordings_under_a_grammar_fix() -> None:
    assert guard_min_gain(kind_of("invoice", "invicence"), strict=True) is None
    assert guard_min_gain(kind_of("invoice", "invicence"), strict=False) is None
    assert guard_min_gain(kind_of("Hi Sarah", "Hash"), strict=True) is None  # two words gone, one come
    assert guard_min_gain(kind_of("hope", "want"), strict=True) == REWORDING_MIN_GAIN
    assert guard_min_gain(kind_of("Hi Sarah", "Hash"), strict=False) == ANY_GAIN  # simplify may reword
    for before, after in [("recieve", "receive"), ("Their", "There"), ("friday", "Friday"), ("has", "have")]:
        assert guard_min_gain(kind_of(before, after), strict=True) == ANY_GAIN


def test_names_the_list_lacks_are_words_the_writer_meant() -> None:
    pray = kind_of("Priya", "Pray")
    assert pray.protected_word and guard_min_gain(pray, strict=True) == REWORDING_MIN_GAIN
    assert kind_of("Lagos", "Lagos.").kind == "punctuation"
    # A word used elsewhere in the document may be written, though no list has it.
    text = "The Frobnitz is ready. Ship the frobnits today."
    start = text.index("frobnits")
    assert classify_edit(text, start, start + 8, "Frobnitz", document_word_counts(text)).kind != "unknown_word"


def test_a_misspelling_the_writer_repeats_is_still_a_misspelling() -> None:
    text = "I will recieve it today. Did you recieve it?"
    counts = document_word_counts(text)
    start = text.index("recieve")
    kind = classify_edit(text, start, start + 7, "receive", counts)
    assert (kind.kind, kind.repeated_word, kind.protected_word) == ("spelling", True, False)
    assert guard_min_gain(kind, strict=True) == REPEATED_WORD_MIN_GAIN
    once = classify_edit(text[:24], start, start + 7, "receive", document_word_counts(text[:24]))
    assert not once.repeated_word and guard_min_gain(once, strict=True) == ANY_GAIN


def test_a_grammar_fix_never_drops_clauses_nor_changes_numbers() -> None:
    text = "The plumber is coming between 9 and 11 a.m. tomorrow, so someone needs to be home."
    counts = document_word_counts(text)
    start = text.index("m. tomorrow")
    clause = classify_edit(text, start, len(text), "", counts)
    assert guard_min_gain(clause, strict=True) is None
    start = text.index("9 and 11")
    assert guard_min_gain(classify_edit(text, start, start + 8, "10", counts), strict=True) is None
    question = "Are we still on for tomorrow?"
    assert (
        guard_min_gain(
            classify_edit(question, len(question) - 1, len(question), ".", document_word_counts(question)), strict=True
        )
        == REWORDING_MIN_GAIN
    )


@pytest.mark.parametrize(
    ("before", "after", "instruction_intent", "intent"),
    [
        ("recieve", "receive", "fluency", "fluency"),
        ("hope", "want", "fluency", "clarity"),
        ("hope", "want", "style", "style"),
        ("hope", "want", "clarity", "clarity"),
        ("Their is", "However, there is", "coherence", "coherence"),
        ("9 and 11", "10 and 12", "fluency", "meaning-changed"),
        ("is a problem", "is not a problem", "clarity", "meaning-changed"),
    ],
)
def test_the_intent_follows_from_the_kind_and_the_instruction(before, after, instruction_intent, intent) -> None:
    text = EMAIL + " Between 9 and 11 it is a problem."
    occurrence = 1 if before == "is a problem" else 0
    kind = kind_of(before, after, text, occurrence)
    assert edit_intent(kind, before, after, instruction_intent) == intent


def test_the_lexicon() -> None:
    assert all(is_english(w) for w in ["receive", "don't", "they're", "well-known", "London", "Friday"])
    assert not any(is_english(w) for w in ["recieve", "definately", "alot", "invicence", "queryset", "frearily"])
    assert (
        same_word_family("went", "go") and same_word_family("studies", "study") and same_word_family("walked", "walk")
    )
    assert not same_word_family("customer", "custom") and not same_word_family("team", "term")
    assert confusable("their", "they're") and confusable("in", "on") and confusable("of", "have")
    assert not confusable("Sarah", "Hash") and not confusable("friday", "frearily")
    assert plausible_respelling("acommodate", "accommodate") and not plausible_respelling("questions", "queryset")


def test_british_spellings_and_possessives_are_english() -> None:
    assert all(
        is_english(w) for w in ["favourite", "centre", "apologise", "colours", "travelled", "children's", "Sue's"]
    )
    assert not any(is_english(w) for w in ["recieve", "seperate", "tommorow", "goverment"])


def test_a_grammar_fix_never_piles_one_mark_on_another() -> None:
    greeting = "Hi Sarah,"
    piled = classify_edit(greeting, len(greeting), len(greeting), ".", document_word_counts(greeting))
    assert piled.piles_marks and guard_min_gain(piled, strict=True) is None
    sentence = "Hi Sarah how are you?"
    comma = classify_edit(sentence, 8, 8, ",", document_word_counts(sentence))
    assert not comma.piles_marks and guard_min_gain(comma, strict=True) == ANY_GAIN
