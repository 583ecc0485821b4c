"""The promotion gate: an editor is promoted on what writers finally wanted, never on acceptance."""

from types import SimpleNamespace

from webapp.training.services import promotion_gate, sign_test_p

ACTIVE = {
    "final_documents": 20,
    "final_edit_cost_before": 120,
    "final_edit_cost_left": 60,
    "final_untouched_rate": 0.3,
    "everyday_harm": 0.02,
    "everyday_untouched": 0.97,
    "everyday_recall": 0.45,
    "predicted_acceptance": 0.4,
    "preference_accuracy": 0.5,
}


def evaluation(kind: str = "editor", row_costs=(), **metrics):
    return SimpleNamespace(version=SimpleNamespace(kind=kind), metrics=ACTIVE | metrics, row_costs=list(row_costs))


def test_a_version_that_leaves_less_to_fix_without_harming_everyday_prose_is_promoted():
    decision = promotion_gate(evaluation(final_edit_cost_left=40, everyday_harm=0.025), evaluation())
    assert decision.promote and [c["passed"] for c in decision.checks] == [True] * 5
    assert decision.why.startswith("edit cost left 40 characters against the active version's 60 (of 120)")


def test_a_version_that_proposes_nothing_is_never_promoted_however_high_its_acceptance():
    silent = evaluation(final_edit_cost_left=120, final_untouched_rate=1.0, predicted_acceptance=1.0, everyday_harm=0)
    decision = promotion_gate(silent, evaluation())
    assert not decision.promote and decision.why.startswith("fails edit cost left, proposes something")


def test_a_version_that_fixes_more_but_harms_everyday_prose_is_refused():
    junk = evaluation(final_edit_cost_left=30, everyday_harm=0.09, everyday_untouched=0.80)
    decision = promotion_gate(junk, evaluation())
    assert not decision.promote and decision.why.startswith("fails everyday harm, everyday untouched")
    within_tolerance = evaluation(
        final_edit_cost_left=59, everyday_harm=0.03, everyday_untouched=0.96, everyday_recall=0.435
    )
    assert promotion_gate(within_tolerance, evaluation()).promote


def test_a_version_that_learned_one_writers_taste_by_fixing_less_for_everyone_is_refused():
    # Few held-out rows can show a gain while the everyday suite shows the corrections it stopped making.
    fixes_less = evaluation(final_edit_cost_left=50, everyday_recall=0.41)
    decision = promotion_gate(fixes_less, evaluation())
    assert not decision.promote and decision.why.startswith("fails everyday fixes")
    assert "fixes 41.0% (active 45.0%)" in decision.why


def test_without_figures_to_judge_by_nothing_is_promoted():
    assert not promotion_gate(evaluation(), None).promote
    no_writing = SimpleNamespace(version=SimpleNamespace(kind="editor"), metrics={"preference_accuracy": 0.9})
    decision = promotion_gate(no_writing, evaluation())
    assert not decision.promote and "not judged" in decision.why and "edit cost left" in decision.why


def test_a_coder_is_compared_on_preference_accuracy():
    better = promotion_gate(evaluation("coder", preference_accuracy=0.7), evaluation("coder"))
    assert better.promote and better.why == "preference accuracy 0.700 beats the active version's 0.500"
    assert not promotion_gate(evaluation("coder", preference_accuracy=0.4), evaluation("coder")).promote


def test_a_lower_total_from_a_few_rows_is_not_enough():
    active_rows = [3, 3, 2, 0, 0, 0, 0, 0, 1, 1]
    # Two rows better, none worse: 2 characters less in total, but a coin could do that (p 0.25).
    lucky = evaluation(final_edit_cost_left=58, row_costs=[2, 2, 2, 0, 0, 0, 0, 0, 1, 1])
    decision = promotion_gate(lucky, evaluation(row_costs=active_rows))
    assert not decision.promote and decision.why.startswith("fails rows with less to fix")
    assert "2 held-out rows with less left to fix and 0 with more (sign test p 0.25)" in decision.why
    # Seven rows better and one worse is past chance (p 0.04).
    steady = promotion_gate(
        evaluation(final_edit_cost_left=50, row_costs=[2, 2, 1, 0, 0, 1, 0, 0, 0, 0]),
        evaluation(row_costs=[3, 3, 2, 1, 0, 0, 1, 1, 1, 0]),
    )
    assert steady.promote and steady.checks[1] == {"name": "rows with less to fix", "new": 7, "old": 1, "passed": True}


def test_the_sign_test():
    assert sign_test_p(0, 0) == 1.0
    assert sign_test_p(2, 0) == 0.25
    assert sign_test_p(6, 1) == 8 / 128
    assert sign_test_p(1, 6) == 127 / 128
