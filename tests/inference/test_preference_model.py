"""A writer's preference model (inference/preference_model.py): learnt from their decisions, it
holds back the kinds of edit they reject on sentences it never saw."""

import random

from inference.preference_model import MIN_DECISIONS, DecidedEdit, PreferenceModel, edit_features

SENTENCES = [
    "the cache keeps every entry it was given",
    "a worker reads the queue and runs each task",
    "the report lists the figures of every month",
    "we send the invoice after the call",
    "she wrote the notes for the meeting",
    "the parser reads the file line by line",
]


def period(sentence: str) -> DecidedEdit:
    return DecidedEdit(sentence, len(sentence), len(sentence), ".", accepted=False)


def capital(sentence: str, accepted: bool) -> DecidedEdit:
    return DecidedEdit(sentence, 0, len(sentence.split()[0]), sentence.split()[0].capitalize(), accepted)


def spelling_fix(sentence: str) -> DecidedEdit:
    words = sentence.split()
    i = len(words[0]) + 1
    typo_sentence = sentence[:i] + words[1][::-1] + sentence[i + len(words[1]) :]
    return DecidedEdit(typo_sentence, i, i + len(words[1]), words[1], accepted=True)


def test_an_edit_is_described_by_its_kind_not_its_sentence():
    f = edit_features("we send the invoice", 19, 19, ".")
    assert f["end_punctuation"] == 1 and f["adds:."] == 1 and f["where=end"] == 1
    g = edit_features("we send the invoice", 0, 2, "We")
    assert g["case_only"] == g["to_capital"] == g["first_word"] == 1 and g["kind=capitalisation"] == 1


def test_it_learns_to_hold_back_what_the_writer_rejects_on_new_sentences():
    rng = random.Random(0)
    decided = []
    for _ in range(4):
        for s in SENTENCES[:4]:
            decided += [period(s), capital(s, accepted=False), spelling_fix(s)]
    rng.shuffle(decided)
    model = PreferenceModel.fit(decided)
    assert model.trained and model.decisions == len(decided)
    new = SENTENCES[5]  # never decided on
    assert not model.keeps(new, len(new), len(new), ".")
    assert not model.keeps(new, 0, 3, "The")
    fix = spelling_fix(new)
    assert model.keeps(fix.sentence, fix.start, fix.end, fix.after)
    assert model.accept_probability(fix.sentence, fix.start, fix.end, fix.after) > 0.5


def test_a_writer_who_wants_capitals_gets_them():
    decided = [capital(s, accepted=True) for s in SENTENCES[:4]] * 3 + [period(s) for s in SENTENCES[:4]] * 3
    model = PreferenceModel.fit(decided)
    new = SENTENCES[5]
    assert model.keeps(new, 0, 3, "The") and not model.keeps(new, len(new), len(new), ".")


def test_with_too_few_decisions_or_one_verdict_only_it_holds_nothing_back():
    few = PreferenceModel.fit([period(s) for s in SENTENCES[:3]] + [spelling_fix(SENTENCES[0])])
    one_sided = PreferenceModel.fit([period(s) for s in SENTENCES] * (MIN_DECISIONS // len(SENTENCES) + 1))
    for model in (few, one_sided):
        assert not model.trained and model.accept_probability("a b", 3, 3, ".") is None
        assert model.keeps("a b", 3, 3, ".")


CODE_COMMENTS = [
    "returns the parsed config dict or raises ValueError",
    "the cache key is the hash of the request path",
    "retry the socket connect up to three times",
    "free the buffer before the thread exits",
    "the iterator yields one row per database record",
    "parse the header bytes into an int",
]
LETTERS = [
    "thank you so much for the lovely flowers",
    "i hope you and the kids are doing well",
    "we would love to see you at the wedding",
    "my mother sends her warmest wishes to you all",
    "looking forward to our holiday in the summer",
    "please give my love to your sister",
]


def test_with_the_sentence_embedding_it_tells_kinds_of_sentence_apart():
    from inference.memory import minilm_embed

    # Periods wanted in letters, never in code comments; the edit is the same, the sentence is not.
    decided = [DecidedEdit(s, len(s), len(s), ".", accepted=False) for s in CODE_COMMENTS[:5]] * 3
    decided += [DecidedEdit(s, len(s), len(s), ".", accepted=True) for s in LETTERS[:5]] * 3
    plain, embedded = PreferenceModel.fit(decided), PreferenceModel.fit(decided, embed=minilm_embed)
    comment, letter = CODE_COMMENTS[5], LETTERS[5]  # never decided on
    p_comment = embedded.accept_probability(comment, len(comment), len(comment), ".")
    p_letter = embedded.accept_probability(letter, len(letter), len(letter), ".")
    assert p_letter > 0.5 > p_comment
    # By the edit alone the two are the same guess.
    assert plain.accept_probability(comment, len(comment), len(comment), ".") == plain.accept_probability(
        letter, len(letter), len(letter), "."
    )
