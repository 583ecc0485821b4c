"""Writing writes racing each other, each thread with its own Postgres connection. A decision
takes its round's lock before the proposal's (the order in the services' docstring), so a
decision racing the round's apply is either in the applied text or refused: never a current
decision on an applied round that the applied text leaves out."""

import time

import pytest

from inference.diffing import EditAction, apply_edits
from tests.concurrency import pg_sleep, run_together
from tests.conftest import FIXED_TEXT
from tests.factories import DocumentFactory, UserFactory, iteration_in_review
from webapp.writing import services
from webapp.writing.errors import LoopConflict
from webapp.writing.models import Decision, Iteration

TRIALS = 10
WINDOW_S = 0.3  # how long each side sits inside its transaction, after its check
HEAD_START_S = 0.1  # how much earlier the side meant to go first starts


@pytest.fixture
def slow_sides(monkeypatch):
    """Widen the race, inside each side's transaction: a decision waits in Postgres after it
    has checked (and locked) its proposal and round, before it writes; apply waits after it has
    locked the round, before it reads the accepted edits."""
    locked_proposal, accepted_edits = services._locked_proposal, services._accepted_edits

    def slow_locked_proposal(*args, **kwargs):
        proposal = locked_proposal(*args, **kwargs)
        pg_sleep(WINDOW_S)
        return proposal

    def slow_accepted_edits(*args, **kwargs):
        pg_sleep(WINDOW_S)
        return accepted_edits(*args, **kwargs)

    monkeypatch.setattr(services, "_locked_proposal", slow_locked_proposal)
    monkeypatch.setattr(services, "_accepted_edits", slow_accepted_edits)


def after(delay: float, work):
    def run():
        time.sleep(delay)
        work()

    return run


@pytest.mark.django_db(transaction=True)
def test_a_decision_racing_apply_is_in_the_applied_text_or_refused(slow_sides):
    writer = UserFactory(role="writer")
    outcomes = []
    for trial in range(TRIALS):
        review = iteration_in_review(DocumentFactory(owner=writer), FIXED_TEXT)
        proposal = review.proposals.get(before="were")
        decision_first = trial % 2 == 0
        decide = after(
            0 if decision_first else HEAD_START_S,
            lambda p=proposal: services.proposal_decide(proposal=p, user=writer, verdict="accept"),
        )
        apply = after(
            HEAD_START_S if decision_first else 0, lambda r=review: services.iteration_apply(iteration=r, user=writer)
        )

        errors = run_together(decide, apply)

        assert all(isinstance(e, LoopConflict) for e in errors), (trial, errors)  # apply never fails
        review.refresh_from_db()
        assert review.status == Iteration.Status.APPLIED
        decision = Decision.objects.filter(proposal=proposal, is_current=True).first()
        if errors:  # refused: the round was applied first, without it
            assert decision is None, trial
            assert review.text_after == review.text_before, trial
            outcomes.append("refused")
        else:  # recorded: the round was applied after it, with it
            assert decision is not None and decision.verdict == "accept", trial
            edit = EditAction(proposal.action, proposal.start_char, proposal.end_char, proposal.before, proposal.after)
            assert review.text_after == apply_edits(review.text_before, [edit]), (trial, review.text_after)
            assert decision.decided_at <= review.applied_at, trial
            outcomes.append("recorded")
    # Both orders happened: the decision that went first was recorded, the one that came late refused.
    assert {"recorded", "refused"} <= set(outcomes), outcomes


@pytest.mark.django_db(transaction=True)
def test_deciding_edits_deciding_all_and_undoing_at_once_fail_nothing_and_leave_one_current_decision():
    writer = UserFactory(role="writer")
    for trial in range(6):
        review = iteration_in_review(DocumentFactory(owner=writer), FIXED_TEXT)
        first, second = review.proposals.order_by("index")
        services.proposal_decide(proposal=second, user=writer, verdict="accept")

        errors = run_together(
            lambda p=first: services.proposal_decide(proposal=p, user=writer, verdict="accept"),
            lambda p=second: services.proposal_decide(proposal=p, user=writer, verdict="reject"),
            lambda r=review: services.proposals_decide_all(iteration=r, user=writer, verdict="reject"),
            lambda r=review: services.decision_undo(iteration=r, user=writer),
        )

        # Without the round's lock in a decision, undo and a decision on the same edit each wrote a
        # current decision: the second broke one_current_decision_per_proposal (IntegrityError).
        assert errors == [], (trial, [f"{e.__class__.__name__}: {e}" for e in errors])
        for proposal in (first, second):
            assert Decision.objects.filter(proposal=proposal, is_current=True).count() == 1, trial
        services.iteration_apply(iteration=review, user=writer)  # and the round still closes
