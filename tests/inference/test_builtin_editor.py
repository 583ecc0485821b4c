"""The built-in editor that ships in inference/weights, through the same loading, generation
and diff code as any other model."""

from pathlib import Path

import pytest

from inference.diffing import apply_edits
from inference.editor import GenerationSettings, load_editor
from inference.editor_train import MIN_EDIT_GAIN
from inference.instructions import INSTRUCTIONS
from inference.revision import model_input, revise_document

BUILTIN = Path(__file__).resolve().parents[2] / "inference" / "weights" / "redline-editor"
WITH_ERRORS = (
    "The function returns the the value of the first argument. "
    "This method are called when the object is created. "
    "The result is stored in a list"
)
CLEAN = "The module provides a way to read configuration files. Each thread has its own copy of the data."


@pytest.fixture(scope="module")
def editor():
    return load_editor(str(BUILTIN))


def revise(editor, text: str):
    fix = INSTRUCTIONS["fix_grammar"]
    return revise_document(editor, text, fix.prompt, fix.intent, GenerationSettings())


def test_the_weights_are_small_and_carry_their_training_card():
    size = sum(f.stat().st_size for f in BUILTIN.iterdir())
    assert size < 30 * 1024 * 1024
    assert (BUILTIN / "training_card.json").is_file()


def test_it_proposes_the_fixes_a_newcomer_expects(editor):
    revision = revise(editor, f"{WITH_ERRORS}\n\n{CLEAN}")
    proposed = {(e.before, e.after) for e in revision.edits}
    assert {(" the", ""), ("are", "is"), ("", ".")} <= proposed
    assert all(e.intent == "fluency" for e in revision.edits)
    assert apply_edits(f"{WITH_ERRORS}\n\n{CLEAN}", revision.edits) == revision.model_output


def test_it_leaves_good_text_alone(editor):
    assert revise(editor, CLEAN).edits == []


def test_it_prefers_a_right_fix_to_the_error_and_good_text_to_a_slip(editor):
    fix = INSTRUCTIONS["fix_grammar"].prompt
    wrong, right = (
        "This method are called when the object is created.",
        "This method is called when the object is created.",
    )
    clean, slipped = CLEAN.split(". ")[0] + ".", CLEAN.split(". ")[0].replace("configuration", "configuraton") + "."
    as_written, fixed, kept, typo = editor.score(
        [model_input(fix, wrong), model_input(fix, wrong), model_input(fix, clean), model_input(fix, clean)],
        [wrong, right, clean, slipped],
    )
    assert fixed - as_written >= MIN_EDIT_GAIN  # a fix it would propose
    assert typo - kept < 0  # a typo it would never propose


def test_it_carries_its_recommended_minimum_edit_gain(editor):
    assert editor.default_min_edit_gain == MIN_EDIT_GAIN
    assert editor.min_edit_gain(GenerationSettings()) == MIN_EDIT_GAIN


def test_on_an_ordinary_email_it_proposes_only_sensible_edits(editor):
    email = (
        "Hi Sarah,\n\nI hope you recieve the invoice by friday. Their is a problem with the the order. "
        "If you has any questions, let me know. I will be in the office untill 5 p.m. on Wednesday.\n\nThanks,\nPriya"
    )
    proposed = {(e.before, e.after) for e in revise(editor, email).edits}
    wanted = {
        ("recieve", "receive"),
        ("friday", "Friday"),
        ("Their", "There"),
        (" the", ""),
        ("the ", ""),
        ("has", "have"),
        ("untill", "until"),
    }
    assert len(proposed & wanted) >= 5
    assert proposed <= wanted  # nothing else: no "Hi Sarah,." and no name or correct word changed
