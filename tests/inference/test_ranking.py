import pytest

from inference.ranking import counted_tests, rank_candidates


def _passes(table: dict[int, set[int]], tests: list[int]) -> dict[tuple[int, int], bool]:
    return {(c, t): t in passed for c, passed in table.items() for t in tests}


def test_two_consensus_sets_score_candidates_times_tests() -> None:
    tests = [10, 11, 12, 13]
    table = {1: {10, 11, 12}, 2: {10, 11, 12}, 3: {10, 11, 12}, 4: {10, 13}, 5: set()}
    ranked = rank_candidates(list(table), tests, _passes(table, tests))
    assert [r.candidate for r in ranked] == [1, 2, 3, 4, 5]
    assert [r.rank for r in ranked] == [1, 2, 3, 4, 5]
    assert [r.score for r in ranked] == [9, 9, 9, 2, 0]  # 3 x 3, 1 x 2, nothing passed
    assert ranked[0].consensus == [1, 2, 3]
    assert ranked[3].consensus == [4]
    assert ranked[3].passed_tests == [10, 13] == ranked[3].counted_tests


def test_validated_tests_alone_count_and_change_the_ranking() -> None:
    tests = [10, 11, 12, 13]
    table = {1: {10, 11, 12}, 2: {10, 11, 12}, 3: {10, 13}}
    passed = _passes(table, tests)
    assert [r.candidate for r in rank_candidates([1, 2, 3], tests, passed)] == [1, 2, 3]  # 2 x 3 = 6 against 1 x 2
    ranked = rank_candidates([1, 2, 3], tests, passed, validated={13})
    assert [(r.candidate, r.score) for r in ranked] == [(3, 1), (1, 0), (2, 0)]
    assert ranked[1].passed_tests == [10, 11, 12]
    assert ranked[1].counted_tests == []
    assert ranked[1].consensus == [1, 2]


def test_rejecting_a_wrong_test_that_agrees_with_wrong_code_flips_the_ranking() -> None:
    # count_vowels: candidate 1 is right; 2 and 3 forget upper-case vowels. Tests 1 and 2 are
    # passed by all, 3, 5 and 6 (upper case) only by the right one, 4 (`"Apple" == 1`) is wrong.
    tests = [1, 2, 3, 4, 5, 6]
    table = {1: {1, 2, 3, 5, 6}, 2: {1, 2, 4}, 3: {1, 2, 4}}
    passed = _passes(table, tests)
    before = rank_candidates([1, 2, 3], tests, passed)
    assert [(r.candidate, r.score) for r in before] == [(2, 6), (3, 6), (1, 5)]
    after = rank_candidates([1, 2, 3], tests, passed, rejected={4})
    assert [(r.candidate, r.score) for r in after] == [(1, 5), (2, 4), (3, 4)]
    assert after[1].passed_tests == [1, 2, 4]
    assert after[1].counted_tests == [1, 2]


def test_a_rejected_test_never_counts_even_when_validated() -> None:
    assert counted_tests([1, 2, 3], validated={1, 2}, rejected={2}) == [1]
    assert counted_tests([1, 2, 3], validated={2}, rejected={2}) == [1, 3]
    assert counted_tests([1, 2, 3], rejected={3}) == [1, 2]
    assert counted_tests([1, 2, 3], validated={7}) == [1, 2, 3], "a validated id that is not a test changes nothing"


def test_ties_go_to_more_tests_then_to_the_lower_id() -> None:
    tests = [1, 2, 3, 4, 5, 6, 7]
    # {10, 11, 12} x {1, 2} = 6 and {20, 21} x {3, 4, 5} = 6: the set with more tests first.
    # 31 and 30 each pass a different pair alone: 1 x 2 = 2 each, the lower id first.
    table = {10: {1, 2}, 11: {1, 2}, 12: {1, 2}, 20: {3, 4, 5}, 21: {3, 4, 5}, 31: {6, 7}, 30: {1, 6}}
    ranked = rank_candidates(list(table), tests, _passes(table, tests))
    assert [r.candidate for r in ranked] == [20, 21, 10, 11, 12, 30, 31]
    assert [r.score for r in ranked] == [6, 6, 6, 6, 6, 2, 2]


def test_a_missing_result_counts_as_not_passed() -> None:
    ranked = rank_candidates([1, 2], [5, 6], {(1, 5): True, (1, 6): True, (2, 5): True})
    assert [(r.candidate, r.score, r.passed_tests) for r in ranked] == [(1, 2, [5, 6]), (2, 1, [5])]


def test_the_reason_explains_the_score_in_one_sentence() -> None:
    tests = [1, 2, 3, 4, 5]
    table = {1: {1, 2, 3, 4}, 2: {1, 2, 3, 4}, 3: {1, 2, 3, 4}, 4: {5}, 5: set()}
    ranked = {r.candidate: r for r in rank_candidates(list(table), tests, _passes(table, tests), validated=set(tests))}
    assert (
        ranked[1].reason
        == "Passes 4 of 5 validated tests, the same ones as 2 other candidates: 3 candidates × 4 tests = 12."
    )
    assert (
        ranked[4].reason
        == "Passes 1 of 5 validated tests, and no other candidate passes exactly these: 1 candidate × 1 test = 1."
    )
    assert ranked[5].reason == "Passes none of the 5 validated tests: score 0."

    plain = {
        r.candidate: r
        for r in rank_candidates([1, 2], [1, 2, 3], _passes({1: {1, 2}, 2: {1, 2}}, [1, 2, 3]), rejected={3})
    }
    assert plain[1].reason == (
        "Passes all 2 tests (1 rejected test not counted), "
        "the same ones as 1 other candidate: 2 candidates × 2 tests = 4."
    )

    some = {r.candidate: r for r in rank_candidates([1], [1, 2], {(1, 1): True}, validated={2})}
    assert some[1].reason == "Does not pass the one validated test (unvalidated tests do not count): score 0."


def test_without_tests_that_count_every_candidate_scores_zero() -> None:
    none = rank_candidates([2, 1], [], {})
    assert [(r.candidate, r.score) for r in none] == [(1, 0), (2, 0)]
    assert none[0].reason == "There are no tests yet, so every candidate scores 0."
    rejected = rank_candidates([1], [7, 8], {(1, 7): True}, rejected={7, 8})
    assert rejected[0].score == 0
    assert rejected[0].reason == "No test counts: 2 tests are all rejected, so every candidate scores 0."


def test_ids_must_be_unique() -> None:
    with pytest.raises(ValueError):
        rank_candidates([1, 1], [1], {})
    with pytest.raises(ValueError):
        rank_candidates([1], [2, 2], {})
