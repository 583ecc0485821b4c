"""The coding JSON API: who may read and write (404 for someone else's rows, 403 without the
coding permissions, 401 without credentials), problems with tests, rounds, the ranking and
matrix of a round run in the real sandbox, decisions and their history, edited tests, the
solution, executions, the feedback export and the schema."""

import json

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.coding.test_loop import (
    CORRECT,
    T_BOTH,
    T_RIGHT,
    T_WRONG,
    WRONG_A,
    WRONG_B,
    round_with,
)
from tests.factories import ProjectFactory, UserFactory
from tests.writing.test_api import api_client
from webapp.coding import services
from webapp.coding.models import (
    CandidateDecision,
    CodeCandidate,
    CodeTest,
    CodeTestDecision,
    CodingIteration,
    Execution,
    Problem,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def developer(db):
    return UserFactory(role="developer")


@pytest.fixture
def api(developer):
    return api_client(developer)


@pytest.fixture
def problem(developer):
    return services.problem_create(
        owner=developer, title="Vowels", statement="Count the vowels in a text.", entry_point="count_vowels"
    )


@pytest.fixture
def ready(problem, developer, django_capture_on_commit_callbacks):
    """The round of tests/coding/test_loop.py's first test, run in the sandbox: the two wrong
    candidates agree on the wrong test and outrank the correct one."""
    return round_with(
        problem, developer, [CORRECT, WRONG_A, WRONG_B], [T_BOTH, T_WRONG, T_RIGHT], django_capture_on_commit_callbacks
    )


def urls(problem, iteration) -> tuple[list[str], list[tuple[str, dict]]]:
    """Every GET and every POST of the API on the rows of `problem`."""
    candidate, test, execution = iteration.candidates.first(), problem.tests.first(), Execution.objects.first()
    gets = [
        f"/api/coding/problems/{problem.pk}/",
        f"/api/coding/problems/{problem.pk}/iterations/",
        f"/api/coding/iterations/{iteration.pk}/",
        f"/api/coding/iterations/{iteration.pk}/executions/",
        f"/api/coding/candidates/{candidate.pk}/decisions/",
        f"/api/coding/tests/{test.pk}/decisions/",
        f"/api/coding/executions/{execution.pk}/",
    ]
    posts = [
        (f"/api/coding/problems/{problem.pk}/iterations/", {}),
        (f"/api/coding/problems/{problem.pk}/tests/", {"code": T_RIGHT}),
        (f"/api/coding/iterations/{iteration.pk}/run-again/", {}),
        (f"/api/coding/candidates/{candidate.pk}/decision/", {"verdict": "reject"}),
        (f"/api/coding/candidates/{candidate.pk}/solution/", {}),
        (f"/api/coding/tests/{test.pk}/decision/", {"verdict": "reject"}),
        (f"/api/coding/tests/{test.pk}/edit/", {"code": "assert count_vowels('a') == 1"}),
    ]
    return gets, posts


def assert_untouched(iteration) -> None:
    iteration.refresh_from_db()
    assert (iteration.status, iteration.run) == ("ready", 1)
    assert CodeTest.objects.count() == 3 and CodingIteration.objects.count() == 1
    assert not CandidateDecision.objects.exists() and not CodeTestDecision.objects.exists()
    assert Problem.objects.get().solution is None


# ---------------------------------------------------------------------------------------------
# Who may do what


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/coding/problems/"),
        ("post", "/api/coding/problems/"),
        ("get", "/api/coding/iterations/1/"),
        ("post", "/api/coding/tests/1/decision/"),
        ("get", "/api/coding/feedback/export/"),
    ],
)
def test_without_credentials_is_401(method, url):
    response = getattr(APIClient(), method)(url)
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"


def test_someone_elses_rows_are_404_on_every_get_and_post(ready, problem, django_capture_on_commit_callbacks):
    stranger = api_client(UserFactory(role="developer"))  # holds every coding permission, but not this problem
    gets, posts = urls(problem, ready)
    for url in gets:
        response = stranger.get(url)
        assert response.status_code == 404 and response.json() == {"detail": "No such object."}, url
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for url, data in posts:
            assert stranger.post(url, data, format="json").status_code == 404, url
    assert callbacks == []
    assert_untouched(ready)
    assert stranger.get("/api/coding/problems/").json()["count"] == 0
    assert b"".join(stranger.get("/api/coding/feedback/export/").streaming_content) == b""


def test_a_writer_may_read_a_shared_problem_but_not_work_on_it(
    ready, problem, developer, writer, django_capture_on_commit_callbacks
):
    project = ProjectFactory()
    project.members.add(developer, writer)
    Problem.objects.filter(pk=problem.pk).update(project=project)
    client = api_client(writer)
    gets, posts = urls(problem, ready)
    for url in gets:
        assert client.get(url).status_code == 200, url
    created = client.post("/api/coding/problems/", {"statement": "Add two numbers."}, format="json")
    assert created.status_code == 403 and created.json() == {"detail": "Only developers and admins can work on code."}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        for url, data in posts:
            assert client.post(url, data, format="json").status_code == 403, url
    assert callbacks == [] and Problem.objects.count() == 1
    assert_untouched(ready)


# ---------------------------------------------------------------------------------------------
# Problems and rounds


def test_create_a_problem_with_tests_split_into_validated_checks(api, developer):
    tests = "assert add(1, 2) == 3\n\ndef test_zero():\n    assert add(0, 0) == 0\n"
    response = api.post(
        "/api/coding/problems/",
        {"statement": "Add two numbers.\nReturn the sum.", "entry_point": "add", "tests": tests},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert Problem.objects.get(pk=body["id"]).owner == developer
    assert (body["title"], body["entry_point"], body["solution"], body["iterations"]) == (
        "Add two numbers.",
        "add",
        None,
        [],
    )
    assert [(t["code"], t["source"], t["verdict"], t["syntax_error"]) for t in body["tests"]] == [
        ("assert add(1, 2) == 3", "user", "accept", ""),
        ("def test_zero():\n    assert add(0, 0) == 0", "user", "accept", ""),
    ]
    assert api.get(f"/api/coding/problems/{body['id']}/").json()["tests"] == body["tests"]
    listed = api.get("/api/coding/problems/").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == body["id"]


def test_create_refuses_a_bad_function_name_and_an_empty_statement(api):
    bad = api.post("/api/coding/problems/", {"statement": "x", "entry_point": "two words"}, format="json")
    assert bad.status_code == 400 and bad.json() == {"detail": "“two words” is not a Python function name."}
    empty = api.post("/api/coding/problems/", {"statement": "  \n"}, format="json")
    assert empty.status_code == 400 and empty.json() == {"detail": "The problem statement is empty."}
    missing = api.post("/api/coding/problems/", {"title": "No statement"}, format="json")
    assert missing.status_code == 400 and "statement" in missing.json()
    assert not Problem.objects.exists()


def test_start_a_round_then_409_while_it_is_open(api, problem, django_capture_on_commit_callbacks):
    url = f"/api/coding/problems/{problem.pk}/iterations/"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post(url, {"critique": "Mind upper case.", "candidates": 3, "tests": 2}, format="json")
    assert response.status_code == 201 and len(callbacks) == 1  # the generation task, sent on commit
    queued = response.json()
    assert (queued["status"], queued["number"], queued["candidates_wanted"], queued["tests_wanted"]) == (
        "queued",
        1,
        3,
        2,
    )
    assert queued["job"]["status"] == "queued" and queued["candidates"] == []
    assert queued["feedback"]["critique"] == "Mind upper case."
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        again = api.post(url, {}, format="json")
        too_many = api.post(url, {"candidates": 99}, format="json")
    assert again.status_code == 409 and again.json() == {
        "detail": "This problem is being worked on already; wait for its round to finish."
    }
    assert too_many.status_code == 400 and "candidates" in too_many.json()
    assert callbacks == []
    assert [(i["id"], i["status"]) for i in api.get(url).json()] == [(queued["id"], "queued")]
    assert api.get(f"/api/coding/problems/{problem.pk}/").json()["iterations"][0]["id"] == queued["id"]


# ---------------------------------------------------------------------------------------------
# The ranking and decisions


def ranking(api, iteration) -> list[dict]:
    return api.get(f"/api/coding/iterations/{iteration.pk}/").json()["candidates"]


def test_the_ranking_and_matrix_and_a_rejected_wrong_test_flips_them(api, ready, problem):
    body = api.get(f"/api/coding/iterations/{ready.pk}/").json()
    assert (body["status"], body["run"], body["job"]["status"]) == ("ready", 1, "succeeded")
    assert body["model_version"] == ready.model_version.name and body["model_version"]
    tests = {t.code: str(t.pk) for t in CodeTest.objects.all()}
    before = body["candidates"]
    # CodeT: the two wrong candidates agree (2 x 2 tests) and outrank the correct one (1 x 2).
    assert [row["rank"] for row in before] == [1, 2, 3]
    assert {before[0]["code"], before[1]["code"]} == {WRONG_A, WRONG_B} and before[0]["score"] == 4
    assert sorted(before[0]["consensus"]) == sorted(row["id"] for row in before[:2])
    correct = before[2]
    assert (correct["code"], correct["score"], correct["verdict"], correct["syntax_error"]) == (
        CORRECT,
        2,
        "undecided",
        "",
    )
    assert correct["matrix"] == {tests[T_BOTH]: "passed", tests[T_WRONG]: "failed", tests[T_RIGHT]: "passed"}
    assert "the same ones as 1 other candidate" in before[0]["reason"]

    wrong = CodeTest.objects.get(code=T_WRONG)
    rejected = api.post(f"/api/coding/tests/{wrong.pk}/decision/", {"verdict": "reject"}, format="json")
    assert rejected.status_code == 200
    assert (rejected.json()["test"], rejected.json()["verdict"], rejected.json()["via"]) == (wrong.pk, "reject", "api")
    after = ranking(api, ready)
    assert after[0]["code"] == CORRECT and after[0]["score"] == 2 and after[0]["rank"] == 1
    verdicts = {t["code"]: t["verdict"] for t in api.get(f"/api/coding/problems/{problem.pk}/").json()["tests"]}
    assert verdicts == {T_BOTH: "undecided", T_WRONG: "reject", T_RIGHT: "undecided"}


def test_decision_histories_keep_every_verdict(api, ready, developer):
    candidate = ready.candidates.get(code=WRONG_A)
    url = f"/api/coding/candidates/{candidate.pk}/decision/"
    for verdict in ("accept", "reject", "reject", "accept"):
        response = api.post(url, {"verdict": verdict}, format="json")
        assert response.status_code == 200 and response.json()["verdict"] == verdict
    history = api.get(f"/api/coding/candidates/{candidate.pk}/decisions/").json()
    assert [(d["verdict"], d["is_current"], d["via"], d["decided_by"]) for d in history] == [
        ("accept", False, "api", developer.username),
        ("reject", False, "api", developer.username),
        ("accept", True, "api", developer.username),
    ]  # the second reject changed nothing, so it is not a new row
    bad = api.post(url, {"verdict": "maybe"}, format="json")
    assert bad.status_code == 400 and "verdict" in bad.json()
    assert next(row for row in ranking(api, ready) if row["id"] == candidate.pk)["verdict"] == "accept"

    test = CodeTest.objects.get(code=T_RIGHT)
    for verdict in ("accept", "reject"):
        api.post(f"/api/coding/tests/{test.pk}/decision/", {"verdict": verdict}, format="json")
    tested = api.get(f"/api/coding/tests/{test.pk}/decisions/").json()
    assert [(d["verdict"], d["is_current"]) for d in tested] == [("accept", False), ("reject", True)]


def test_an_edited_test_replaces_the_old_one_which_is_rejected(api, ready, problem, django_capture_on_commit_callbacks):
    wrong = CodeTest.objects.get(code=T_WRONG)
    unchanged = api.post(f"/api/coding/tests/{wrong.pk}/edit/", {"code": T_WRONG + "  "}, format="json")
    assert unchanged.status_code == 400 and unchanged.json() == {"detail": "The test is unchanged."}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        edited = api.post(
            f"/api/coding/tests/{wrong.pk}/edit/", {"code": "assert count_vowels('Apple') == 2\n"}, format="json"
        )
    assert edited.status_code == 201 and len(callbacks) == 1  # the round runs again with the edited test
    (new,) = edited.json()
    assert (new["code"], new["replaces"], new["verdict"], new["source"]) == (
        "assert count_vowels('Apple') == 2",
        wrong.pk,
        "accept",
        "user",
    )
    history = api.get(f"/api/coding/tests/{wrong.pk}/decisions/").json()
    assert [(d["verdict"], d["via"], d["is_current"]) for d in history] == [("reject", "edit", True)]
    verdicts = {t["id"]: t["verdict"] for t in api.get(f"/api/coding/problems/{problem.pk}/").json()["tests"]}
    assert verdicts[wrong.pk] == "reject" and verdicts[new["id"]] == "accept"
    assert api.get(f"/api/coding/iterations/{ready.pk}/").json()["status"] == "executing"
    # While that run is open, added tests wait for the next one: no second run is sent.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        added = api.post(
            f"/api/coding/problems/{problem.pk}/tests/",
            {"code": "assert count_vowels('') == 0\nassert count_vowels('xyz') == 0"},
            format="json",
        )
    assert added.status_code == 201 and callbacks == []
    assert [(t["source"], t["verdict"], t["replaces"]) for t in added.json()] == [("user", "accept", None)] * 2
    empty = api.post(f"/api/coding/problems/{problem.pk}/tests/", {"code": "  "}, format="json")
    assert empty.status_code == 400 and empty.json() == {"detail": "The test is empty."}


def test_accept_a_solution_then_reject_it(api, ready, problem):
    correct = ready.candidates.get(code=CORRECT)
    response = api.post(f"/api/coding/candidates/{correct.pk}/solution/")
    assert response.status_code == 200 and response.json()["solution"] == correct.pk
    assert api.get(f"/api/coding/problems/{problem.pk}/").json()["solution"] == correct.pk
    history = api.get(f"/api/coding/candidates/{correct.pk}/decisions/").json()
    assert [(d["verdict"], d["via"]) for d in history] == [("accept", "solution")]
    broken = CodeCandidate.objects.create(
        iteration=ready, index=9, code="def count_vowels(:\n", syntax_error="Line 1: invalid syntax", normalized="x"
    )
    refused = api.post(f"/api/coding/candidates/{broken.pk}/solution/")
    assert refused.status_code == 400 and refused.json() == {
        "detail": "This candidate does not compile; it cannot be the solution."
    }
    api.post(f"/api/coding/candidates/{correct.pk}/decision/", {"verdict": "reject"}, format="json")
    assert api.get(f"/api/coding/problems/{problem.pk}/").json()["solution"] is None


# ---------------------------------------------------------------------------------------------
# Runs and executions


def test_run_again_adds_a_run_and_executions_filter_by_run(api, ready, django_capture_on_commit_callbacks):
    url = f"/api/coding/iterations/{ready.pk}/run-again/"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post(url)
        again = api.post(url)
    assert response.status_code == 200 and response.json()["status"] == "executing" and len(callbacks) == 1
    assert again.status_code == 409 and again.json() == {"detail": "Only a finished round can be run again."}
    services.iteration_execute(iteration_id=ready.pk)  # what the task does
    executions = f"/api/coding/iterations/{ready.pk}/executions/"
    assert [len(api.get(executions, {"run": run}).json()) for run in (1, 2)] == [9, 9]
    everything = api.get(executions).json()
    assert len(everything) == 18 and [e["run"] for e in everything] == [1] * 9 + [2] * 9
    assert api.get(f"/api/coding/iterations/{ready.pk}/").json()["run"] == 2
    bad = api.get(executions, {"run": "zero"})
    assert bad.status_code == 400 and "run" in bad.json()


def test_an_execution_has_its_traceback(api, ready):
    failed = Execution.objects.get(candidate__code=CORRECT, test__code=T_WRONG)
    body = api.get(f"/api/coding/executions/{failed.pk}/").json()
    assert (body["status"], body["run"], body["candidate"], body["test"]) == (
        "failed",
        1,
        failed.candidate_id,
        failed.test_id,
    )
    assert "AssertionError" in body["traceback"] and body["isolation"] in ("bwrap", "netns") and body["duration_s"] > 0


# ---------------------------------------------------------------------------------------------
# Export, schema, cost


def test_feedback_export_lines_are_training_rows(api, ready, developer):
    services.solution_accept(candidate=ready.candidates.get(code=CORRECT), user=developer)
    services.candidate_decide(candidate=ready.candidates.get(code=WRONG_A), user=developer, verdict="reject")
    services.test_decide(test=CodeTest.objects.get(code=T_RIGHT), user=developer, verdict="accept")
    services.test_decide(test=CodeTest.objects.get(code=T_WRONG), user=developer, verdict="reject")
    response = api.get("/api/coding/feedback/export/")
    assert response.status_code == 200 and response["Content-Type"] == "application/x-ndjson"
    assert response["Content-Disposition"] == 'attachment; filename="redline-coding-feedback.jsonl"'
    rows = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert rows and all({"prompt", "chosen", "rejected"} <= set(row) for row in rows)
    pair = next(row for row in rows if row["meta"]["kind"] == "candidates")
    assert (
        CORRECT.strip() in pair["chosen"] and WRONG_A.strip() in pair["rejected"] and "count_vowels" in pair["prompt"]
    )


def test_schema_lists_the_coding_endpoints(api):
    paths = yaml.safe_load(api.get("/api/schema/").content)["paths"]
    expected = {
        "/api/coding/problems/",
        "/api/coding/problems/{id}/",
        "/api/coding/problems/{id}/iterations/",
        "/api/coding/problems/{id}/tests/",
        "/api/coding/iterations/{id}/",
        "/api/coding/iterations/{id}/run-again/",
        "/api/coding/iterations/{id}/executions/",
        "/api/coding/candidates/{id}/decision/",
        "/api/coding/candidates/{id}/decisions/",
        "/api/coding/candidates/{id}/solution/",
        "/api/coding/tests/{id}/decision/",
        "/api/coding/tests/{id}/decisions/",
        "/api/coding/tests/{id}/edit/",
        "/api/coding/executions/{id}/",
        "/api/coding/feedback/export/",
    }
    assert expected <= set(paths)
    assert {"201", "409"} <= set(paths["/api/coding/problems/{id}/iterations/"]["post"]["responses"])


def test_reads_cost_the_same_number_of_queries_however_many_candidates_and_tests(
    api, problem, developer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        iteration = services.iteration_start(problem=problem, user=developer)

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(url).status_code == 200
        return len(captured)

    def grow(n: int) -> None:
        start = iteration.candidates.count()
        for i in range(start, start + n):
            code = f"def count_vowels(text):\n    return {i}\n"
            CodeCandidate.objects.create(iteration=iteration, index=i, code=code, normalized=services.code_key(code))
            test = f"assert count_vowels('{'a' * i}') == {i}"
            CodeTest.objects.create(problem=problem, iteration=iteration, code=test, normalized=services.code_key(test))

    grow(1)
    reads = [f"/api/coding/problems/{problem.pk}/", f"/api/coding/iterations/{iteration.pk}/"]
    before = [queries(url) for url in reads]
    grow(3)
    services.test_decide(test=CodeTest.objects.last(), user=developer, verdict="accept")
    services.candidate_decide(candidate=iteration.candidates.last(), user=developer, verdict="reject")
    assert [queries(url) for url in reads] == before
