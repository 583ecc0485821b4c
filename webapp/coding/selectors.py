"""Reads of the coding loop. Lookups that take a user return only what that user may see: a
problem of someone else (outside their projects) is a 404, never a 403."""

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from webapp.coding.models import (
    CandidateDecision,
    CodeCandidate,
    CodeTest,
    CodeTestDecision,
    CodingIteration,
    Execution,
    Problem,
    Verdict,
)
from webapp.core.access import get_visible, shared_with

FEEDBACK_FAILING = 3  # failing tests whose tracebacks go into a regeneration prompt


def problems_for_user(user) -> QuerySet[Problem]:
    return shared_with(user, Problem.objects.all())


def problem_for_user(user, pk) -> Problem:
    return get_visible(Problem.objects.all(), user, pk, lambda p: p)


def iteration_for_user(user, pk) -> CodingIteration:
    return get_visible(
        CodingIteration.objects.select_related("problem", "job", "model_version"), user, pk, lambda i: i.problem
    )


def candidate_for_user(user, pk) -> CodeCandidate:
    return get_visible(
        CodeCandidate.objects.select_related("iteration__problem"), user, pk, lambda c: c.iteration.problem
    )


def test_for_user(user, pk) -> CodeTest:
    return get_visible(CodeTest.objects.select_related("problem"), user, pk, lambda t: t.problem)


def execution_for_user(user, pk) -> Execution:
    return get_visible(
        Execution.objects.select_related("candidate__iteration__problem", "test"),
        user,
        pk,
        lambda e: e.candidate.iteration.problem,
    )


def _current(model, field: str) -> Prefetch:
    return Prefetch(
        "decisions",
        queryset=model.objects.filter(is_current=True).select_related("decided_by"),
        to_attr="current_decisions",
    )


def verdict_of(row) -> str:
    """The current verdict of a candidate or test fetched with its `current_decisions`."""
    decisions = getattr(row, "current_decisions", None)
    if decisions is None:
        decisions = list(row.decisions.filter(is_current=True))
    return decisions[0].verdict if decisions else Verdict.UNDECIDED


def problem_tests(problem: Problem) -> list[CodeTest]:
    """Every test of the problem, oldest first, each with `.verdict`."""
    tests = list(
        CodeTest.objects.filter(problem=problem)
        .select_related("iteration")
        .prefetch_related(_current(CodeTestDecision, "test"))
        .order_by("pk")
    )
    for test in tests:
        test.verdict = verdict_of(test)
    return tests


def problem_last_iteration(problem: Problem) -> CodingIteration | None:
    return problem.iterations.select_related("job", "model_version").order_by("-number").first()


@dataclass
class RankedCandidate:
    candidate: CodeCandidate
    rank: int
    score: int
    consensus: list[int]
    reason: str
    cells: list  # one per test: the Execution of the latest run, or None (not run)
    verdict: str


def iteration_ranking(iteration: CodingIteration, tests: list[CodeTest] | None = None) -> list[RankedCandidate]:
    """The round's candidates best first by dual execution agreement over the latest run
    (inference.ranking), with each candidate's row of the pass/fail matrix."""
    from inference.ranking import rank_candidates

    tests = problem_tests(iteration.problem) if tests is None else tests
    candidates = list(iteration.candidates.prefetch_related(_current(CandidateDecision, "candidate")).order_by("index"))
    executions = {
        (e.candidate_id, e.test_id): e
        for e in Execution.objects.filter(candidate__iteration=iteration, run=iteration.run)
    }
    runnable = [t.pk for t in tests if not t.syntax_error]
    ranked = rank_candidates(
        [c.pk for c in candidates],
        runnable,
        {key: e.status == Execution.Status.PASSED for key, e in executions.items()},
        validated={t.pk for t in tests if t.verdict == Verdict.ACCEPT},
        rejected={t.pk for t in tests if t.verdict == Verdict.REJECT},
    )
    by_id = {c.pk: c for c in candidates}
    rows = []
    for r in ranked:
        candidate = by_id[r.candidate]
        reason = f"Does not compile: {candidate.syntax_error}" if candidate.syntax_error else r.reason
        rows.append(
            RankedCandidate(
                candidate,
                r.rank,
                r.score,
                r.consensus,
                reason,
                [executions.get((candidate.pk, t.pk)) for t in tests],
                verdict_of(candidate),
            )
        )
    return rows


def regeneration_feedback(problem: Problem, critique: str = "") -> dict:
    """What the next round's prompt is told (inference.coding.Feedback, as JSON): the tracebacks
    of the counted tests that the best candidate of the last finished round fails, the tests and
    candidates people rejected, and the critique."""
    tests = problem_tests(problem)
    last = problem.iterations.filter(status=CodingIteration.Status.READY).order_by("-number").first()
    failing = []
    if last is not None:
        ranking = iteration_ranking(last, tests)
        best = next((row for row in ranking if not row.candidate.syntax_error), None)
        if best is not None:
            counted = [t for t in tests if t.verdict != Verdict.REJECT]
            validated = [t for t in counted if t.verdict == Verdict.ACCEPT]
            for test, cell in zip(tests, best.cells):
                if test in (validated or counted) and cell is not None and cell.status != Execution.Status.PASSED:
                    failing.append([test.code, cell.traceback or cell.status])
    rejected_candidates = CodeCandidate.objects.filter(
        iteration__problem=problem, decisions__is_current=True, decisions__verdict=Verdict.REJECT
    ).values_list("code", flat=True)
    return {
        "failing": failing[:FEEDBACK_FAILING],
        "rejected_tests": [t.code for t in tests if t.verdict == Verdict.REJECT],
        "critique": critique,
        "rejected_candidates": list(rejected_candidates),
    }


def candidate_history(candidate: CodeCandidate) -> QuerySet[CandidateDecision]:
    return candidate.decisions.select_related("decided_by").order_by("decided_at", "pk")


def candidate_versions(candidate_ids: list[int]) -> dict[int, int | None]:
    """{candidate id: the version that wrote it} (registered with webapp.registry.feedback)."""
    return dict(CodeCandidate.objects.filter(pk__in=candidate_ids).values_list("pk", "iteration__model_version_id"))
