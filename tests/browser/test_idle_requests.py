"""No screen sends a request while nothing runs. Each role's main screens are opened in a real
browser, left to settle, and every request they send in the next few seconds is counted: there
must be none. A page with work in progress polls (and shows the progress), and stops once the
work has ended.

The rows are made directly, never through a service that enqueues a task: nothing here may reach
the broker, since no worker runs for these tests."""

from dataclasses import dataclass

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from tests.factories import DocumentFactory, ModelVersionFactory, ProjectFactory, UserFactory, iteration_in_review
from tests.preferences.helpers import make_comparisons
from webapp.coding import services as coding
from webapp.coding.models import CodeCandidate, CodeTest, CodingIteration, Execution
from webapp.core import services as jobs
from webapp.registry.services import model_version_activate
from webapp.training.models import TrainingRun
from webapp.training.snapshots import snapshot_create
from webapp.writing import services as writing
from webapp.writing.models import Iteration

pytestmark = [pytest.mark.browser]

SETTLE_MS = 1500  # after a screen is ready: what it loads once (a preview, the next comparison) is done
WINDOW_MS = 3000  # then every request in this long is counted
CORRECT = "def count_vowels(text):\n    return sum(c in 'aeiouAEIOU' for c in text)\n"
WRONG = "def count_vowels(text):\n    return sum(c in 'aeiou' for c in text)\n"


@dataclass
class Screen:
    name: str
    path: str
    ready: str  # a selector that is there once the screen is what the person sees


def _context(browser, live_server, user):
    """A browser context logged in as `user` (the session cookie of a forced login)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])
    return context


def _open(context, live_server, screen: Screen, errors: list[str]):
    """Open `screen` in a new tab of `context`; returns the tab and the list its requests go to."""
    page = context.new_page()
    requests: list = []  # playwright Request objects, in the order they were sent
    page.on("request", lambda request: requests.append(request))
    page.on("pageerror", lambda exc: errors.append(f"{screen.name}: {exc}"))
    response = page.goto(live_server.url + screen.path)
    assert response is not None and response.ok, f"{screen.name}: {response and response.status}"
    page.locator(screen.ready).first.wait_for()
    return page, requests


def _described(requests) -> list[str]:
    return [f"{r.method} {r.url}" for r in requests]


def _htmx(requests) -> list:
    return [r for r in requests if r.headers.get("hx-request") == "true"]


def _requests_while_idle(tabs: dict) -> dict[str, list[str]]:
    """Let the open tabs ({name: (page, requests)}) settle, then return what each sends during the
    window that follows: those that sent nothing are left out."""
    last_page = list(tabs.values())[-1][0]
    last_page.wait_for_timeout(SETTLE_MS)
    before = {name: len(requests) for name, (_, requests) in tabs.items()}
    last_page.wait_for_timeout(WINDOW_MS)
    sent = {name: _described(requests[before[name] :]) for name, (_, requests) in tabs.items()}
    return {name: requests for name, requests in sent.items() if requests}


# The screens of each role, on rows where nothing is queued or running --------------------------


def _writer_screens(writer) -> list[Screen]:
    in_review = DocumentFactory(owner=writer, title="In review")
    iteration_in_review(in_review, "The cat sat on the mat. It was happy.")
    failed = DocumentFactory(owner=writer, title="Failed")
    job = jobs.job_create(kind="generate", user=writer)
    jobs.job_finish(job_id=job.pk, error="The model could not be loaded.")
    Iteration.objects.create(
        document=failed,
        number=1,
        depth=1,
        status=Iteration.Status.FAILED,
        instruction="fix_grammar",
        text_before=failed.current_text,
        error="The model could not be loaded.",
        job=job,
        created_by=writer,
    )
    DocumentFactory(owner=writer, title="New")
    return [
        Screen("documents", "/documents/", "h1"),
        Screen("document in review", f"/documents/{in_review.pk}/", "#redline"),
        Screen("document with a failed round", f"/documents/{failed.pk}/", "#round[data-state=failed]"),
        Screen("document history", f"/documents/{in_review.pk}/history/", "h1"),
        Screen("finished job", f"/jobs/{job.pk}/", ".job-badge-failed"),
    ]


def _developer_screens(developer) -> list[Screen]:
    problem = coding.problem_create(
        owner=developer, title="Vowels", statement="Count the vowels in a text.", entry_point="count_vowels"
    )
    iteration = CodingIteration.objects.create(
        problem=problem, number=1, status=CodingIteration.Status.READY, run=1, created_by=developer
    )
    candidates = [
        CodeCandidate.objects.create(iteration=iteration, index=i, code=code, normalized=coding.code_key(code))
        for i, code in enumerate((CORRECT, WRONG))
    ]
    test_code = "assert count_vowels('Apple') == 2"
    test = CodeTest.objects.create(
        problem=problem, iteration=iteration, code=test_code, normalized=coding.code_key(test_code)
    )
    executions = [
        Execution.objects.create(candidate=c, test=test, run=1, status=status)
        for c, status in zip(candidates, (Execution.Status.PASSED, Execution.Status.FAILED))
    ]
    return [
        Screen("problems", "/problems/", "h1"),
        Screen("problem with a finished round", f"/problems/{problem.pk}/", "#work[data-open=false]"),
        Screen("execution", f"/problems/executions/{executions[1].pk}/", f"#execution-{executions[1].pk}"),
    ]


def _annotator_screens(annotator) -> list[Screen]:
    queue, empty = ProjectFactory(name="Queue"), ProjectFactory(name="Empty")
    queue.members.add(annotator)
    empty.members.add(annotator)
    make_comparisons(queue, 2)
    return [
        Screen("projects to label", "/label/", "h1"),
        # The page asks for the next comparison once, as it loads; then it waits for the person.
        Screen("comparison to label", f"/label/{queue.pk}/", "#label-form"),
        Screen("empty queue", f"/label/{empty.pk}/", "#queue-empty"),
    ]


def _admin_screens(admin) -> list[Screen]:
    writer = UserFactory(role="writer")
    base = model_version_activate(version=ModelVersionFactory(name="base editor"))
    document = DocumentFactory(owner=writer, original_text="The cat were happy.", current_text="The cat were happy.")
    (proposal,) = iteration_in_review(document, "The cat was happy.", model_version=base).proposals.all()
    writing.proposal_decide(proposal=proposal, user=writer, verdict="accept")
    snapshot = snapshot_create(user=admin, sources=["writing"], held_out_percent=0)
    job = jobs.job_create(kind="training", user=admin)
    jobs.job_finish(job_id=job.pk, message="Trained 4 steps.")
    run = TrainingRun.objects.create(
        method=TrainingRun.Method.SFT,
        status=TrainingRun.Status.SUCCEEDED,
        snapshot=snapshot,
        base_version=base,
        created_by=admin,
        job=job,
        step=4,
        total_steps=4,
    )
    version = ModelVersionFactory(name="retrained", parent=base, training_run=run)
    project = ProjectFactory(name="Quality")
    make_comparisons(project, 2)
    return [
        # The preview of a new run's data is fetched once, as the page loads.
        Screen("training", "/training/", "#preview-table"),
        Screen("finished run", f"/training/runs/{run.pk}/", "#run-live[data-status=succeeded]"),
        Screen("versions", "/training/versions/", "h1"),
        Screen("version", f"/training/versions/{version.pk}/", "h1"),
        Screen("snapshot", f"/training/snapshots/{snapshot.pk}/", "h1"),
        Screen("retraining policy", f"/training/projects/{project.pk}/policy/", "h1"),
        Screen("quality", f"/quality/{project.pk}/", "h1"),
        Screen("finished job", f"/jobs/{job.pk}/", ".job-badge-succeeded"),
    ]


ROLES = {
    "writer": _writer_screens,
    "developer": _developer_screens,
    "annotator": _annotator_screens,
    "admin": _admin_screens,
}


def test_no_screen_sends_a_request_while_nothing_runs(live_server, browser):
    """Every role's screens at once, a tab each, in one browser context per role."""
    contexts, tabs, errors = [], {}, []
    try:
        for role, screens_of in ROLES.items():
            user = UserFactory(role=role)
            screens = screens_of(user)
            contexts.append(context := _context(browser, live_server, user))
            for screen in screens:
                tabs[f"{role}: {screen.name}"] = _open(context, live_server, screen, errors)
        assert _requests_while_idle(tabs) == {}
        assert errors == []
    finally:
        for context in contexts:
            context.close()


def test_the_training_preview_loads_once_and_again_after_each_change(live_server, browser):
    """The preview of a new run's data: fetched as the page loads, and again when a field changes;
    its answer must not fetch itself again as it is swapped in."""
    admin = UserFactory(role="admin")
    context = _context(browser, live_server, admin)
    try:
        errors = []
        page, requests = _open(context, live_server, Screen("training", "/training/", "#preview-table"), errors)
        page.wait_for_timeout(SETTLE_MS)
        assert len(_htmx(requests)) == 1, _described(requests)
        with page.expect_response(lambda r: "/training/runs/preview/" in r.url and "held_out_percent=20" in r.url):
            page.fill("#id_held_out_percent", "20")
            page.locator("#id_held_out_percent").press("Tab")  # the change event
        page.wait_for_timeout(SETTLE_MS)
        assert len(_htmx(requests)) == 2, _described(requests)
        assert errors == []
    finally:
        context.close()


# Work in progress: the page polls, shows the progress, and stops when the work ends -----------------


def test_pages_with_work_in_progress_poll_and_stop_when_it_ends(live_server, browser):
    admin, writer, developer = (UserFactory(role=role) for role in ("admin", "writer", "developer"))
    base = ModelVersionFactory(name="base editor")

    admin_job = jobs.job_create(kind="import", user=admin, total=4)
    document = DocumentFactory(owner=writer)
    document_job = jobs.job_create(kind="generate", user=writer, total=4)
    iteration = Iteration.objects.create(
        document=document,
        number=1,
        depth=1,
        status=Iteration.Status.QUEUED,
        instruction="fix_grammar",
        text_before=document.current_text,
        job=document_job,
        created_by=writer,
    )
    problem = coding.problem_create(owner=developer, title="Vowels", statement="Count the vowels in a text.")
    problem_job = jobs.job_create(kind="coding", user=developer, total=4)
    coding_round = CodingIteration.objects.create(problem=problem, number=1, job=problem_job, created_by=developer)
    # A run needs a snapshot, and a snapshot a decision: one on another document.
    (proposal,) = iteration_in_review(
        DocumentFactory(owner=writer, original_text="It were.", current_text="It were."), "It was.", model_version=base
    ).proposals.all()
    writing.proposal_decide(proposal=proposal, user=writer, verdict="accept")
    run = TrainingRun.objects.create(
        method=TrainingRun.Method.SFT,
        snapshot=snapshot_create(user=admin, sources=["writing"], held_out_percent=0),
        base_version=base,
        created_by=admin,
    )  # queued: a run marked running with no worker holding it reads as failed

    contexts = [_context(browser, live_server, user) for user in (admin, writer, developer)]
    try:
        admin_context, writer_context, developer_context = contexts
        errors: list[str] = []
        tabs = {
            "job": _open(admin_context, live_server, Screen("job", f"/jobs/{admin_job.pk}/", "#main"), errors),
            "run": _open(admin_context, live_server, Screen("run", f"/training/runs/{run.pk}/", "#run-live"), errors),
            "document": _open(
                writer_context, live_server, Screen("document", f"/documents/{document.pk}/", "#round"), errors
            ),
            "problem": _open(
                developer_context, live_server, Screen("problem", f"/problems/{problem.pk}/", "#work"), errors
            ),
        }

        # The work moves on: each page shows it without a reload.
        for job in (admin_job, document_job, problem_job):
            jobs.job_start(job_id=job.pk, message="working")
            jobs.job_progress(job_id=job.pk, done=1, total=4)
        TrainingRun.objects.filter(pk=run.pk).update(step=3, total_steps=10)
        for name in ("job", "document", "problem"):
            expect(tabs[name][0].locator(".job .job-message")).to_contain_text("1 of 4")
        expect(tabs["run"][0].locator("#run-steps")).to_have_text("step 3 of 10")
        for name, (_, requests) in tabs.items():
            polls = _described(_htmx(requests))
            assert polls and all(p.startswith("GET ") for p in polls), f"{name}: {_described(requests)}"

        # The work ends: the pages say so, and send nothing more.
        for job in (admin_job, document_job, problem_job):
            jobs.job_finish(job_id=job.pk, error="" if job is admin_job else "Stopped by the test.")
        TrainingRun.objects.filter(pk=run.pk).update(status=TrainingRun.Status.SUCCEEDED, step=10)
        Iteration.objects.filter(pk=iteration.pk).update(status=Iteration.Status.FAILED, error="Stopped by the test.")
        CodingIteration.objects.filter(pk=coding_round.pk).update(
            status=CodingIteration.Status.FAILED, error="Stopped by the test."
        )
        expect(tabs["job"][0].locator(".job-badge-succeeded")).to_be_visible()
        expect(tabs["run"][0].locator("#run-status")).to_have_text("Succeeded")
        expect(tabs["document"][0].locator("#round")).to_have_attribute("data-state", "failed")
        expect(tabs["problem"][0].locator("#work")).to_have_attribute("data-open", "false")
        assert _requests_while_idle(tabs) == {}
        assert errors == []
    finally:
        for context in contexts:
            context.close()
