"""The coding screens: permissions (someone else's problem is a 404, a writer cannot work on
code), CSRF, the problem page with its ranking, matrix and escaped code, the forms and fragments."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from tests.coding.test_loop import CORRECT, T_RIGHT, T_WRONG, WRONG_A, round_with
from tests.factories import ProjectFactory, UserFactory
from webapp.coding import services
from webapp.coding.models import (
    CodeCandidate,
    CodeTest,
    CodingIteration,
    Execution,
    Problem,
)
from webapp.core.views import HTMX_STOP_POLLING

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def url(name, *args):
    return reverse(f"coding:{name}", args=args)


@pytest.fixture
def developer(db):
    return UserFactory(role="developer")


@pytest.fixture
def dev_client(client, developer):
    client.force_login(developer)
    return client


@pytest.fixture
def problem(developer):
    return services.problem_create(
        owner=developer, title="Vowels", statement="Count the vowels in a text.", entry_point="count_vowels"
    )


@pytest.fixture
def ready(problem, developer, django_capture_on_commit_callbacks):
    return round_with(problem, developer, [CORRECT, WRONG_A], [T_RIGHT, T_WRONG], django_capture_on_commit_callbacks)


def post_urls(problem, iteration) -> list[tuple[str, dict]]:
    candidate, test = iteration.candidates.first(), problem.tests.first()
    return [
        (url("round_start", problem.pk), {}),
        (url("round_rerun", iteration.pk), {}),
        (url("test_add", problem.pk), {"code": T_RIGHT}),
        (url("candidate_decide", candidate.pk), {"verdict": "reject"}),
        (url("solution_accept", candidate.pk), {}),
        (url("test_decide", test.pk), {"verdict": "accept"}),
        (url("test_edit", test.pk), {"code": "assert count_vowels('a') == 1"}),
    ]


def test_someone_elses_problem_is_a_404_on_every_page_and_post(ready, problem, django_capture_on_commit_callbacks):
    stranger = Client()
    stranger.force_login(UserFactory(role="developer"))
    execution = Execution.objects.first()
    for address in (url("problem_detail", problem.pk), url("execution_detail", execution.pk)):
        assert stranger.get(address).status_code == 404
    with django_capture_on_commit_callbacks(execute=False):
        for address, data in post_urls(problem, ready):
            assert stranger.post(address, data).status_code == 404, address
    assert CodeTest.objects.count() == 2 and Problem.objects.get().solution is None
    assert b"Vowels" not in stranger.get(url("problem_list")).content


def test_project_members_share_problems(developer, client):
    project = ProjectFactory()
    colleague = UserFactory(role="developer")
    project.members.add(developer, colleague)
    shared = services.problem_create(owner=developer, title="Shared", statement="s", project=project)
    client.force_login(colleague)
    assert client.get(url("problem_detail", shared.pk)).status_code == 200


def test_writers_and_annotators_cannot_work_on_code(problem, ready, writer, annotator):
    for user in (writer, annotator):
        client = Client()
        client.force_login(user)
        assert client.post(url("problem_create"), {"statement": "x"}).status_code == 403
    project = ProjectFactory()
    project.members.add(problem.owner, writer)
    Problem.objects.filter(pk=problem.pk).update(project=project)
    client = Client()
    client.force_login(writer)  # may look, as a project member, but not act
    assert client.get(url("problem_detail", problem.pk)).status_code == 200
    for address, data in post_urls(problem, ready):
        assert client.post(address, data).status_code == 403, address


def test_posts_need_the_csrf_token(developer, problem):
    client = Client(enforce_csrf_checks=True)
    client.force_login(developer)
    assert client.post(url("problem_create"), {"statement": "Add numbers."}).status_code == 403
    assert client.post(url("round_start", problem.pk)).status_code == 403
    assert CodingIteration.objects.count() == 0


def test_create_a_problem_and_start_a_round(dev_client, django_capture_on_commit_callbacks):
    response = dev_client.post(
        url("problem_create"),
        {"title": "", "statement": "Add two numbers.", "entry_point": "add", "tests": "assert add(1, 2) == 3"},
    )
    problem = Problem.objects.get()
    assert response.status_code == 302 and response["Location"] == url("problem_detail", problem.pk)
    assert problem.tests.get().source == "user"
    bad = dev_client.post(url("problem_create"), {"statement": "x", "entry_point": "two words", "tests": "assert 1"})
    assert (
        bad.status_code == 400
        and "not a Python function name" in bad.content.decode()
        and "assert 1" in bad.content.decode()
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        started = dev_client.post(url("round_start", problem.pk), headers=HTMX)
    html = started.content.decode()
    assert started.status_code == 200 and len(callbacks) == 1 and 'hx-trigger="every 1s"' in html
    assert "<html" not in html and "Round 1 is on its way" in html
    again = dev_client.post(url("round_start", problem.pk), headers=HTMX)
    assert again.status_code == 409 and "being worked on" in again.content.decode()
    poll = dev_client.get(url("problem_detail", problem.pk), headers=HTMX)
    assert poll.status_code == 200  # still running: keep polling


def test_the_problem_page_ranks_candidates_draws_the_matrix_and_escapes_code(dev_client, ready, problem):
    odd = CodeCandidate.objects.create(
        iteration=ready, index=5, code="x = '</code><script>alert(1)</script>'", normalized="x"
    )
    page = dev_client.get(url("problem_detail", problem.pk))
    html = page.content.decode()
    assert page.status_code == 200
    # Each passes one test alone (1 x 1); the tie goes to the older candidate; the odd one passes none.
    order = [
        html.index(f'id="candidate-{c.pk}"')
        for c in (ready.candidates.get(code=CORRECT), ready.candidates.get(code=WRONG_A), odd)
    ]
    assert order == sorted(order) and "Passes 1 of 2 tests" in html
    assert 'id="matrix"' in html and html.count('class="cell exec-passed"') >= 2 and 'class="cell exec-failed"' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert 'id="run-again"' in html and 'id="regenerate"' in html
    done = dev_client.get(url("problem_detail", problem.pk), headers=HTMX)
    assert done.status_code == HTMX_STOP_POLLING  # nothing running: the poll stops


def test_decisions_from_the_page_change_the_ranking(dev_client, ready, problem, django_capture_on_commit_callbacks):
    wrong_test = CodeTest.objects.get(code=T_WRONG)
    html = dev_client.post(url("test_decide", wrong_test.pk), {"verdict": "reject"}, headers=HTMX).content.decode()
    assert f'id="test-{wrong_test.pk}" data-kind="test" data-verdict="reject"' in html
    first = html.index('data-rank="1"')
    assert html.rfind('id="candidate-', 0, first) == html.rfind(
        f'id="candidate-{ready.candidates.get(code=CORRECT).pk}"', 0, first
    )
    correct = ready.candidates.get(code=CORRECT)
    response = dev_client.post(url("solution_accept", correct.pk))
    assert response.status_code == 302 and Problem.objects.get().solution == correct
    assert 'id="solution"' in dev_client.get(url("problem_detail", problem.pk)).content.decode()
    bad = dev_client.post(url("candidate_decide", correct.pk), {"verdict": "maybe"}, headers=HTMX)
    assert bad.status_code == 400 and "Choose accept or reject" in bad.content.decode()


def test_editing_a_test_keeps_what_was_typed_on_error_and_reruns_on_success(
    dev_client, ready, problem, django_capture_on_commit_callbacks
):
    test = CodeTest.objects.get(code=T_RIGHT)
    unchanged = dev_client.post(url("test_edit", test.pk), {"code": T_RIGHT}, headers=HTMX)
    assert unchanged.status_code == 400 and "unchanged" in unchanged.content.decode()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        edited = dev_client.post(url("test_edit", test.pk), {"code": "assert count_vowels('AEIOU') == 5"}, headers=HTMX)
    assert edited.status_code == 200 and len(callbacks) == 1
    ready.refresh_from_db()
    assert ready.status == "executing" and CodeTest.objects.filter(replaces=test).count() == 1


def test_an_execution_cell_opens_its_traceback(dev_client, ready):
    failed = Execution.objects.filter(status="failed").first()
    fragment = dev_client.get(url("execution_detail", failed.pk), headers=HTMX).content.decode()
    assert "AssertionError" in fragment and "<html" not in fragment and "Traceback" in fragment
    page = dev_client.get(url("execution_detail", failed.pk)).content.decode()
    assert "<html" in page and "Vowels" in page


def test_feedback_export_has_trl_columns(dev_client, ready, problem, developer):
    services.solution_accept(candidate=ready.candidates.get(code=CORRECT), user=developer)
    services.test_decide(test=CodeTest.objects.get(code=T_RIGHT), user=developer, verdict="accept")
    response = dev_client.get(url("feedback_export"))
    rows = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert response["Content-Type"] == "application/x-ndjson" and len(rows) == 2
    assert {"prompt", "chosen", "rejected"} <= set(rows[0]) and "count_vowels" in rows[0]["chosen"]
