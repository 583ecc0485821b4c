"""The coding loop end to end: a real Celery worker generates candidates and tests with a
tiny code model (gpu queue) and runs them in the sandbox (default queue); a developer validates
tests, regenerates with feedback and accepts a solution."""

import os
import signal
from pathlib import Path

import pytest

from inference.tiny_code import problem as tiny_problem
from tests.factories import UserFactory
from tests.fixtures_worker import wait_until
from webapp.coding import selectors, services
from webapp.coding.models import CodingIteration, Execution
from webapp.registry.models import ModelVersion
from webapp.registry.services import model_version_activate

pytestmark = pytest.mark.e2e


def finished(iteration: CodingIteration) -> CodingIteration:
    def done():
        fresh = CodingIteration.objects.select_related("job").get(pk=iteration.pk)
        return fresh if fresh.status in ("ready", "failed") else None

    return wait_until(done, timeout=180, what=f"coding round {iteration.pk}")


def reverse_problem(tiny_code_model_path: str):
    """The tiny code model made the active coder, and a developer's "Reverse" problem:
    (version, developer, problem, spec)."""
    version = model_version_activate(
        version=ModelVersion.objects.create(name="tiny code", kind="coder", base_model=tiny_code_model_path)
    )
    developer = UserFactory(role="developer")
    spec = tiny_problem("reverse_string").spec
    problem = services.problem_create(
        owner=developer,
        title="Reverse",
        statement=spec.statement,
        entry_point=spec.entry_point,
        signature=spec.signature,
    )
    return version, developer, problem, spec


def test_generate_execute_validate_regenerate_and_accept(celery_worker, transactional_db, tiny_code_model_path):
    version, developer, problem, spec = reverse_problem(tiny_code_model_path)

    first = finished(services.iteration_start(problem=problem, user=developer))
    assert first.status == "ready", first.error
    assert first.model_version == version and first.job.status == "succeeded"
    assert first.candidates.exists() and problem.tests.exists()
    assert Execution.objects.filter(candidate__iteration=first, run=1).exists()
    ranking = selectors.iteration_ranking(first)
    assert ranking[0].rank == 1 and ranking[0].reason

    # The developer validates the tests that compile and name the function, and rejects the first
    # candidate; then asks again with a critique.
    for test in selectors.problem_tests(problem):
        services.test_decide(test=test, user=developer, verdict="reject" if test.syntax_error else "accept")
    rejected = ranking[-1].candidate
    services.candidate_decide(candidate=rejected, user=developer, verdict="reject")
    second = finished(services.iteration_start(problem=problem, user=developer, critique="Use slicing."))
    assert second.status == "ready", second.error
    assert second.feedback["critique"] == "Use slicing." and rejected.code in second.feedback["rejected_candidates"]
    assert second.generation_settings["temperature"] > first.generation_settings["temperature"]
    assert rejected.code not in set(second.candidates.values_list("code", flat=True))

    # The second round proposes only candidates not seen before (maybe none, if the model knows
    # no other way). Run again gives the first round a second run, with every test validated so far.
    seen = set(first.candidates.values_list("code", flat=True))
    assert not seen & set(second.candidates.values_list("code", flat=True))
    rerun = finished(services.executions_rerun(iteration=first, user=developer))
    runnable = first.candidates.filter(syntax_error="").count() * problem.tests.filter(syntax_error="").count()
    assert rerun.run == 2 and Execution.objects.filter(candidate__iteration=first, run=2).count() == runnable > 0
    best = next(row.candidate for row in selectors.iteration_ranking(rerun) if not row.candidate.syntax_error)
    problem = services.solution_accept(candidate=best, user=developer)
    assert problem.solution == best
    assert celery_worker.alive


def test_a_worker_killed_during_an_execution_runs_it_again_from_the_start(
    celery_worker, transactional_db, tiny_code_model_path
):
    _, developer, problem, spec = reverse_problem(tiny_code_model_path)
    first = finished(services.iteration_start(problem=problem, user=developer))
    assert first.status == "ready", first.error
    # A test that runs until the sandbox stops it makes each candidate's checks last seconds.
    services.test_add(
        problem=problem, user=developer, code=f"def test_slow():\n    while True:\n        {spec.entry_point}('ab')\n"
    )
    running = wait_until(
        lambda: (
            CodingIteration.objects.filter(pk=first.pk, status="executing", job__done__gt=0)
            .select_related("job")
            .first()
        ),
        timeout=180,
        what="the run to be half done",
    )
    pid = celery_worker.process.pid
    pool = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for child in pool:
        os.kill(child, signal.SIGKILL)

    # Redelivered, the task finds the run left executing by a dead worker and does it again.
    done = finished(running)
    assert done.status == "ready", done.error
    runnable = done.candidates.filter(syntax_error="").count() * problem.tests.filter(syntax_error="").count()
    executions = Execution.objects.filter(candidate__iteration=done, run=done.run)
    assert executions.count() == runnable > 0  # every pair once: the half-done run was dropped, not kept
    assert executions.filter(test__code__contains="while True", status="timeout").exists()
    assert celery_worker.alive
