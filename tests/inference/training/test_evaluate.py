"""Evaluation: padding does not change a score, and rows without a pair are counted apart."""

import math

import pytest

from inference.training import ModelRef, PreferenceRow
from inference.training.evaluate import completion_logprobs, preference_accuracy
from tests.inference.training.conftest import ROWS


def test_log_probabilities_do_not_depend_on_the_batch(base: ModelRef):
    one_by_one = completion_logprobs(base, ROWS, batch_size=1)
    batched = completion_logprobs(base, ROWS, batch_size=16)  # rows of different lengths, padded
    for (a_chosen, a_rejected), (b_chosen, b_rejected) in zip(one_by_one, batched):
        assert a_chosen == pytest.approx(b_chosen, abs=1e-4) and a_chosen < 0
        assert a_rejected == pytest.approx(b_rejected, abs=1e-4) or math.isnan(a_rejected) and math.isnan(b_rejected)
    assert math.isnan(batched[2][1])


def test_preference_accuracy_without_pairs_says_so(base: ModelRef):
    assert preference_accuracy(base, [PreferenceRow("Simplify this sentence: it works.", "It works.")]) == {
        "n": 0,
        "accuracy": None,
        "mean_margin": None,
    }
