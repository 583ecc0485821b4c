"""Agreement figures and version comparisons, checked against hand-computed and published values."""

import pytest

from webapp.preferences.agreement import (
    BOTH_BAD,
    LOSS,
    TIE,
    WIN,
    GoldScore,
    PairKappa,
    bradley_terry,
    cohen_kappa,
    gold_accuracy,
    krippendorff_alpha,
    majority_agreement,
    outcome,
    pairwise_kappa,
    ranking_comparisons,
    units_from_labels,
    win_rate,
)

# Gold accuracy


def test_gold_accuracy_matches_the_preferred_side_not_the_strength():
    gold = {"g1": -2, "g2": 1, "g3": 0, "g4": BOTH_BAD, "g5": -1}
    labels = [
        ("ann", "g1", -1),  # A better vs gold A much better: same side, a match
        ("ann", "g2", 2),  # B much better vs gold B better: a match
        ("ann", "g3", -1),  # A better vs gold tie: only a tie matches a tie
        ("ann", "g4", BOTH_BAD),  # a match
        ("ann", "g5", 0),  # tie vs gold A better: no match
        ("ann", "plain", 2),  # no gold answer: not counted
    ]
    assert gold_accuracy(labels, gold) == {"ann": GoldScore(correct=3, total=5, accuracy=0.6)}


def test_gold_accuracy_keeps_annotators_without_gold_items_as_none_and_counts_revised_labels_once():
    gold = {"g1": BOTH_BAD, "g2": 0}
    labels = [
        ("bob", "plain", 1),
        ("ann", "g1", -2),
        ("ann", "g1", BOTH_BAD),  # revised: replaces the -2
        ("ann", "g2", 1),  # B better does not match a tie
    ]
    scores = gold_accuracy(labels, gold)
    assert scores["ann"] == GoldScore(correct=1, total=2, accuracy=0.5)
    assert scores["bob"] == GoldScore(correct=0, total=0, accuracy=None)


def test_gold_accuracy_of_rankings_needs_the_identical_ranking():
    gold = {"r1": ("x", "y", "z"), "r2": ("x", "y", "z")}
    labels = [("ann", "r1", ("x", "y", "z")), ("ann", "r2", ("x", "z", "y"))]
    assert gold_accuracy(labels, gold)["ann"].accuracy == 0.5


def test_an_unknown_label_value_is_an_error():
    with pytest.raises(ValueError):
        gold_accuracy([("ann", "g1", 3)], {"g1": 1})


# Cohen's kappa


def test_cohen_kappa_hand_computed():
    # 10 items: both "A better" 4, both "B better" 3, disagreeing 3. p_o = 0.7.
    # First: -1 six times, 1 four times; second: five each. p_e = (6*5 + 4*5) / 100 = 0.5.
    pairs = [(-1, -1)] * 4 + [(1, 1)] * 3 + [(-1, 1)] * 2 + [(1, -1)]
    assert cohen_kappa(pairs) == pytest.approx((0.7 - 0.5) / (1 - 0.5))


def test_cohen_kappa_is_nominal_so_strength_differences_disagree():
    # p_o = 2/4; p_e = (1*1 + 1*1 + 2*2) / 16 = 6/16; kappa = (8/16 - 6/16) / (10/16) = 0.2
    assert cohen_kappa([(-2, -1), (-1, -2), (1, 1), (1, 1)]) == pytest.approx(0.2)


def test_cohen_kappa_perfect_and_undefined():
    assert cohen_kappa([(-1, -1), (BOTH_BAD, BOTH_BAD), (0, 0)]) == 1.0
    assert cohen_kappa([(1, 1), (1, 1), (1, 1)]) is None  # one category throughout: p_e = 1
    assert cohen_kappa([]) is None


def test_cohen_kappa_below_zero_when_they_always_disagree():
    # p_o = 0, p_e = (1*1 + 1*1) / 4 = 0.5: kappa = -1
    assert cohen_kappa([(-1, 1), (1, -1)]) == -1.0


def test_pairwise_kappa_skips_pairs_with_too_few_common_items():
    pairs = [(-1, -1)] * 4 + [(1, 1)] * 3 + [(-1, 1)] * 2 + [(1, -1)]
    labels = [("ann", "item0", 1)]  # revised below to -1: the last label counts
    for i, (a, b) in enumerate(pairs):
        labels += [("ann", f"item{i}", a), ("bob", f"item{i}", b)]
    labels += [("cat", "item0", -1), ("cat", "item1", -1), ("cat", "item4", 1)]

    assert pairwise_kappa(labels, min_common=10) == [PairKappa("ann", "bob", pytest.approx(0.4), 10)]

    wide = pairwise_kappa(labels, min_common=3)
    assert [(p.first, p.second, p.n) for p in wide] == [("ann", "bob", 10), ("ann", "cat", 3), ("bob", "cat", 3)]
    # ann and cat agree on all three items, using two categories.
    assert wide[1].kappa == 1.0


# Krippendorff's alpha

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: four observers,
# twelve units, values 1-5, None where an observer gave no value.
OBSERVER_A = [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None]
OBSERVER_B = [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3]
OBSERVER_C = [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None]
OBSERVER_D = [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None]
PAPER_UNITS = list(zip(OBSERVER_A, OBSERVER_B, OBSERVER_C, OBSERVER_D))
# Unit 12 has one value and drops out. The 40 pairable values: n_1..n_5 = 9, 13, 10, 5, 3.
# Units that disagree: 2 (2,2,3,2), 6 (1,2,3,4) and 8 (1,1,2,1), each with m = 4 values.


def test_krippendorff_alpha_nominal_matches_the_paper():
    # Observed: unit 2 has 6 ordered disagreeing pairs, unit 6 has 12, unit 8 has 6; each /(m-1)=3:
    # 2 + 4 + 2 = 8. Expected: n^2 - sum n_c^2 = 1600 - 384 = 1216. alpha = 1 - 39 * 8 / 1216.
    alpha = krippendorff_alpha(PAPER_UNITS)
    assert alpha == pytest.approx(1 - 39 * 8 / 1216)
    assert round(alpha, 3) == 0.743


def test_krippendorff_alpha_interval_matches_the_paper():
    # Observed: units 2 and 8 give 6 pairs at distance 1 each, /3: 2 + 2; unit 6 gives
    # 2 * (1 + 4 + 9 + 1 + 4 + 1) / 3 = 40/3. Total 52/3.
    # Expected: sum n_c n_k (c-k)^2 = 2 n sum n_c c^2 - 2 (sum n_c c)^2 = 2*40*306 - 2*100^2 = 4480.
    alpha = krippendorff_alpha(PAPER_UNITS, level="interval")
    assert alpha == pytest.approx(1 - 39 * (52 / 3) / 4480)
    assert round(alpha, 3) == 0.849


def test_krippendorff_alpha_ordinal_matches_the_paper():
    # d(c, k) = (n_c + ... + n_k - (n_c + n_k)/2)^2 with n = 9, 13, 10, 5, 3:
    d = {(1, 2): 11**2, (2, 3): 11.5**2, (3, 4): 7.5**2, (1, 3): 22.5**2, (1, 4): 30**2,
         (2, 4): 19**2, (1, 5): 34**2, (2, 5): 23**2, (3, 5): 11.5**2, (4, 5): 4**2}  # fmt: skip
    n = {1: 9, 2: 13, 3: 10, 4: 5, 5: 3}
    # Observed: unit 2 six (2,3) pairs, unit 8 six (1,2) pairs, unit 6 every pair of 1-4 twice; /3.
    observed = (6 * d[2, 3] + 6 * d[1, 2] + 2 * sum(d[c, k] for c, k in d if k <= 4)) / 3
    expected = 2 * sum(n[c] * n[k] * d[c, k] for c, k in d)
    assert observed == 1891 and expected == 399480
    alpha = krippendorff_alpha(PAPER_UNITS, level="ordinal")
    assert alpha == pytest.approx(1 - 39 * observed / expected)
    assert round(alpha, 3) == 0.815


def test_krippendorff_alpha_edge_cases():
    assert krippendorff_alpha([[1, 1, 1], [2, 2], [BOTH_BAD, BOTH_BAD, None]]) == 1.0
    # Systematic disagreement: o(1,2) = o(2,1) = 2, n = 4, alpha = 1 - 3 * 4 / (16 - 8).
    assert krippendorff_alpha([[1, 2], [2, 1]]) == pytest.approx(-0.5)
    assert krippendorff_alpha([[1], [2, None], []]) is None  # nothing pairable
    assert krippendorff_alpha([]) is None
    assert krippendorff_alpha([[1, 1], [1, 1, 1], [2]]) is None  # one value throughout: 0/0


def test_krippendorff_alpha_ordinal_and_interval_need_numbers():
    with pytest.raises(ValueError):
        krippendorff_alpha([[1, BOTH_BAD], [2, 2]], level="ordinal")
    with pytest.raises(ValueError):
        krippendorff_alpha([[1, 2]], level="ratio")


def test_units_from_labels_feeds_alpha():
    labels = []
    for observer, values in zip("ABCD", (OBSERVER_A, OBSERVER_B, OBSERVER_C, OBSERVER_D)):
        labels += [(observer, unit, v) for unit, v in enumerate(values) if v is not None]
    units = units_from_labels(labels)
    assert sorted(len(u) for u in units) == [1, 2, 3, 3] + [4] * 8
    assert krippendorff_alpha(units) == pytest.approx(krippendorff_alpha(PAPER_UNITS))


# Win rate


def test_outcome_reads_a_pairwise_label_from_the_side_of_version_x():
    assert [outcome(v, "A") for v in (-2, -1, 0, 1, 2, BOTH_BAD)] == [WIN, WIN, TIE, LOSS, LOSS, None]
    assert [outcome(v, "B") for v in (-2, 0, 2)] == [LOSS, TIE, WIN]


def test_win_rate_counts_ties_as_half_and_leaves_both_bad_out():
    outcomes = [WIN] * 7 + [LOSS] * 2 + [TIE] * 2 + [BOTH_BAD, None]
    result = win_rate(outcomes)
    assert result.rate == pytest.approx(8 / 11)
    assert result.n == 11
    assert result.low < result.rate < result.high
    # Close to the normal approximation: per-outcome variance 0.1529, se = 0.118, so 8/11 -+ 0.23.
    assert result.low == pytest.approx(8 / 11 - 0.231, abs=0.06)
    assert result.high == pytest.approx(8 / 11 + 0.231, abs=0.06)


def test_win_rate_bootstrap_is_deterministic_for_a_seed():
    outcomes = [WIN] * 7 + [LOSS] * 2 + [TIE] * 2
    assert win_rate(outcomes, seed=3) == win_rate(outcomes, seed=3)
    assert win_rate(outcomes, n_boot=500, seed=1) != win_rate(outcomes, n_boot=500, seed=2)


def test_win_rate_with_nothing_counted_or_one_kind_only():
    nothing = win_rate([BOTH_BAD, None])
    assert (nothing.rate, nothing.low, nothing.high, nothing.n) == (None, None, None, 0)
    all_wins = win_rate([WIN] * 5)
    assert (all_wins.rate, all_wins.low, all_wins.high) == (1.0, 1.0, 1.0)


# Bradley-Terry


def test_bradley_terry_with_two_versions_is_the_win_rate():
    comparisons = [("x", "y", WIN)] * 7 + [("y", "x", WIN)] * 2 + [("x", "y", TIE)] * 2 + [("x", "y", BOTH_BAD)]
    fit = bradley_terry(comparisons)
    assert fit.n == 11
    assert fit.strengths == pytest.approx({"x": 8 / 11, "y": 3 / 11})
    assert fit.p_beats("x", "y") == pytest.approx(win_rate([WIN] * 7 + [LOSS] * 2 + [TIE] * 2).rate)


def test_bradley_terry_three_versions_reach_the_hand_solved_fixed_point():
    # a-b: a wins 1, ties 2 (a 2 wins, b 1); b-c: b wins 2 of 3; a-c: a wins 4 of 5.
    comparisons = (
        [("a", "b", WIN), ("a", "b", TIE), ("b", "a", TIE)]
        + [("b", "c", WIN), ("c", "b", LOSS), ("b", "c", LOSS)]
        + [("a", "c", WIN)] * 4
        + [("c", "a", WIN)]
    )
    # At s = (4, 2, 1) / 7 each version's wins equal its expected wins, sum_j n_ij s_i / (s_i + s_j):
    # a: 3 * 4/6 + 5 * 4/5 = 6 = 2 + 4;  b: 3 * 2/6 + 3 * 2/3 = 3 = 1 + 2;  c: 5 * 1/5 + 3 * 1/3 = 2 = 1 + 1.
    # That is the likelihood's stationary point, so the MM algorithm's fixed point.
    fit = bradley_terry(comparisons)
    assert fit.strengths == pytest.approx({"a": 4 / 7, "b": 2 / 7, "c": 1 / 7}, abs=1e-9)
    assert fit.p_beats("a", "c") == pytest.approx(0.8)
    assert fit.p_beats("c", "b") == pytest.approx(1 / 3)


def test_bradley_terry_without_a_finite_fit_is_none():
    assert bradley_terry([("x", "y", WIN), ("x", "y", WIN)]) is None  # y never wins
    # x and y trade wins, z and w trade wins, but the two groups never meet.
    split = [("x", "y", WIN), ("y", "x", WIN), ("z", "w", WIN), ("w", "z", WIN)]
    assert bradley_terry(split) is None
    assert bradley_terry([("x", "y", BOTH_BAD)]) is None


def test_bradley_terry_from_rankings():
    # Each version first, second and third once: all equal.
    rankings = [("a", "b", "c"), ("b", "c", "a"), ("c", "a", "b")]
    assert ranking_comparisons(rankings[0]) == [("a", "b", WIN), ("a", "c", WIN), ("b", "c", WIN)]
    fit = bradley_terry(c for r in rankings for c in ranking_comparisons(r))
    assert fit.n == 9
    assert fit.strengths == pytest.approx({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3})


# Export filter


def test_majority_agreement():
    assert majority_agreement([-1, -2, 1]) == pytest.approx(2 / 3)  # two prefer A, whatever the strength
    assert majority_agreement([0, 0, 0]) == 1.0
    assert majority_agreement([-1, 1, -2, 2]) == 0.5  # tied majority
    assert majority_agreement([BOTH_BAD, BOTH_BAD, 0, 2]) == 0.5
    assert majority_agreement([]) is None
