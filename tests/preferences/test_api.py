"""The preference JSON API: 401 without credentials, 403 without the role, 404 for what the
user may not see; the queue, labels (own; admins all), blind comparisons for annotators, import,
create, derive, generate, settings, the JSONL export and the schema."""

import json

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import ModelVersionFactory, UserFactory
from tests.preferences.helpers import hold, make_comparisons, project_with
from tests.writing.test_api import api_client
from webapp.preferences.errors import NotReserved
from webapp.preferences.models import Comparison, LabelChange, PreferenceLabel

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    project, (annotator, other, admin, writer) = project_with("annotator", "annotator", "admin", "writer")
    return project, annotator, other, admin, writer


def test_the_queue_over_the_api(team):
    project, annotator, other, _, _ = team
    first, second = make_comparisons(project, 2)
    api = api_client(annotator)
    item = api.post(f"/api/preferences/projects/{project.pk}/next/").json()
    assert item["comparison"]["id"] == first.pk and item["expires_at"] and item["label"] is None
    assert item["progress"] == {"labelled": 0, "skipped": 0, "total": 2}
    # annotators label blind: no sources, versions or gold flags
    assert "is_gold" not in item["comparison"] and "source" not in item["comparison"]["outputs"][0]
    assert [o["letter"] for o in item["comparison"]["outputs"]] == ["A", "B"]
    created = api.post(
        f"/api/preferences/comparisons/{first.pk}/label/", {"choice": "a_better", "seconds_spent": 4}, format="json"
    )
    assert created.status_code == 201 and created.json()["choice"] == "a_better"
    changed = api.post(
        f"/api/preferences/comparisons/{first.pk}/label/",
        {"choice": "b_better", "rationale": "B is kinder"},
        format="json",
    )
    assert changed.status_code == 200 and changed.json()["id"] == created.json()["id"]
    assert LabelChange.objects.filter(comparison=first).count() == 2
    assert api.post(f"/api/preferences/projects/{project.pk}/next/").json()["comparison"]["id"] == second.pk
    bad = api.post(f"/api/preferences/comparisons/{second.pk}/label/", {"choice": "best"}, format="json")
    assert bad.status_code == 400 and "choice" in bad.json()
    assert api.post(f"/api/preferences/comparisons/{second.pk}/skip/").status_code == 204
    done = api.post(f"/api/preferences/projects/{project.pk}/next/").json()
    assert done["comparison"] is None and done["progress"] == {"labelled": 1, "skipped": 1, "total": 2}
    undone = api.post(f"/api/preferences/projects/{project.pk}/undo/").json()
    assert undone["comparison"]["id"] == first.pk and undone["label"] is None
    assert api.post(f"/api/preferences/projects/{project.pk}/undo/").status_code == 409
    # the skipped one is not reserved to them: no label there
    skipped = api.post(f"/api/preferences/comparisons/{second.pk}/label/", {"choice": "tie"}, format="json")
    assert skipped.status_code == 409 and skipped.json() == {"detail": NotReserved.MESSAGE}
    assert (
        api.post(f"/api/preferences/comparisons/{first.pk}/label/", {"choice": "tie"}, format="json").status_code == 201
    )
    # k = 1: the other annotator is given second (skipped by the first), and cannot label first
    assert api_client(other).post(f"/api/preferences/projects/{project.pk}/next/").json()["comparison"]["id"] == (
        second.pk
    )
    conflict = api_client(other).post(
        f"/api/preferences/comparisons/{first.pk}/label/", {"choice": "tie"}, format="json"
    )
    assert conflict.status_code == 409 and conflict.json() == {"detail": NotReserved.MESSAGE}


def test_annotators_see_their_own_labels_and_admins_see_all(team):
    project, annotator, other, admin, _ = team
    first, second = make_comparisons(project, 2)
    for user, comparison, choice in ((annotator, first, "tie"), (other, second, "a_better")):
        assert api_client(user).post(f"/api/preferences/projects/{project.pk}/next/").json()["comparison"]["id"] == (
            comparison.pk
        )
        posted = api_client(user).post(
            f"/api/preferences/comparisons/{comparison.pk}/label/", {"choice": choice}, format="json"
        )
        assert posted.status_code == 201
    mine = api_client(annotator).get("/api/preferences/labels/").json()["results"]
    assert [(l["comparison"], l["annotator"]) for l in mine] == [(first.pk, annotator.username)]
    assert api_client(annotator).get(f"/api/preferences/labels/?comparison={second.pk}").json()["results"] == []
    everyone = api_client(admin).get(f"/api/preferences/labels/?project={project.pk}").json()["results"]
    assert {l["annotator"] for l in everyone} == {annotator.username, other.username}
    detail = api_client(admin).get(f"/api/preferences/comparisons/{first.pk}/").json()
    assert detail["is_gold"] is False and detail["outputs"][0]["source"] == "source 0"


def test_who_may_do_what(team):
    project, annotator, _, _, writer = team
    (comparison,) = make_comparisons(project, 1)
    outsider = UserFactory(role="annotator")
    assert api_client().get("/api/preferences/comparisons/").status_code == 401
    assert api_client(writer).get("/api/preferences/comparisons/").status_code == 403
    assert api_client(writer).post(f"/api/preferences/projects/{project.pk}/next/").status_code == 403
    assert (
        api_client(writer)
        .post(f"/api/preferences/comparisons/{comparison.pk}/label/", {"choice": "tie"}, format="json")
        .status_code
        == 403
    )
    assert api_client(outsider).get(f"/api/preferences/comparisons/{comparison.pk}/").status_code == 404
    assert api_client(outsider).post(f"/api/preferences/projects/{project.pk}/next/").status_code == 404
    # a label on a comparison the queue did not give you: one answer, whether it exists or not
    for pk in (comparison.pk, comparison.pk + 1000):
        refused = api_client(outsider).post(
            f"/api/preferences/comparisons/{pk}/label/", {"choice": "tie"}, format="json"
        )
        assert refused.status_code == 409 and refused.json() == {"detail": NotReserved.MESSAGE}
    assert api_client(outsider).get("/api/preferences/comparisons/").json()["results"] == []
    assert api_client(annotator).get("/api/preferences/comparisons/").json()["count"] == 0  # nothing given yet
    api_client(annotator).post(f"/api/preferences/projects/{project.pk}/next/")
    assert api_client(annotator).get("/api/preferences/comparisons/").json()["count"] == 1
    assert api_client(annotator).get(f"/api/preferences/export/?project={project.pk}").status_code == 403
    assert (
        api_client(annotator).put(f"/api/preferences/projects/{project.pk}/settings/", {}, format="json").status_code
        == 403
    )
    created = api_client(annotator).post(
        "/api/preferences/comparisons/", {"project": project.pk, "prompt": "p", "outputs": []}, format="json"
    )
    assert created.status_code == 403
    assert not PreferenceLabel.objects.exists()


def test_admins_create_import_and_export(team):
    project, annotator, _, admin, _ = team
    api = api_client(admin)
    created = api.post(
        "/api/preferences/comparisons/",
        {
            "project": project.pk,
            "prompt": "Which is kinder?",
            "outputs": [{"text": "Please."}, {"text": "Now!", "source": "v1"}],
            "gold_choice": "a_better",
        },
        format="json",
    )
    assert created.status_code == 201 and created.json()["is_gold"] and created.json()["gold_choice"] == "a_better"
    refused = api.post(
        "/api/preferences/comparisons/",
        {"project": project.pk, "prompt": "x", "outputs": [{"text": "a"}]},
        format="json",
    )
    assert refused.status_code == 400 and "2 to 10 outputs" in refused.json()["detail"]

    good = SimpleUploadedFile("set.csv", b"prompt,response_a,response_b\nHi,hello,hey\nBye,ciao,adieu\n")
    imported = api.post(
        "/api/preferences/comparisons/import/", {"file": good, "project": project.pk}, format="multipart"
    )
    assert imported.status_code == 201 and [c["prompt"] for c in imported.json()] == ["Hi", "Bye"]
    bad = SimpleUploadedFile("bad.jsonl", b'{"prompt": "a", "responses": ["x", "y"]}\n{"prompt": "b"}\n')
    failed = api.post("/api/preferences/comparisons/import/", {"file": bad, "project": project.pk}, format="multipart")
    assert failed.status_code == 400 and "line 2" in failed.json()["detail"]
    assert Comparison.objects.count() == 3

    hi = Comparison.objects.get(prompt="Hi")
    hold(annotator, hi)
    api_client(annotator).post(
        f"/api/preferences/comparisons/{hi.pk}/label/", {"choice": "b_much_better"}, format="json"
    )
    response = api.get(f"/api/preferences/export/?project={project.pk}&min_agreement=0.5&exclude_gold=true")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/x-ndjson")
    rows = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert [(r["prompt"], r["chosen"], r["rejected"]) for r in rows] == [("Hi", "hey", "hello")]
    assert api.get("/api/preferences/export/?project=999999").status_code == 404
    assert api.get(f"/api/preferences/export/?project={project.pk}&min_agreement=2").status_code == 400


def test_settings_derive_and_generate(team, django_capture_on_commit_callbacks):
    project, annotator, _, admin, _ = team
    api = api_client(admin)
    assert api.get(f"/api/preferences/projects/{project.pk}/settings/").json() == {
        "labels_per_comparison": 1,
        "gold_rate": 0.0,
        "reservation_seconds": 600,
    }
    saved = api.put(
        f"/api/preferences/projects/{project.pk}/settings/",
        {"labels_per_comparison": 3, "gold_rate": 0.1, "reservation_seconds": 120},
        format="json",
    )
    assert saved.status_code == 200 and saved.json()["labels_per_comparison"] == 3
    assert api_client(annotator).get(f"/api/preferences/projects/{project.pk}/settings/").json()["gold_rate"] == 0.1
    assert (
        api.put(
            f"/api/preferences/projects/{project.pk}/settings/",
            {"labels_per_comparison": 0, "gold_rate": 2, "reservation_seconds": 1},
            format="json",
        ).status_code
        == 400
    )
    derived = api.post(
        "/api/preferences/comparisons/derive/", {"project": project.pk, "derive_from": "writing"}, format="json"
    )
    assert derived.status_code == 201 and derived.json() == []
    version = ModelVersionFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queued = api.post(
            "/api/preferences/comparisons/generate/",
            {"project": project.pk, "prompts": ["a", "b"], "version_a": version.pk, "samples": 3},
            format="json",
        )
    assert queued.status_code == 202 and queued.json()["status"] == "queued" and len(callbacks) == 1
    polled = api.get(f"/api/preferences/jobs/{queued.json()['id']}/")
    assert polled.status_code == 200 and polled.json()["total"] == 2 and polled.json()["status"] == "queued"
    other_admin = UserFactory(role="admin")
    assert api_client(other_admin).get(f"/api/preferences/jobs/{queued.json()['id']}/").status_code == 404
    assert api_client(annotator).get(f"/api/preferences/jobs/{queued.json()['id']}/").status_code == 403
    missing = api.post(
        "/api/preferences/comparisons/generate/",
        {"project": project.pk, "prompts": ["a"], "version_a": 999999},
        format="json",
    )
    assert missing.status_code == 400 and missing.json() == {"detail": "There is no model version 999999."}


def test_schema_lists_the_preference_endpoints(team):
    paths = yaml.safe_load(api_client(team[1]).get("/api/schema/").content)["paths"]
    assert {
        "/api/preferences/comparisons/",
        "/api/preferences/comparisons/import/",
        "/api/preferences/comparisons/{id}/",
        "/api/preferences/comparisons/{id}/label/",
        "/api/preferences/comparisons/{id}/skip/",
        "/api/preferences/projects/{id}/next/",
        "/api/preferences/projects/{id}/undo/",
        "/api/preferences/labels/",
        "/api/preferences/export/",
        "/api/preferences/comparisons/generate/",
        "/api/preferences/comparisons/derive/",
        "/api/preferences/comparisons/{id}/resolve/",
        "/api/preferences/jobs/{id}/",
    } <= set(paths)
    assert "409" in paths["/api/preferences/comparisons/{id}/label/"]["post"]["responses"]


def test_an_admin_resolves_a_disagreement_and_annotators_may_not(team):
    project, annotator, other, admin, _ = team
    (pair,) = make_comparisons(project, 1)
    url = f"/api/preferences/comparisons/{pair.pk}/resolve/"
    assert api_client(annotator).post(url, {"choice": "a_better"}, format="json").status_code == 403
    resolved = api_client(admin).post(url, {"choice": "b_much_better"}, format="json")
    assert resolved.status_code == 200
    body = resolved.json()
    assert (body["resolved_choice"], body["resolved_by"]) == ("b_much_better", admin.username) and body["resolved_at"]
    pair.refresh_from_db()
    assert pair.resolved_choice == "b_much_better"
    # annotators never see the answer, nor that there is one
    blind = api_client(annotator).get(f"/api/preferences/comparisons/{pair.pk}/").json()
    assert "resolved_choice" not in blind and "resolved_by" not in blind
    assert api_client(admin).post(url, {"choice": "best"}, format="json").status_code == 400
    cleared = api_client(admin).post(url, {}, format="json").json()
    assert cleared["resolved_choice"] == "" and cleared["resolved_by"] is None
    assert (
        api_client(admin)
        .post("/api/preferences/comparisons/999999/resolve/", {"choice": "tie"}, format="json")
        .status_code
        == 404
    )
