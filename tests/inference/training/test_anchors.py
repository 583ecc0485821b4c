"""Rows of general English mixed into an editor's retraining (inference/training/anchors.py)."""

from inference.revision import model_input
from inference.training.anchors import anchor_rows

PROMPT = "Fix grammatical errors in this sentence"


def test_half_the_rows_keep_a_correct_sentence_and_half_fix_one_mistake():
    rows = anchor_rows(40, PROMPT, seed=3)
    assert len(rows) == 40 and all(r.is_pair for r in rows)
    kept, fixed = rows[0::2], rows[1::2]
    assert all(r.prompt == model_input(PROMPT, r.chosen) for r in kept)  # leave it as it is
    assert all(r.prompt == model_input(PROMPT, r.rejected) for r in fixed)  # the mistake left in loses
    assert anchor_rows(40, PROMPT, seed=3) == rows and anchor_rows(40, PROMPT, seed=4) != rows


def test_no_mistake_is_about_capitals_or_end_punctuation_which_are_a_writers_style():
    for row in anchor_rows(200, PROMPT):
        damaged = row.rejected
        assert damaged.lower() != row.chosen.lower()
        assert damaged.rstrip(".!?;:") != row.chosen.rstrip(".!?;:") and damaged[-1] == row.chosen[-1]


def test_none_asked_none_given_and_more_than_the_sentences_repeat_them():
    assert anchor_rows(0, PROMPT) == []
    many = anchor_rows(4000, PROMPT)
    assert len(many) == 4000 and len({r.chosen for r in many}) < 4000
