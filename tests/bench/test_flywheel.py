"""The flywheel benchmark's simulated writer: its decision rule and the work it leaves by hand."""

import random

from bench.flywheel import WRITERS, Bullet, BulletWriter, Slide, bullet_from, judge, levenshtein
from inference.diffing import diff_words
from inference.editor_data.corpus import Corpus
from inference.editor_data.examples import Resources
from inference.editor_data.noise import load_misspellings

DRAFT = "The functon returns the the value"
TARGET = "The function returns the value"


def verdicts(revised: str) -> list[tuple[str, str]]:
    writer = BulletWriter()
    return [writer.verdict(DRAFT, TARGET, e) for e in diff_words(DRAFT, revised)]


def test_the_writer_accepts_real_fixes():
    assert verdicts("The function returns the value") == [("accept", "fix"), ("accept", "fix")]


def test_the_writer_rejects_a_final_period_and_a_fix_that_comes_with_one():
    assert verdicts("The functon returns the the value.") == [("reject", "end punctuation")]
    merged = "The functon returns the the values."  # a change of the last word and the period, one edit
    assert verdicts(merged) == [("reject", "other")]


def test_the_writer_rejects_edits_that_do_not_lead_to_the_target():
    assert verdicts("A functon returns the the value") == [("reject", "other")]


def test_judge_counts_verdicts_and_the_characters_left_to_fix():
    slide = Slide([Bullet(DRAFT, TARGET, "misspelling"), Bullet("It are ready", "It is ready", "agreement")])
    revised = "The function returns the the value.\n\nIt is ready."
    edits = diff_words(slide.text, revised)
    verdict_list, tally = judge(BulletWriter(), slide, edits)
    assert verdict_list == ["accept", "reject", "accept", "reject"]
    assert (tally.proposals, tally.accepted, tally.end_punctuation) == (4, 2, 2)
    assert tally.cost_before == levenshtein(DRAFT, TARGET) + levenshtein("It are ready", "It is ready") == 1 + 4 + 3
    assert tally.cost_after == len("the ") == 4


def test_levenshtein():
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein("", "abc") == levenshtein("abc", "") == 3
    assert levenshtein("same", "same") == 0


def test_a_bullet_has_one_error_and_no_final_period():
    resources = Resources(Corpus(train=[], held_out=[]), load_misspellings())
    sentence = "It returns the value of the key in the table."
    bullet = bullet_from(sentence, random.Random(0), resources)
    assert bullet.target == sentence[:-1]
    assert bullet.text != bullet.target and not bullet.text.endswith(".")


def test_each_writer_has_a_preference_of_its_own_kind():
    sentence = "It returns the value and the key of the table."
    targets = {name: w.target_of(sentence) for name, w in WRITERS.items()}
    assert targets == {
        "bullets": "It returns the value and the key of the table",
        "lowercase": "it returns the value and the key of the table.",
        "semicolons": "It returns the value and the key of the table;",
        "spelling": "It returns the value and the key of the table.",
    }
    assert WRITERS["lowercase"].target_of("I think so.") is None and len(WRITERS) >= 4
    speller = WRITERS["spelling"]
    assert speller.wanted("It is.", "It are.", "agreement") == "It are."  # their grammar stays
    assert speller.wanted("It is ready.", "It is raedy.", "misspelling") == "It is ready."


def test_a_writers_draft_has_one_mistake_and_their_own_ending():
    resources = Resources(Corpus(train=[], held_out=[]), load_misspellings())
    sentence = "It returns the value and the key of the table."
    for name, writer in WRITERS.items():
        bullet = bullet_from(sentence, random.Random(1), resources, writer)
        assert bullet.text != writer.target_of(sentence), name
    semicolon = bullet_from(sentence, random.Random(1), resources, WRITERS["semicolons"])
    assert not semicolon.text.endswith(";")  # typed without it: the writer adds it by hand
    lowercase = bullet_from(sentence, random.Random(1), resources, WRITERS["lowercase"])
    assert lowercase.text.startswith("it") and lowercase.text.endswith(".") and lowercase.error != "capitalisation"


def test_the_semicolon_writer_rejects_the_period_and_accepts_the_semicolon():
    writer = WRITERS["semicolons"]
    draft, target = "It return the value", "It returns the value;"
    edits = {e.after: writer.verdict(draft, target, e) for e in diff_words(draft, "It returns the value.")}
    assert edits == {"returns": ("accept", "fix"), ".": ("reject", "end punctuation")}
    (wanted,) = [e for e in diff_words(draft, "It return the value;")]
    assert writer.verdict(draft, target, wanted) == ("accept", "fix")
