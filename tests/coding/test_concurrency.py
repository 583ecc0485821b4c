"""Coding writes racing each other, each thread with its own Postgres connection: the locks are
taken in the order the services' docstring gives (problem, then iteration, then candidate or
test), so two writes on one problem wait for each other instead of deadlocking."""

import pytest

from tests.concurrency import pg_sleep, run_together
from tests.factories import UserFactory
from webapp.coding import services
from webapp.coding.models import CandidateDecision, CodeCandidate, CodingIteration, Verdict

CODE = "def count_vowels(text):\n    return sum(c in 'aeiouAEIOU' for c in text)\n"
TRIALS = 12
WINDOW_S = 0.15  # how long each side holds its first lock before taking the next


@pytest.fixture
def slow_decide(monkeypatch):
    """Widen the race: _decide (the candidate's lock and its new decision) waits in Postgres
    before and after its work, inside the caller's transaction, so that each side sits on its
    first lock while the other comes for it."""
    decide = services._decide

    def slow(*args, **kwargs):
        pg_sleep(WINDOW_S)
        result = decide(*args, **kwargs)
        pg_sleep(WINDOW_S)
        return result

    monkeypatch.setattr(services, "_decide", slow)


@pytest.mark.django_db(transaction=True)
def test_rejecting_a_candidate_while_it_is_accepted_as_the_solution_never_deadlocks(slow_decide):
    developer = UserFactory(role="developer")
    problem = services.problem_create(owner=developer, title="Vowels", statement="Count the vowels.")
    iteration = CodingIteration.objects.create(
        problem=problem, number=1, status=CodingIteration.Status.READY, created_by=developer
    )
    for trial in range(TRIALS):
        candidate = CodeCandidate.objects.create(
            iteration=iteration, index=trial, code=CODE + f"# {trial}\n", normalized=f"trial-{trial}"
        )
        if trial % 2:  # half the trials start from the candidate being the solution already
            services.solution_accept(candidate=candidate, user=developer)
        errors = run_together(
            lambda c=candidate: services.candidate_decide(candidate=c, user=developer, verdict=Verdict.REJECT),
            lambda c=candidate: services.solution_accept(candidate=c, user=developer),
        )
        assert errors == [], (trial, [f"{e.__class__.__name__}: {e}" for e in errors])  # a deadlock is an error
        problem.refresh_from_db()
        current = CandidateDecision.objects.get(candidate=candidate, is_current=True)
        # Consistent whichever came last: the solution is the candidate exactly when it is accepted.
        assert (problem.solution_id == candidate.pk) == (current.verdict == Verdict.ACCEPT), trial
        history = list(CandidateDecision.objects.filter(candidate=candidate).values_list("verdict", flat=True))
        assert len(history) in (2, 3) and history[-1] == current.verdict, (trial, history)
