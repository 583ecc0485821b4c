"""Training rows from the coding loop (a dataset builder, see webapp.registry.datasets).

Per problem, as decisions stood at the cutoff:
- the candidate prompt (without feedback) with the chosen solution: the accepted one, or else a
  candidate that passes every validated test; paired, as `rejected`, with each candidate that
  people rejected or that fails a test that counts (validated tests once there are any, else
  every test not rejected). With nothing to pair it with, the row is for SFT only.
- the tests prompt with the validated tests as chosen and the rejected tests as rejected.
Answers are laid out as the model writes them: one ```python block.
"""

from typing import Iterator

from inference.coding import ProblemSpec, candidate_prompt, tests_prompt
from webapp.coding.models import (
    CandidateDecision,
    CodeCandidate,
    CodeTest,
    CodeTestDecision,
    Execution,
    Problem,
    Verdict,
)
from webapp.registry.datasets import DatasetFilters, DatasetRow

SOURCE = "coding"


def fenced(code: str) -> str:
    return f"```python\n{code.strip()}\n```"


def _verdicts(model, field: str, problem: Problem, filters: DatasetFilters) -> dict[int, str]:
    """{target id: the latest verdict up to the cutoff} for the problem's candidates or tests."""
    path = "candidate__iteration__problem" if field == "candidate" else "test__problem"
    decisions = model.objects.filter(**{path: problem, "decided_at__lte": filters.cutoff})
    latest = decisions.order_by(f"{field}_id", "-decided_at", "-id").distinct(f"{field}_id")
    return {
        getattr(d, f"{field}_id"): d.verdict for d in latest if filters.since is None or d.decided_at > filters.since
    }


def coding_rows(filters: DatasetFilters) -> Iterator[DatasetRow]:
    problems = Problem.objects.order_by("pk")
    if filters.project_id is not None:
        problems = problems.filter(project_id=filters.project_id)
    for problem in problems.filter(created_at__lte=filters.cutoff):
        yield from problem_rows(problem, filters)


def problem_rows(problem: Problem, filters: DatasetFilters) -> Iterator[DatasetRow]:
    candidate_verdicts = _verdicts(CandidateDecision, "candidate", problem, filters)
    test_verdicts = _verdicts(CodeTestDecision, "test", problem, filters)
    if not candidate_verdicts and not test_verdicts:
        return
    spec = ProblemSpec(problem.statement, problem.entry_point, problem.signature)
    tests = list(
        CodeTest.objects.filter(problem=problem, syntax_error="", created_at__lte=filters.cutoff).order_by("pk")
    )
    validated = [t for t in tests if test_verdicts.get(t.pk) == Verdict.ACCEPT]
    rejected_tests = [t for t in tests if test_verdicts.get(t.pk) == Verdict.REJECT]
    counted = {t.pk for t in (validated or [t for t in tests if t not in rejected_tests])}
    candidates = list(
        CodeCandidate.objects.filter(
            iteration__problem=problem, syntax_error="", iteration__created_at__lte=filters.cutoff
        )
        .select_related("iteration")
        .order_by("iteration__number", "index")
    )
    failing = _failing(candidates, counted, filters)
    accepted = [c for c in candidates if candidate_verdicts.get(c.pk) == Verdict.ACCEPT]
    passing_validated = [c for c in candidates if validated and c.pk in failing and not failing[c.pk]]
    chosen = next(iter(accepted or passing_validated), None)
    meta = {"problem": problem.pk, "project": problem.project_id, "statement": problem.statement}
    if chosen is not None:
        worse = [
            c
            for c in candidates
            if c.pk != chosen.pk and (candidate_verdicts.get(c.pk) == Verdict.REJECT or failing.get(c.pk))
        ]
        prompt = candidate_prompt(spec)
        for other in worse:
            yield DatasetRow(
                SOURCE,
                prompt,
                fenced(chosen.code),
                fenced(other.code),
                meta | {"kind": "candidates", "chosen": chosen.pk, "rejected": other.pk},
            )
        if not worse:
            yield DatasetRow(
                SOURCE, prompt, fenced(chosen.code), "", meta | {"kind": "candidates", "chosen": chosen.pk}
            )
    if validated:
        yield DatasetRow(
            SOURCE,
            tests_prompt(spec),
            fenced("\n\n".join(t.code for t in validated)),
            fenced("\n\n".join(t.code for t in rejected_tests)) if rejected_tests else "",
            meta | {"kind": "tests", "chosen": [t.pk for t in validated], "rejected": [t.pk for t in rejected_tests]},
        )


def _failing(candidates: list[CodeCandidate], counted: set[int], filters: DatasetFilters) -> dict[int, bool]:
    """{candidate id: whether it fails a counted test} from each candidate's latest run up to the
    cutoff; a candidate without a run is left out."""
    latest: dict[int, dict[int, str]] = {}
    runs = (
        Execution.objects.filter(candidate__in=candidates, created_at__lte=filters.cutoff)
        .order_by("candidate_id", "run")
        .values_list("candidate_id", "run", "test_id", "status")
    )
    last_run: dict[int, int] = {}
    for candidate_id, run, test_id, status in runs:
        if run > last_run.get(candidate_id, 0):
            last_run[candidate_id], latest[candidate_id] = run, {}
        latest[candidate_id][test_id] = status
    return {
        c: any(results.get(t) != Execution.Status.PASSED for t in counted) for c, results in latest.items() if counted
    }
