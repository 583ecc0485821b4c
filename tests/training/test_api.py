"""The training JSON API: permissions, starting (and not starting) runs, reading and cancelling
them, snapshots, versions, promotion and rollback. No run trains here: the task a start sends
on commit is captured, not executed, so runs stay queued."""

import json
import uuid
from datetime import datetime

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ModelVersionFactory
from tests.writing.test_api import api_client
from webapp.core.models import Job
from webapp.registry.models import ModelVersion, VersionEvent
from webapp.registry.services import model_version_activate, model_version_active, model_version_promote
from webapp.training.models import DatasetSnapshot, Evaluation, TrainingPoint, TrainingRun
from webapp.training.snapshots import snapshot_create
from webapp.writing import services as writing

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/api/training/runs/"),
    ("post", "/api/training/runs/"),
    ("get", "/api/training/runs/{run}/"),
    ("post", "/api/training/runs/{run}/cancel/"),
    ("get", "/api/training/snapshots/{snapshot}/"),
    ("get", "/api/training/snapshots/{snapshot}/export/"),
    ("post", "/api/training/snapshots/preview/"),
    ("get", "/api/training/versions/"),
    ("get", "/api/training/versions/{version}/"),
    ("post", "/api/training/versions/{version}/promote/"),
    ("post", "/api/training/versions/rollback/"),
]


def decide(iteration, user, verdicts):
    for proposal, verdict in zip(iteration.proposals.order_by("index"), verdicts):
        writing.proposal_decide(proposal=proposal, user=user, verdict=verdict)


@pytest.fixture
def api(admin_user):
    return api_client(admin_user)


@pytest.fixture
def decided(review, writer):
    """Two rows to train on: 'the the' -> 'the' accepted (SFT only), 'were' -> 'was' rejected (a pair)."""
    decide(review, writer, ["accept", "reject"])
    return review


@pytest.fixture
def snapshot(decided, admin_user):
    return snapshot_create(user=admin_user, sources=["writing"], held_out_percent=0)


def start(api, django_capture_on_commit_callbacks, body: dict, expect: int = 201) -> dict:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post("/api/training/runs/", body, format="json")
    assert response.status_code == expect, response.content
    assert len(callbacks) == (1 if expect == 201 else 0)  # the task goes once the new run is committed
    return response.json()


@pytest.fixture
def queued_run(api, snapshot, django_capture_on_commit_callbacks) -> TrainingRun:
    body = start(api, django_capture_on_commit_callbacks, {"method": "sft", "snapshot": snapshot.pk})
    return TrainingRun.objects.get(pk=body["id"])


# ---------------------------------------------------------------------------------------------
# Permissions


@pytest.mark.parametrize("role", ["writer", "annotator"])
@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_writers_and_annotators_get_403_everywhere(request, role, method, url, queued_run, snapshot):
    version = ModelVersionFactory()
    client = api_client(request.getfixturevalue(role))
    before = (TrainingRun.objects.count(), DatasetSnapshot.objects.count(), VersionEvent.objects.count())
    url = url.format(run=queued_run.pk, snapshot=snapshot.pk, version=version.pk)
    response = client.post(url, {"method": "sft"}, format="json") if method == "post" else client.get(url)
    assert response.status_code == 403
    assert response.json() == {"detail": "Only admins can drive retraining."}
    assert (TrainingRun.objects.count(), DatasetSnapshot.objects.count(), VersionEvent.objects.count()) == before
    assert TrainingRun.objects.get(pk=queued_run.pk).status == "queued"
    assert not ModelVersion.objects.filter(pk=version.pk, is_active=True).exists()


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_without_credentials_is_401(db, method, url):
    response = getattr(api_client(), method)(url.format(run=1, snapshot=1, version=1))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_an_admin_session_reads_too(client, admin_user, queued_run):
    client.force_login(admin_user)
    response = client.get(f"/api/training/runs/{queued_run.pk}/")
    assert response.status_code == 200 and response.json()["status"] == "queued"


# ---------------------------------------------------------------------------------------------
# Runs


def test_an_admin_starts_a_run_on_a_new_snapshot(api, admin_user, decided, django_capture_on_commit_callbacks):
    body = start(
        api,
        django_capture_on_commit_callbacks,
        {
            "method": "dpo",
            "finetune": "lora",
            "settings": {"max_steps": 3, "beta": 0.2},
            "held_out_percent": 0,
            "promote_if_better": True,
        },
    )
    run = TrainingRun.objects.get()
    assert body["id"] == run.pk and body["status"] == "queued" and body["percent"] == 0 and body["version"] is None
    assert (run.method, run.finetune, run.trigger, run.promote_if_better, run.created_by) == (
        "dpo",
        "lora",
        "api",
        True,
        admin_user,
    )
    assert run.hyperparameters["max_steps"] == 3 and run.hyperparameters["beta"] == 0.2
    assert body["hyperparameters"] == run.hyperparameters
    assert run.base_version == model_version_active() and body["base_version"] == run.base_version_id
    assert body["job"]["id"] == run.job_id and body["job"]["status"] == "queued"
    # The snapshot it froze: both decided sentences, one of them a pair, all for training.
    snapshot = DatasetSnapshot.objects.get()
    assert body["snapshot"] == snapshot.pk == run.snapshot_id
    assert (snapshot.row_count, snapshot.held_out_count, snapshot.sources, snapshot.created_by) == (
        2,
        0,
        ["writing"],
        admin_user,
    )
    assert snapshot.counts == {"writing": {"train": 2, "held_out": 0, "pairs": 1}}


def test_a_run_on_an_existing_snapshot_freezes_nothing_new(api, snapshot, django_capture_on_commit_callbacks):
    body = start(
        api, django_capture_on_commit_callbacks, {"method": "reward", "finetune": "full", "snapshot": snapshot.pk}
    )
    assert body["snapshot"] == snapshot.pk and body["finetune"] == "full" and body["method"] == "reward"
    assert DatasetSnapshot.objects.count() == 1


def test_the_same_request_token_gives_one_run(api, decided, django_capture_on_commit_callbacks):
    token = str(uuid.uuid4())
    first = start(api, django_capture_on_commit_callbacks, {"method": "sft", "request_token": token})
    again = start(api, django_capture_on_commit_callbacks, {"method": "sft", "request_token": token}, expect=200)
    assert again["id"] == first["id"]
    assert TrainingRun.objects.count() == 1 and DatasetSnapshot.objects.count() == 1 and Job.objects.count() == 1


@pytest.mark.parametrize(
    ("verdicts", "body", "message"),
    [
        (["accept", "accept"], {"method": "dpo"}, "needs pairs (a chosen and a rejected output)"),
        (None, {"method": "sft"}, "There is no feedback to train on yet"),
        (["accept", "reject"], {"method": "sft", "settings": {"beta": 0.1}}, "Unknown setting 'beta' for sft."),
        (["accept", "reject"], {"method": "sft", "settings": {"batch_size": 0}}, "batch_size"),
        (["accept", "reject"], {"method": "sft", "sources": ["nowhere"]}, "Unknown source 'nowhere'"),
    ],
)
def test_a_refused_start_is_a_400_and_creates_nothing(
    api, review, writer, verdicts, body, message, django_capture_on_commit_callbacks
):
    if verdicts:
        decide(review, writer, verdicts)
    response = start(api, django_capture_on_commit_callbacks, body, expect=400)
    assert set(response) == {"detail"} and message in response["detail"]
    assert not TrainingRun.objects.exists() and not DatasetSnapshot.objects.exists() and not Job.objects.exists()


def test_bad_input_is_a_400_naming_the_field(api, decided, django_capture_on_commit_callbacks):
    response = start(api, django_capture_on_commit_callbacks, {"method": "ppo", "snapshot": 999999}, expect=400)
    assert set(response) == {"method", "snapshot"}
    inside = start(
        api, django_capture_on_commit_callbacks, {"method": "sft", "settings": {"finetune": "full"}}, expect=400
    )
    assert "settings" in inside
    assert not TrainingRun.objects.exists()


def test_run_detail_has_progress_and_the_logged_curve(api, queued_run):
    TrainingPoint.objects.bulk_create(
        [
            TrainingPoint(run=queued_run, step=s, name=n, value=v)
            for s, n, v in [(2, "loss", 1.5), (1, "loss", 2.5), (1, "learning_rate", 0.01), (2, "learning_rate", 0.005)]
        ]
    )
    TrainingRun.objects.filter(pk=queued_run.pk).update(step=2, total_steps=8, eta_seconds=12.5, device="cpu fp32")
    body = api.get(f"/api/training/runs/{queued_run.pk}/").json()
    assert body["points"] == {"loss": [[1, 2.5], [2, 1.5]], "learning_rate": [[1, 0.01], [2, 0.005]]}
    assert (body["step"], body["total_steps"], body["percent"], body["eta_seconds"], body["device"]) == (
        2,
        8,
        25,
        12.5,
        "cpu fp32",
    )
    assert body["snapshot"] == queued_run.snapshot_id and body["error"] == "" and body["metrics"] == {}
    assert api.get("/api/training/runs/999999/").status_code == 404


def test_a_run_whose_worker_died_reads_as_failed(api, queued_run):
    # Marked running, but no worker holds its lock: the detail and the list both say failed.
    TrainingRun.objects.filter(pk=queued_run.pk).update(status="running", step=2, total_steps=9)
    body = api.get(f"/api/training/runs/{queued_run.pk}/").json()
    assert body["status"] == "failed" and "stopped (killed or crashed) at step 2 of 9" in body["error"]
    TrainingRun.objects.filter(pk=queued_run.pk).update(status="running")
    listed = api.get("/api/training/runs/").json()
    assert [r["status"] for r in listed["results"]] == ["failed"]


def test_runs_are_listed_newest_first_and_paginated(api, snapshot, django_capture_on_commit_callbacks):
    ids = [
        start(api, django_capture_on_commit_callbacks, {"method": "sft", "snapshot": snapshot.pk})["id"]
        for _ in range(3)
    ]
    body = api.get("/api/training/runs/?limit=2").json()
    assert body["count"] == 3 and [r["id"] for r in body["results"]] == ids[::-1][:2] and body["next"]


def test_cancel_a_queued_run_then_there_is_nothing_to_cancel(api, admin_user, queued_run):
    response = api.post(f"/api/training/runs/{queued_run.pk}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    queued_run.refresh_from_db()
    assert queued_run.status == "cancelled" and queued_run.finished_at is not None
    assert f"Cancelled by {admin_user.username}" in queued_run.log and queued_run.job.status == "failed"
    again = api.post(f"/api/training/runs/{queued_run.pk}/cancel/")
    assert again.status_code == 400 and again.json() == {
        "detail": "This run has cancelled; there is nothing to cancel."
    }
    assert api.post("/api/training/runs/999999/cancel/").status_code == 404


# ---------------------------------------------------------------------------------------------
# Snapshots


def test_snapshot_detail(api, snapshot, admin_user):
    body = api.get(f"/api/training/snapshots/{snapshot.pk}/").json()
    assert body["content_hash"] == snapshot.content_hash and len(body["content_hash"]) == 64
    assert (body["row_count"], body["train_count"], body["held_out_count"], body["held_out_percent"]) == (2, 2, 0, 0)
    assert body["counts"] == {"writing": {"train": 2, "held_out": 0, "pairs": 1}}
    assert (body["sources"], body["project"], body["since"], body["created_by"]) == (
        ["writing"],
        None,
        None,
        admin_user.username,
    )
    assert datetime.fromisoformat(body["cutoff"]) == snapshot.cutoff
    assert api.get("/api/training/snapshots/999999/").status_code == 404


def test_snapshot_export_streams_json_lines(api, snapshot):
    response = api.get(f"/api/training/snapshots/{snapshot.pk}/export/")
    assert response.status_code == 200 and response["Content-Type"] == "application/x-ndjson"
    assert f"redline-snapshot-{snapshot.pk}.jsonl" in response["Content-Disposition"]
    lines = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert [(r["position"], r["split"]) for r in lines] == [(0, "train"), (1, "train")]
    assert (
        lines[0]["prompt"].endswith("The cat sat on the the mat.") and lines[0]["chosen"] == "The cat sat on the mat."
    )
    assert (lines[1]["chosen"], lines[1]["rejected"]) == ("It were happy.", "It was happy.")
    assert api.get("/api/training/snapshots/999999/export/").status_code == 404


def test_preview_counts_without_saving(api, decided):
    response = api.post(
        "/api/training/snapshots/preview/", {"sources": ["writing"], "held_out_percent": 0}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"counts": {"writing": {"train": 2, "held_out": 0, "pairs": 1}}, "rows": 2, "pairs": 1}
    assert not DatasetSnapshot.objects.exists()
    unknown = api.post("/api/training/snapshots/preview/", {"sources": ["nowhere"]}, format="json")
    assert unknown.status_code == 400 and "Unknown source 'nowhere'" in unknown.json()["detail"]
    too_many = api.post("/api/training/snapshots/preview/", {"held_out_percent": 90}, format="json")
    assert too_many.status_code == 400 and "held_out_percent" in too_many.json()


# ---------------------------------------------------------------------------------------------
# Versions


@pytest.fixture
def versions(snapshot):
    """a (active), b trained from a with two evaluations, r a reward model."""
    a = model_version_activate(version=ModelVersionFactory(name="a"))
    b = ModelVersionFactory(name="b", parent=a, snapshot=snapshot, adapter_path="/models/b")
    r = ModelVersionFactory(name="r", kind="reward")
    older = snapshot_create(user=None, sources=["writing"], held_out_percent=50)
    Evaluation.objects.create(version=b, snapshot=older, metrics={"predicted_acceptance": 0.4})
    Evaluation.objects.create(version=b, snapshot=snapshot, metrics={"predicted_acceptance": 0.6})
    return a, b, r


def test_versions_list_and_detail(api, versions, snapshot):
    a, b, r = versions
    listed = {v["name"]: v for v in api.get("/api/training/versions/").json()["results"]}
    assert {"a", "b", "r"} <= set(listed)
    assert listed["a"]["is_active"] and not listed["b"]["is_active"] and listed["r"]["kind"] == "reward"
    assert (listed["b"]["parent"], listed["b"]["snapshot"], listed["b"]["adapter_path"]) == (
        a.pk,
        snapshot.pk,
        "/models/b",
    )
    assert listed["b"]["latest_metrics"] == {"predicted_acceptance": 0.6} and listed["a"]["latest_metrics"] == {}
    detail = api.get(f"/api/training/versions/{b.pk}/").json()
    assert [e["metrics"]["predicted_acceptance"] for e in detail["evaluations"]] == [0.6, 0.4]
    assert detail["evaluations"][0]["snapshot"] == snapshot.pk
    assert api.get("/api/training/versions/999999/").status_code == 404


def test_promote_then_roll_back(api, admin_user, versions):
    a, b, _ = versions
    response = api.post(f"/api/training/versions/{b.pk}/promote/", {"reason": "reads better"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["event"]["action"], body["event"]["version"], body["event"]["previous"]) == ("promote", b.pk, a.pk)
    assert (body["event"]["by"], body["event"]["reason"]) == (admin_user.username, "reads better")
    assert body["active"]["id"] == b.pk and body["active"]["is_active"] and len(body["active"]["evaluations"]) == 2
    assert model_version_active() == b
    again = api.post(f"/api/training/versions/{b.pk}/promote/")
    assert again.status_code == 400 and again.json() == {"detail": "b is already the active version."}

    rolled = api.post("/api/training/versions/rollback/")
    assert rolled.status_code == 200
    assert (rolled.json()["event"]["action"], rolled.json()["event"]["version"], rolled.json()["active"]["id"]) == (
        "rollback",
        a.pk,
        a.pk,
    )
    assert model_version_active() == a
    assert VersionEvent.objects.count() == 2


def test_a_reward_model_is_never_promoted_and_a_fresh_registry_has_nothing_to_roll_back(api, versions):
    a, _, r = versions
    refused = api.post(f"/api/training/versions/{r.pk}/promote/")
    assert refused.status_code == 400 and "reward model scores proposals" in refused.json()["detail"]
    assert model_version_active() == a
    nothing = api.post("/api/training/versions/rollback/")
    assert nothing.status_code == 400 and "nothing to roll back" in nothing.json()["detail"]
    assert model_version_active() == a and not VersionEvent.objects.exists()
    assert api.post("/api/training/versions/999999/promote/").status_code == 404


def test_rollback_walks_back_one_promotion_at_a_time(api, admin_user, versions):
    a, b, _ = versions
    c = ModelVersionFactory(name="c")
    model_version_promote(version=b, user=admin_user)
    model_version_promote(version=c, user=admin_user)
    assert api.post("/api/training/versions/rollback/").json()["active"]["name"] == "b"
    assert api.post("/api/training/versions/rollback/").json()["active"]["name"] == "a"
    assert api.post("/api/training/versions/rollback/").status_code == 400


def test_rollback_of_the_coder_leaves_the_editor_alone(api, admin_user, versions):
    _, b, _ = versions
    old_coder = model_version_activate(version=ModelVersionFactory(name="coder-1", kind="coder"))
    new_coder = ModelVersionFactory(name="coder-2", kind="coder")
    model_version_promote(version=new_coder, user=admin_user)
    model_version_promote(version=b, user=admin_user)

    rolled = api.post("/api/training/versions/rollback/", {"kind": "coder"}, format="json")
    assert rolled.status_code == 200 and rolled.json()["active"]["name"] == "coder-1"
    assert model_version_active(kind="coder") == old_coder and model_version_active() == b
    bad = api.post("/api/training/versions/rollback/", {"kind": "reward"}, format="json")
    assert bad.status_code == 400 and "kind" in bad.json()
    assert model_version_active() == b and model_version_active(kind="coder") == old_coder


# ---------------------------------------------------------------------------------------------
# Schema and cost


def test_schema_lists_the_training_endpoints(api):
    paths = yaml.safe_load(api.get("/api/schema/").content)["paths"]
    expected = {url.format(run="{id}", snapshot="{id}", version="{id}") for _, url in ENDPOINTS}
    assert expected <= set(paths)
    assert {"200", "201", "400"} <= set(paths["/api/training/runs/"]["post"]["responses"])


def test_lists_cost_the_same_number_of_queries_however_long(
    api, snapshot, versions, django_capture_on_commit_callbacks
):
    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(url).status_code == 200
        return len(captured)

    start(api, django_capture_on_commit_callbacks, {"method": "sft", "snapshot": snapshot.pk})
    runs_before, versions_before = queries("/api/training/runs/"), queries("/api/training/versions/")
    for _ in range(3):
        start(api, django_capture_on_commit_callbacks, {"method": "sft", "snapshot": snapshot.pk})
    ModelVersionFactory.create_batch(3)
    assert queries("/api/training/runs/") == runs_before
    assert queries("/api/training/versions/") == versions_before
