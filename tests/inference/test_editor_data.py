"""The built-in editor's data: sentences, corruptions, phrase pairs, splits. No model, no database."""

import random

import pytest

from inference.editor_data import noise, phrases
from inference.editor_data.corpus import (
    acceptable,
    build_corpus,
    candidate_sentences,
    comments,
    docstrings,
    is_held_out,
)
from inference.editor_data.examples import (
    CLEAN_TASKS,
    TrainingStream,
    eval_sets,
    load_resources,
)
from inference.instructions import INSTRUCTIONS
from inference.sentences import sentence_spans

SENTENCES = [
    "Return the value of the key.",
    "The function returns a list of names, sorted by age.",
    "It is used to create an object for each request.",
    "They have a copy of the data in memory.",
    "This method will be called when the connection is closed.",
]


@pytest.fixture(scope="module")
def resources():
    """The corpus of Python's reference topics only: small, quick, and the same code as the full one."""
    return load_resources(sources=("pydoc",))


def test_sentence_filter_keeps_prose_and_drops_code_and_markup():
    assert acceptable("Return the value of the key, or raise an error.")
    for bad in [
        "Return foo(x) when the key is set.",  # a call
        "Set the ``timeout`` in seconds for this call.",  # markup
        "See https://example.com for the details here.",  # a URL
        "The value is 42 when nothing else is set.",  # digits
        "Too short here.",
        "Use getValue to read the value of the key.",  # camelCase
        "return the value of the key without a capital.",
        "Return the value of the key without a period",
        "Call it, e.g. when the value of the key is set.",  # two sentences to the splitter
    ]:
        assert not acceptable(bad), bad


def test_docstrings_and_comments_are_read_as_text():
    source = (
        'def f():\n    """Return the value of the key.\n\n    More text here.\n    """\n'
        "    # A comment line\n    # that goes on.\n    return 1\n"
    )
    assert docstrings(source) == ["Return the value of the key.\n\nMore text here."]
    assert comments(source) == ["A comment line\nthat goes on."]
    found = candidate_sentences(["Return the value of the key.\nIt is cached for later use.\n\n    >>> f(1)\n    2"])
    assert found == ["Return the value of the key.", "It is cached for later use."]


def test_corpus_split_is_by_hash_and_disjoint(resources):
    corpus = resources.corpus
    assert corpus.train and corpus.held_out
    assert not set(corpus.train) & set(corpus.held_out)
    assert all(is_held_out(s, 5, "sentence") for s in corpus.held_out)
    assert corpus == build_corpus(("pydoc",), exclude_words=resources.misspellings.wrong_words())


def test_misspelling_pairs_are_split_disjointly():
    m = noise.load_misspellings()
    train = {(w, right) for right, ws in m.train.items() for w in ws}
    held = {(w, right) for right, ws in m.held_out.items() for w in ws}
    assert len(train) > 10 * 1000 and len(held) > 1000
    assert not {w for w, _ in train} & {w for w, _ in held}
    assert all(w.isalpha() and w.islower() and r.isalpha() and r.islower() for w, r in train | held)


def test_each_corruption_makes_the_error_it_names():
    rng = random.Random(0)
    assert noise.misspelling("Return the value.", rng, {"value": ("valeu",)}) == "Return the valeu."
    assert noise.misspelling("Value it is.", rng, {"value": ("valeu",)}) == "Valeu it is."
    assert noise.doubled_word("Return value.", rng) in {"Return return value.", "Return value value."}
    assert noise.dropped_word("Set it to one of the keys.", rng) == "Set it to one the keys."
    assert noise.dropped_word("It is able to create keys.", rng) == "It is able create keys."
    assert noise.dropped_word("Use it to create keys.", rng) is None  # "Use it create keys" may mean "and create"
    assert noise.dropped_word("It can be used in the same way.", random.Random(2)) in {
        "It can used in the same way.",
        "It can be used in same way.",
    }
    assert noise.dropped_word("It is not set.", rng) == "It not set."
    assert noise.dropped_word("It is set by the caller.", rng) is None  # "It set by the caller" reads as past
    assert noise.agreement("The value is set.", rng) == "The value are set."
    assert noise.agreement("It returns the key.", rng) == "It return the key."
    assert noise.agreement("They return the key.", rng) == "They returns the key."
    assert noise.agreement("The size of the list is set.", rng) is None  # "list" is not the subject
    assert noise.article("Return an object.", rng) == "Return a object."
    assert noise.article("Return a user.", rng) is None  # "a user": spelling does not show the sound
    assert noise.capitalisation("Return the value.", rng) == "return the value."
    assert noise.capitalisation("Here I am now.", random.Random(1)) in {"here I am now.", "Here i am now."}
    outcomes = {noise.punctuation("Return it, then stop.", random.Random(s)) for s in range(40)}
    assert outcomes == {
        "Return it, then stop",
        "Return it , then stop.",
        "Return it, then stop .",
        "Return it,, then stop.",
        "Return it, then stop..",
        "Return it,then stop.",
    }


def test_corruptions_are_deterministic_and_always_change_the_sentence(resources):
    table = resources.misspellings.train
    for error_type in noise.ERROR_TYPES:
        changed = 0
        for sentence in SENTENCES + resources.corpus.train[:60]:

            def run(seed):
                rng = random.Random(seed)
                if error_type == "misspelling":
                    return noise.misspelling(sentence, rng, table)
                return noise.CORRUPTIONS[error_type](sentence, rng)

            out = run(7)
            assert out == run(7)
            if out is not None:
                changed += 1
                assert out != sentence
                assert sentence_spans(out) == [(0, len(out))]
        assert changed, error_type


def test_synthetic_typos_are_never_known_words_or_held_out_misspellings():
    rng = random.Random(0)
    avoid = frozenset({"vlaue", "valu", "vvalue"})
    known = frozenset({"value", "the", "return"})
    for _ in range(200):
        out = noise.synthetic_misspelling("Return the value.", rng, known, avoid)
        if out is not None:
            (typo,) = set(out.rstrip(".").lower().split()) - {"return", "the", "value"}
            assert typo not in avoid | known


def test_phrase_pairs_split_keeps_the_named_examples_in_training():
    for task, pairs in phrases.PHRASE_TASKS.items():
        train, held = phrases.split_pairs(pairs)
        assert len(pairs) >= 40 and held and not set(train) & set(held)
        assert not {p.long for p in held} & phrases.ALWAYS_TRAINED
    rng = random.Random(0)
    pair = phrases.PhrasePair("in order to", "to", "purpose")
    assert phrases.lengthen("Call it to create the value.", pair, rng) == "Call it in order to create the value."
    assert phrases.lengthen("You need to create the value.", pair, rng) is None  # "need to": not a purpose
    assert (
        phrases.lengthen("Now we return.", phrases.PhrasePair("at this point in time", "now"), rng)
        == "At this point in time we return."
    )


def test_training_stream_is_deterministic_uses_the_app_prompts_and_only_training_data(resources):
    examples = TrainingStream(resources, seed=3).take(600)
    assert examples == TrainingStream(resources, seed=3).take(600)
    assert examples != TrainingStream(resources, seed=4).take(600)
    train = set(resources.corpus.train)
    held_wrong = resources.held_out_misspellings
    tasks = {e.task for e in examples}
    assert (
        set(noise.ERROR_TYPES) | set(CLEAN_TASKS) | {"simplify", "formal", "mixed"}
        >= tasks
        >= set(noise.ERROR_TYPES) | {"clean", "mixed"}
    )
    for e in examples:
        assert e.model_input == f"{INSTRUCTIONS[e.instruction].prompt}: {e.source}"
        assert e.target in train
        assert (e.source == e.target) == (e.task in CLEAN_TASKS)
        if e.task in ("misspelling", "mixed"):
            assert not {w.lower().strip(",;()") for w in e.source.rstrip(".").split()} & held_wrong
    misspelled_words = [len(set(e.source.split()) - set(e.target.split())) for e in examples if e.task == "misspelling"]
    assert max(misspelled_words) > 1 and misspelled_words.count(1) > len(misspelled_words) / 3
    clean_share = sum(e.task in CLEAN_TASKS for e in examples) / len(examples)
    assert 0.25 < clean_share < 0.45


def test_eval_sets_come_from_held_out_sentences_and_misspellings(resources):
    sets = eval_sets(resources, n=5)
    held = set(resources.corpus.held_out)
    assert set(noise.ERROR_TYPES) | set(CLEAN_TASKS) <= set(sets)
    for name in list(noise.ERROR_TYPES) + list(CLEAN_TASKS):
        assert sets[name], name
        assert all(e.target in held for e in sets[name])
    train_wrong = {w for ws in resources.misspellings.train.values() for w in ws}
    for e in sets["misspelling"]:
        (changed,) = set(e.source.split()) - set(e.target.split())
        assert changed.lower().strip(".,;()") not in train_wrong


def test_learners_confusions_and_lower_case_names() -> None:
    import random

    from inference.editor_data.noise import confusion, name_capitalisation

    rng = random.Random(0)
    assert confusion("We should have left earlier than them.", rng) in {
        "We should of left earlier than them.",
        "We should have left earlier then them.",
    }
    assert confusion("Nothing to swap here at all.", rng) is None
    assert name_capitalisation("We met Sarah in Madrid on Friday.", rng) in {
        "We met sarah in Madrid on Friday.",
        "We met Sarah in madrid on Friday.",
        "We met Sarah in Madrid on friday.",
    }
    assert name_capitalisation("Nothing here is a name.", rng) is None
