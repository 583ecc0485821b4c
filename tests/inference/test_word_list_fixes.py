"""The word lists' fixes: what they offer for a sentence, and how the revision path uses them."""

import pytest

from inference.word_list_fixes import respellings, word_fixes


def offered(sentence: str, edited: list[tuple[int, int]] | None = None) -> dict[str, tuple[str, ...]]:
    return {f.before: f.candidates for f in word_fixes(sentence, edited or [])}


def test_words_no_list_has_get_the_nearest_words() -> None:
    assert respellings("definately") == ("definitely",)
    assert respellings("tommorow") == ("tomorrow",)  # one letter dropped and one added
    assert "which" in respellings("wich") and "witch" in respellings("wich")  # the model chooses
    assert respellings("dont") == ("don't",)
    assert respellings("teached") == ("taught",)
    assert respellings("kwargs") == ()


def test_names_days_and_i_get_their_capitals() -> None:
    assert offered("we met in glasgow on friday and i said hello.") == {
        "we": ("We",),
        "glasgow": ("Glasgow",),
        "friday": ("Friday",),
        "i": ("I",),
    }
    assert offered("The south of France.") == {}  # "south" is also written in lower case


@pytest.mark.parametrize(
    ("sentence", "wrong", "right"),
    [
        ("You should of told me.", "of", "have"),
        ("Their are two.", "Their", "There"),
        ("I think its a shame.", "its", "it's"),
        ("The team has it's own room.", "it's", "its"),
        ("Your welcome to stay.", "Your", "You're"),
        ("It is better then nothing.", "then", "than"),
        ("She has already wrote it.", "wrote", "written"),
        ("I ate a egg and an banana.", "a", "an"),
        ("It was an unique day.", "an", "a"),
    ],
)
def test_sure_patterns_and_articles(sentence: str, wrong: str, right: str) -> None:
    assert offered(sentence)[wrong] == (right,)


@pytest.mark.parametrize(
    "sentence",
    [
        "If a is negative then b must be integral.",  # a variable, not an article
        "Send it to info@example.org by the 3rd.",  # addresses and numbers
        "The resize step unmerges the rng.",  # a prefix and a list word; no vowel-less guesses either
        "Call `frobnicate` with the rng.",
        "Have you got a minute? I have got one.",  # "have got" is right
        "It is an hour's drive, a one-off.",
    ],
)
def test_correct_text_and_jargon_are_left_alone(sentence: str) -> None:
    assert offered(sentence) == {}


def test_words_an_edit_already_touches_are_left_to_it() -> None:
    sentence = "You should of told me on friday."
    start = sentence.index("of")
    assert "of" not in offered(sentence, [(start, start + 2)])
    assert "friday" in offered(sentence, [(start, start + 2)])
