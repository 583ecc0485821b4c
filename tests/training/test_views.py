"""The training screens: admin-only, CSRF, the run form (preview, double click, refusals), the run
page and its polled fragment, snapshots, versions with their plots, promote, rollback, policy."""

import json
import uuid

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import (
    DocumentFactory,
    ModelVersionFactory,
    ProjectFactory,
    iteration_in_review,
)
from tests.fixtures_worker import advisory_lock_elsewhere
from webapp.core.views import HTMX_STOP_POLLING
from webapp.registry.services import model_version_activate, model_version_active
from webapp.training.models import Evaluation, RetrainPolicy, TrainingPoint, TrainingRun
from webapp.training.runs import RUN_LOCK, training_run_start
from webapp.writing import services as writing

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def url(name, *args):
    return reverse(f"training:{name}", args=args)


@pytest.fixture
def decisions(writer):
    """Two rounds whose first edit was accepted and second rejected: rows and pairs to train on."""
    for animal in ("cat", "dog"):
        text = f"The {animal} sat on the the mat. The {animal} were happy."
        document = DocumentFactory(owner=writer, original_text=text, current_text=text)
        iteration = iteration_in_review(document, f"The {animal} sat on the mat. The {animal} was happy.")
        for proposal, verdict in zip(iteration.proposals.order_by("index"), ("accept", "reject")):
            writing.proposal_decide(proposal=proposal, user=writer, verdict=verdict)


@pytest.fixture
def active():
    return model_version_activate(version=ModelVersionFactory(name="base editor"))


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def run(decisions, admin_user, active, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        return training_run_start(user=admin_user, method="dpo", held_out_percent=0)


def run_form(**extra) -> dict:
    return {
        "sources": ["writing"],
        "held_out_percent": 10,
        "method": "sft",
        "finetune": "lora",
        "request_token": str(uuid.uuid4()),
        **extra,
    }


def every_url(run, version, project) -> list[tuple[str, str]]:
    return [
        ("get", url("run_list")),
        ("get", url("run_preview") + "?sources=writing&held_out_percent=10"),
        ("get", url("run_detail", run.pk)),
        ("get", url("snapshot_detail", run.snapshot.pk)),
        ("get", url("snapshot_export", run.snapshot.pk)),
        ("get", url("version_list")),
        ("get", url("version_detail", version.pk)),
        ("get", url("version_compare")),
        ("get", url("policy_edit", project.pk)),
        ("post", url("run_create")),
        ("post", url("run_cancel", run.pk)),
        ("post", url("version_promote", version.pk)),
        ("post", url("version_rollback")),
        ("post", url("version_evaluate", version.pk)),
        ("post", url("policy_edit", project.pk)),
    ]


@pytest.mark.parametrize("role", ["writer", "annotator"])
def test_only_admins_reach_the_training_screens(role, request, client, run, active):
    user = request.getfixturevalue(role)
    client.force_login(user)
    other = ModelVersionFactory()
    for method, address in every_url(run, other, ProjectFactory()):
        response = getattr(client, method)(address)
        assert response.status_code == 403, (role, method, address)
    run.refresh_from_db()
    assert run.status == "queued" and model_version_active() == active
    assert TrainingRun.objects.count() == 1


def test_anonymous_people_are_sent_to_log_in(client, run):
    response = client.get(url("run_detail", run.pk))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_posts_need_the_csrf_token(admin_user, decisions, active):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post(url("run_create"), run_form()).status_code == 403
    assert client.post(url("version_rollback")).status_code == 403
    assert TrainingRun.objects.count() == 0


def test_the_runs_page_shows_the_form_and_previews_the_data(admin_client, decisions, active):
    page = admin_client.get(url("run_list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="run-form"' in html and 'name="request_token"' in html and "base editor" in html
    preview = admin_client.get(url("run_preview"), {"sources": "writing", "held_out_percent": 0}, headers=HTMX)
    html = preview.content.decode()
    assert preview.status_code == 200 and 'id="preview"' in html and "<html" not in html
    assert '<td class="num">4</td>' in html  # 4 rows for training
    assert "4 rows, 2 of them pairs" in html
    empty = admin_client.get(url("run_preview"), {"held_out_percent": 0}, headers=HTMX)
    assert "Choose at least one source" in empty.content.decode()


def test_a_double_click_starts_one_run(admin_client, decisions, active, django_capture_on_commit_callbacks):
    form = run_form()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = admin_client.post(url("run_create"), form)
        second = admin_client.post(url("run_create"), form)
    run = TrainingRun.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == url("run_detail", run.pk)
    assert len(callbacks) == 1 and run.method == "sft" and run.base_version == active
    with django_capture_on_commit_callbacks(execute=False):
        htmx = admin_client.post(url("run_create"), run_form(), headers=HTMX)
    assert htmx.status_code == 204 and htmx["HX-Redirect"].startswith("/training/runs/")
    assert TrainingRun.objects.count() == 2


def test_the_form_sets_the_dpo_loss_and_the_general_english_rows(
    admin_client, decisions, active, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        response = admin_client.post(
            url("run_create"), run_form(method="dpo", loss_type="sigmoid+sft", anchor_share="1.5")
        )
    assert response.status_code == 302
    run = TrainingRun.objects.get()
    assert (run.hyperparameters["loss_type"], run.hyperparameters["anchor_share"]) == ("sigmoid+sft", 1.5)
    bad = admin_client.post(url("run_create"), run_form(method="dpo", loss_type="sigmoid+kto"))
    assert bad.status_code == 400 and "several joined by" in bad.content.decode()


def test_a_run_that_cannot_start_is_explained_and_nothing_is_made(admin_client, active, writer):
    response = admin_client.post(url("run_create"), run_form(method="dpo"))
    assert response.status_code == 400
    assert "no feedback to train on" in response.content.decode()
    bad = admin_client.post(url("run_create"), run_form(learning_rate="-3"))
    assert bad.status_code == 400 and "Ensure this value is greater than or equal to" in bad.content.decode()
    assert TrainingRun.objects.count() == 0


def test_the_run_page_shows_progress_the_loss_curve_and_stops_polling_when_done(admin_client, run):
    TrainingPoint.objects.bulk_create(
        [TrainingPoint(run=run, step=s, name="loss", value=1.0 / s) for s in (1, 2, 3)]
        + [TrainingPoint(run=run, step=3, name="rewards/accuracies", value=0.75)]
    )
    TrainingRun.objects.filter(pk=run.pk).update(status="running", step=3, total_steps=10, eta_seconds=42)
    with advisory_lock_elsewhere(RUN_LOCK, run.pk):  # a live worker holds it
        page = admin_client.get(url("run_detail", run.pk)).content.decode()
        live = admin_client.get(url("run_detail", run.pk), {"fragment": "live"}, headers=HTMX)
    assert 'aria-valuenow="30"' in page and "step 3 of 10" in page and "about 42 s left" in page
    assert 'id="loss-chart"' in page and "<polyline" in page and "rewards/accuracies" in page
    assert 'hx-trigger="every 2s"' in page and 'id="cancel-run"' in page
    assert live.status_code == 200 and "<html" not in live.content.decode()
    # Without a worker holding it, the page finds the run abandoned and says so.
    gone = admin_client.get(url("run_detail", run.pk), {"fragment": "live"}, headers=HTMX)
    assert (
        gone.status_code == HTMX_STOP_POLLING and "stopped (killed or crashed) at step 3 of 10" in gone.content.decode()
    )
    assert "every 2s" not in gone.content.decode()


def test_the_run_page_shows_the_promotion_gates_checks(admin_client, run):
    checks = [
        {"name": "edit cost left", "new": 7, "old": 9, "passed": True},
        {"name": "everyday harm", "new": 0.05, "old": 0.01, "passed": False},
    ]
    why = "fails everyday harm: edit cost left 7 characters against the active version's 9 (of 12)"
    TrainingRun.objects.filter(pk=run.pk).update(gate={"promote": False, "why": why, "checks": checks})
    page = admin_client.get(url("run_detail", run.pk)).content.decode()
    assert "Promotion gate: not promoted" in page and 'id="run-gate"' in page
    assert '<th scope="row">everyday harm</th><td class="num">0.05</td>' in page


def test_model_output_in_rows_is_escaped(admin_client, admin_user, writer, active, django_capture_on_commit_callbacks):
    text = "The cat sat on the the mat."
    document = DocumentFactory(owner=writer, original_text=text, current_text=text)
    iteration = iteration_in_review(document, "The <script>alert(1)</script> sat on the mat.")
    writing.proposal_decide(proposal=iteration.proposals.first(), user=writer, verdict="reject")
    with django_capture_on_commit_callbacks(execute=False):
        run = training_run_start(user=admin_user, method="sft", held_out_percent=0)
    html = admin_client.get(url("snapshot_detail", run.snapshot.pk)).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html


def test_cancel_from_the_run_page(admin_client, run):
    response = admin_client.post(url("run_cancel", run.pk))
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == "cancelled"
    again = admin_client.post(url("run_cancel", run.pk), follow=True)
    assert "nothing to cancel" in again.content.decode()


def test_snapshot_page_and_export(admin_client, run):
    page = admin_client.get(url("snapshot_detail", run.snapshot.pk)).content.decode()
    assert run.snapshot.content_hash in page and "It were happy" not in page and "The cat were happy." in page
    held = admin_client.get(url("snapshot_detail", run.snapshot.pk), {"split": "held_out"}).content.decode()
    assert "No rows." in held  # held_out_percent=0
    export = admin_client.get(url("snapshot_export", run.snapshot.pk))
    lines = [json.loads(line) for line in b"".join(export.streaming_content).decode().splitlines()]
    assert export["Content-Type"] == "application/x-ndjson" and len(lines) == run.snapshot.row_count == 4
    assert {"prompt", "chosen", "rejected"} <= set(lines[0])


def test_versions_page_plots_acceptance_and_figures_and_promotes_and_rolls_back(admin_client, run, active, writer):
    trained = ModelVersionFactory(name="trained", parent=active, training_run=run, snapshot=run.snapshot)
    Evaluation.objects.create(
        version=active, snapshot=run.snapshot, metrics={"preference_accuracy": 0.5, "final_edit_cost_reduction": 0.2}
    )
    Evaluation.objects.create(
        version=trained,
        snapshot=run.snapshot,
        metrics={"preference_accuracy": 0.75, "final_edit_cost_reduction": 0.42, "everyday_harm": 0.013},
    )
    why = "fails everyday harm: edit cost left 7 characters against the active version's 9 (of 12)"
    TrainingRun.objects.filter(pk=run.pk).update(gate={"promote": False, "why": why, "checks": []})
    # Decisions on proposals made by the active version: the acceptance plot has a point.
    document = DocumentFactory(owner=writer)
    iteration = iteration_in_review(document, "The cat sat on the mat. It was happy.", model_version=active)
    writing.proposals_decide_all(iteration=iteration, user=writer, verdict="accept")
    page = admin_client.get(url("version_list")).content.decode()
    assert 'id="acceptance-over-time"' in page and 'id="figures-per-version"' in page
    assert page.count("<polyline") >= 2  # the figures chart: two versions, a line per figure
    assert "75%" in page and 'id="promote-' in page
    assert "42%" in page and "1%" in page  # the writers' fixing done, everyday harm
    assert "not promoted</span>" in page and why.replace("'", "&#x27;") in page  # why the gate refused it

    response = admin_client.post(url("version_promote", trained.pk))
    assert response.status_code == 302 and model_version_active() == trained
    assert "is now the active version" in admin_client.get(url("version_list")).content.decode()
    compare = admin_client.get(url("version_compare"), {"a": active.pk, "b": trained.pk}).content.decode()
    assert "preference_accuracy" in compare and "0.75" in compare
    admin_client.post(url("version_rollback"))
    assert model_version_active() == active
    detail = admin_client.get(url("version_detail", trained.pk)).content.decode()
    assert "base editor" in detail and f"run #{run.pk}" in detail  # lineage


def test_promoting_a_reward_model_is_refused_with_a_message(admin_client, active):
    reward = ModelVersionFactory(kind="reward")
    page = admin_client.post(url("version_promote", reward.pk), follow=True).content.decode()
    assert "cannot make them" in page and model_version_active() == active


def test_policy_form_saves_and_validates(admin_client, writer):
    project = ProjectFactory()
    page = admin_client.get(url("policy_edit", project.pk))
    assert page.status_code == 200 and 'id="policy-form"' in page.content.decode()
    saved = admin_client.post(
        url("policy_edit", project.pk),
        {"enabled": "on", "after_decisions": 50, "method": "dpo", "promote_if_better": "on"},
    )
    assert saved.status_code == 302
    policy = RetrainPolicy.objects.get(project=project)
    assert (policy.enabled, policy.after_decisions, policy.method, policy.promote_if_better) == (True, 50, "dpo", True)
    bad = admin_client.post(url("policy_edit", project.pk), {"after_decisions": 0, "method": "dpo"})
    assert bad.status_code == 400 and RetrainPolicy.objects.get(project=project).after_decisions == 50


def test_versions_page_shows_the_card_of_a_built_in_model(admin_client, active, tmp_path):
    from inference.model_card import write_model_card

    write_model_card(
        tmp_path, "Redline's built-in editor", "Small and offline.", [("clean sentences untouched", "98%")]
    )
    active.base_model = str(tmp_path)
    active.save()
    page = admin_client.get(url("version_list")).content.decode()
    assert "built-in, small, offline" in page and f'id="model-card-{active.pk}"' in page
    assert "<dt>clean sentences untouched</dt><dd>98%</dd>" in page and "REDLINE_MODEL" in page


def test_reading_an_abandoned_run_writes_nothing_and_the_periodic_sweep_records_it(admin_client, run, settings):
    from webapp.training.tasks import fail_abandoned_runs

    TrainingRun.objects.filter(pk=run.pk).update(status="running", step=3, total_steps=10)
    page = admin_client.get(url("run_detail", run.pk)).content.decode()
    listed = admin_client.get(url("run_list")).content.decode()
    assert "stopped (killed or crashed) at step 3 of 10" in page and "failed" in listed
    assert TrainingRun.objects.get(pk=run.pk).status == "running"  # the pages only read
    assert settings.CELERY_BEAT_SCHEDULE["fail-abandoned-training-runs"]["task"] == fail_abandoned_runs.name
    assert fail_abandoned_runs() == 1
    swept = TrainingRun.objects.get(pk=run.pk)
    assert swept.status == "failed" and "killed or crashed" in swept.error


def test_the_runs_page_on_a_new_install_creates_no_version(admin_client):
    from webapp.registry.models import ModelVersion

    page = admin_client.get(url("run_list")).content.decode()
    assert "the configured model (REDLINE_MODEL)" in page and "the configured model (REDLINE_CODE_MODEL)" in page
    assert not ModelVersion.objects.exists()
