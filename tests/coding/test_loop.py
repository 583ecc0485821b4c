"""The coding loop in-process on real Postgres, the real sandbox and a tiny code model: problems,
rounds, executions, CodeT ranking, validated and rejected tests, feedback, solutions, data."""

import pytest

from inference.tiny_code import problem as tiny_problem
from tests.factories import ModelVersionFactory
from webapp.coding import selectors, services
from webapp.coding.datasets import problem_rows
from webapp.coding.errors import CodingConflict, CodingError
from webapp.coding.models import (
    CodeCandidate,
    CodeTest,
    CodingIteration,
    Execution,
    Problem,
)
from webapp.registry.datasets import DatasetFilters
from webapp.registry.services import model_version_activate

pytestmark = pytest.mark.django_db

CORRECT = "def count_vowels(text):\n    return sum(c in 'aeiouAEIOU' for c in text)\n"
WRONG_A = "def count_vowels(text):\n    return sum(c in 'aeiou' for c in text)\n"
WRONG_B = "def count_vowels(text):\n    return len([c for c in text if c in 'aeiou'])\n"
T_BOTH = "assert count_vowels('hello') == 2"
T_WRONG = "assert count_vowels('Apple') == 1"  # a wrong test: only the wrong candidates pass it
T_RIGHT = "assert count_vowels('Apple') == 2"


@pytest.fixture
def developer(db):
    from tests.factories import UserFactory

    return UserFactory(role="developer")


@pytest.fixture
def problem(developer):
    return services.problem_create(
        owner=developer, title="Vowels", statement="Count the vowels in a text.", entry_point="count_vowels"
    )


def round_with(
    problem, user, candidates: list[str], tests: list[str], django_capture_on_commit_callbacks
) -> CodingIteration:
    """A round whose candidates and model tests are these, executed in the sandbox."""
    with django_capture_on_commit_callbacks(execute=False):
        iteration = services.iteration_start(problem=problem, user=user)
    CodingIteration.objects.filter(pk=iteration.pk).update(status=CodingIteration.Status.EXECUTING)
    for i, code in enumerate(candidates):
        CodeCandidate.objects.create(iteration=iteration, index=i, code=code, normalized=services.code_key(code))
    for code in tests:
        CodeTest.objects.create(problem=problem, iteration=iteration, code=code, normalized=services.code_key(code))
    services.iteration_execute(iteration_id=iteration.pk)
    iteration.refresh_from_db()
    return iteration


def ranks(iteration) -> dict[str, int]:
    return {row.candidate.code: row.rank for row in selectors.iteration_ranking(iteration)}


def test_candidates_run_against_tests_and_a_rejected_wrong_test_changes_the_ranking(
    problem, developer, django_capture_on_commit_callbacks
):
    iteration = round_with(
        problem, developer, [CORRECT, WRONG_A, WRONG_B], [T_BOTH, T_WRONG, T_RIGHT], django_capture_on_commit_callbacks
    )
    assert (iteration.status, iteration.run) == ("ready", 1)
    statuses = {
        (e.candidate.code, e.test.code): e.status for e in Execution.objects.select_related("candidate", "test")
    }
    assert statuses[(CORRECT, T_BOTH)] == statuses[(CORRECT, T_RIGHT)] == "passed"
    assert statuses[(CORRECT, T_WRONG)] == statuses[(WRONG_A, T_RIGHT)] == "failed"
    failed = Execution.objects.get(candidate__code=CORRECT, test__code=T_WRONG)
    assert "AssertionError" in failed.traceback and failed.isolation in ("bwrap", "netns")
    # CodeT: the two wrong candidates agree (2 x 2 tests) and outrank the correct one (1 x 2).
    before = selectors.iteration_ranking(iteration)
    assert before[0].candidate.code in (WRONG_A, WRONG_B) and before[0].score == 4 and ranks(iteration)[CORRECT] == 3
    assert "the same ones as 1 other candidate" in before[0].reason
    # A person rejects the wrong test: it no longer counts, and the correct candidate comes first.
    wrong_test = CodeTest.objects.get(code=T_WRONG)
    services.test_decide(test=wrong_test, user=developer, verdict="reject")
    after = selectors.iteration_ranking(iteration)
    assert after[0].candidate.code == CORRECT and after[0].score == 2
    # Validating the right test makes only validated tests count: the wrong ones pass none.
    services.test_decide(test=CodeTest.objects.get(code=T_RIGHT), user=developer, verdict="accept")
    validated = selectors.iteration_ranking(iteration)
    assert [row.score for row in validated] == [1, 0, 0] and "validated" in validated[0].reason


def test_feedback_for_the_next_round_and_rejected_candidates(problem, developer, django_capture_on_commit_callbacks):
    iteration = round_with(
        problem, developer, [WRONG_A, CORRECT], [T_RIGHT, T_WRONG], django_capture_on_commit_callbacks
    )
    services.test_decide(test=CodeTest.objects.get(code=T_WRONG), user=developer, verdict="reject")
    services.candidate_decide(candidate=iteration.candidates.get(code=WRONG_A), user=developer, verdict="reject")
    feedback = selectors.regeneration_feedback(problem, "Count upper-case vowels too.")
    assert feedback["rejected_tests"] == [T_WRONG] and feedback["rejected_candidates"] == [WRONG_A]
    assert feedback["critique"] == "Count upper-case vowels too."
    assert feedback["failing"] == []  # the best candidate (CORRECT) passes the test that counts
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        second = services.iteration_start(problem=problem, user=developer, critique="Count upper-case vowels too.")
    assert len(callbacks) == 1 and second.number == 2 and second.feedback == feedback
    with pytest.raises(CodingConflict, match="being worked on"):
        services.iteration_start(problem=problem, user=developer)


def test_failing_validated_tests_of_the_best_candidate_go_into_the_feedback(
    problem, developer, django_capture_on_commit_callbacks
):
    round_with(problem, developer, [WRONG_A], [T_RIGHT], django_capture_on_commit_callbacks)
    services.test_decide(test=CodeTest.objects.get(code=T_RIGHT), user=developer, verdict="accept")
    ((code, traceback),) = selectors.regeneration_feedback(problem)["failing"]
    assert code == T_RIGHT and "AssertionError" in traceback


def test_edited_and_added_tests_are_validated_and_the_round_runs_again(
    problem, developer, django_capture_on_commit_callbacks
):
    iteration = round_with(problem, developer, [CORRECT], [T_WRONG], django_capture_on_commit_callbacks)
    wrong = CodeTest.objects.get(code=T_WRONG)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        (edited,) = services.test_edit(test=wrong, user=developer, code=T_RIGHT)
    assert edited.replaces == wrong and edited.source == "user"
    assert selectors.verdict_of(edited) == "accept" and selectors.verdict_of(wrong) == "reject"
    assert len(callbacks) == 1  # the round runs again with the edited test
    services.iteration_execute(iteration_id=iteration.pk)
    iteration.refresh_from_db()
    assert iteration.run == 2 and Execution.objects.get(test=edited, run=2).status == "passed"
    with pytest.raises(CodingError, match="unchanged"):
        services.test_edit(test=edited, user=developer, code=T_RIGHT + "  ")
    with django_capture_on_commit_callbacks(execute=False):
        added = services.test_add(
            problem=problem, user=developer, code="assert count_vowels('') == 0\nassert count_vowels('xyz') == 0"
        )
    assert len(added) == 2 and all(t.source == "user" for t in added)


def test_user_tests_written_with_the_problem_are_split_validated_and_a_broken_one_kept(developer):
    problem = services.problem_create(
        owner=developer,
        title="",
        statement="Add two numbers.\nReturn the sum.",
        entry_point="add",
        tests="assert add(1, 2) == 3\n\ndef test_zero():\n    assert add(0, 0) == 0\n",
    )
    assert problem.title == "Add two numbers."
    tests = selectors.problem_tests(problem)
    assert [t.verdict for t in tests] == ["accept", "accept"] and all(not t.syntax_error for t in tests)
    broken = services.problem_create(owner=developer, title="x", statement="y", tests="assert add(1, 2 == 3")
    (kept,) = selectors.problem_tests(broken)
    assert "never closed" in kept.syntax_error or "Line 1" in kept.syntax_error
    with pytest.raises(CodingError, match="not a Python function name"):
        services.problem_create(owner=developer, title="x", statement="y", entry_point="not a name")
    with pytest.raises(CodingError, match="empty"):
        services.problem_create(owner=developer, title="x", statement="   ")


def test_the_accepted_solution_and_hostile_candidates(problem, developer, django_capture_on_commit_callbacks):
    hostile = "import os\nos.system('touch /tmp/redline-hostile-marker')\ndef count_vowels(text):\n    return 2\n"
    iteration = round_with(
        problem, developer, [CORRECT, "def count_vowels(:\n", hostile], [T_RIGHT], django_capture_on_commit_callbacks
    )
    candidate = iteration.candidates.get(code=CORRECT)
    broken = iteration.candidates.get(index=1)
    CodeCandidate.objects.filter(pk=broken.pk).update(syntax_error="Line 1: invalid syntax")
    broken.refresh_from_db()
    with pytest.raises(CodingError, match="does not compile"):
        services.solution_accept(candidate=broken, user=developer)
    problem = services.solution_accept(candidate=candidate, user=developer)
    assert problem.solution == candidate and selectors.verdict_of(candidate) == "accept"
    services.candidate_decide(candidate=candidate, user=developer, verdict="reject")
    problem.refresh_from_db()
    assert problem.solution is None and candidate.decisions.count() == 2  # history kept
    import os

    assert not os.path.exists("/tmp/redline-hostile-marker")  # the sandbox ran it, with no way out


def test_generation_with_a_real_tiny_code_model_then_execution(
    developer, tiny_code_model_path, django_capture_on_commit_callbacks
):
    model_version_activate(version=ModelVersionFactory(kind="coder", base_model=tiny_code_model_path))
    spec = tiny_problem("is_palindrome").spec  # one the tiny model was trained on
    problem = services.problem_create(
        owner=developer,
        title="Palindromes",
        statement=spec.statement,
        entry_point=spec.entry_point,
        signature=spec.signature,
    )
    with django_capture_on_commit_callbacks(execute=False):
        iteration = services.iteration_start(problem=problem, user=developer, candidates=3, tests=3)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.iteration_generate(iteration_id=iteration.pk)
    iteration.refresh_from_db()
    assert iteration.status == "executing" and len(callbacks) == 1, iteration.error
    assert 1 <= iteration.candidates.count() <= 3 and problem.tests.count() >= 1
    assert iteration.generation_settings["temperature"] == 0.6 and iteration.generation_settings["do_sample"] is True
    services.iteration_execute(iteration_id=iteration.pk)
    iteration.refresh_from_db()
    assert iteration.status == "ready" and iteration.job.status == "succeeded"
    runnable = iteration.candidates.filter(syntax_error="").count() * problem.tests.filter(syntax_error="").count()
    assert Execution.objects.filter(candidate__iteration=iteration).count() == runnable > 0
    assert Execution.objects.filter(candidate__iteration=iteration, status="passed").exists()


def test_coding_feedback_becomes_training_rows(problem, developer, django_capture_on_commit_callbacks):
    from django.utils import timezone

    iteration = round_with(
        problem, developer, [CORRECT, WRONG_A], [T_RIGHT, T_WRONG], django_capture_on_commit_callbacks
    )
    services.test_decide(test=CodeTest.objects.get(code=T_RIGHT), user=developer, verdict="accept")
    services.test_decide(test=CodeTest.objects.get(code=T_WRONG), user=developer, verdict="reject")
    services.solution_accept(candidate=iteration.candidates.get(code=CORRECT), user=developer)
    rows = list(problem_rows(Problem.objects.get(pk=problem.pk), DatasetFilters(cutoff=timezone.now())))
    pair, tests = rows
    assert pair.meta["kind"] == "candidates" and pair.chosen == f"```python\n{CORRECT.strip()}\n```"
    assert pair.rejected == f"```python\n{WRONG_A.strip()}\n```" and "count_vowels" in pair.prompt
    assert tests.meta["kind"] == "tests" and T_RIGHT in tests.chosen and T_WRONG in tests.rejected
