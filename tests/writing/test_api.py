import json

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from inference.diffing import diff_words
from tests.conftest import FIXED_TEXT
from tests.factories import (
    PASSWORD,
    DocumentFactory,
    ProjectFactory,
    iteration_in_review,
)
from webapp.writing import services
from webapp.writing.models import Decision, Document, EditProposal, Iteration

BEFORE = "The cat sat on the the mat. It were happy."


def api_client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture
def api(writer):
    return api_client(writer)


def worker_proposes(iteration_id: int, model_output: str) -> None:
    """What the generation task does, without a worker: the queued round gets the word diff."""
    iteration = Iteration.objects.get(pk=iteration_id)
    EditProposal.objects.bulk_create(
        EditProposal(
            iteration=iteration,
            index=i,
            action=e.action,
            start_char=e.start,
            end_char=e.end,
            before=e.before,
            after=e.after,
            intent="fluency",
            score=0.9,
        )
        for i, e in enumerate(diff_words(iteration.text_before, model_output))
    )
    Iteration.objects.filter(pk=iteration_id).update(status=Iteration.Status.REVIEW, model_output=model_output)


# ---------------------------------------------------------------------------------------------
# Authentication


def test_token_flow(writer):
    client = APIClient()
    refused = client.post("/api/token/", {"username": writer.username, "password": "wrong"}, format="json")
    assert refused.status_code == 400
    response = client.post("/api/token/", {"username": writer.username, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    assert token == Token.objects.get(user=writer).key
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/documents/").status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert client.get("/api/documents/").status_code == 401


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/documents/"),
        ("post", "/api/documents/"),
        ("get", "/api/iterations/1/"),
        ("post", "/api/proposals/1/decision/"),
        ("get", "/api/documents/export/"),
    ],
)
def test_without_credentials_is_401(db, method, url):
    response = getattr(APIClient(), method)(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_session_post_without_csrf_token_is_refused(writer):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(writer)
    assert client.get("/api/documents/").status_code == 200  # reads need no token
    response = client.post("/api/documents/", {"text": "Hello there."}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Document.objects.exists()
    # With the token from the cookie, the same post goes through.
    client.get("/accounts/login/")
    response = client.post(
        "/api/documents/", {"text": "Hello there."}, format="json", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value
    )
    assert response.status_code == 201


# ---------------------------------------------------------------------------------------------
# Documents


def test_list_shows_only_own_and_project_documents(writer, other_writer, api):
    mine = DocumentFactory(owner=writer)
    DocumentFactory(owner=other_writer)
    shared = DocumentFactory(owner=other_writer, project=ProjectFactory())
    shared.project.members.add(writer)
    body = api.get("/api/documents/").json()
    assert body["count"] == 2
    assert {d["id"] for d in body["results"]} == {mine.pk, shared.pk}


def test_create_document(api, writer):
    response = api.post("/api/documents/", {"text": "  Première ligne 😀\n\nSuite.", "max_depth": 3}, format="json")
    assert response.status_code == 201
    body = response.json()
    document = Document.objects.get(pk=body["id"])
    assert document.owner == writer and document.max_depth == 3
    assert body["current_text"] == "  Première ligne 😀\n\nSuite."  # kept as typed, not trimmed
    assert body["title"] == "Première ligne 😀"
    assert body["loop"] == {"code": "idle", "message": "No suggestions yet.", "depth": 0, "can_suggest": True}
    assert body["last_iteration"] is None


def test_create_refuses_empty_text_and_bad_depth(api):
    empty = api.post("/api/documents/", {"text": "   "}, format="json")
    assert empty.status_code == 400 and empty.json() == {"detail": "The document is empty. Paste or upload some text."}
    deep = api.post("/api/documents/", {"text": "Fine.", "max_depth": 99}, format="json")
    assert deep.status_code == 400 and "max_depth" in deep.json()
    assert not Document.objects.exists()


def test_annotator_can_read_but_not_write(annotator, other_writer):
    project = ProjectFactory()
    project.members.add(annotator)
    document = DocumentFactory(owner=other_writer, project=project)
    review = iteration_in_review(document, FIXED_TEXT)
    proposal = review.proposals.first()
    client = api_client(annotator)
    assert client.get(f"/api/documents/{document.pk}/").status_code == 200
    created = client.post("/api/documents/", {"text": "Hello."}, format="json")
    assert created.status_code == 403
    assert created.json() == {"detail": "Only writers and admins can change documents."}
    assert (
        client.post(f"/api/proposals/{proposal.pk}/decision/", {"verdict": "accept"}, format="json").status_code == 403
    )
    assert client.post(f"/api/iterations/{review.pk}/apply/", {}, format="json").status_code == 403
    assert not Decision.objects.exists()


def test_admin_can_write(admin_user):
    assert api_client(admin_user).post("/api/documents/", {"text": "Hello."}, format="json").status_code == 201


# ---------------------------------------------------------------------------------------------
# The loop


def test_full_loop_through_the_api(api, writer, django_capture_on_commit_callbacks):
    document_id = api.post("/api/documents/", {"text": BEFORE, "title": "Cat"}, format="json").json()["id"]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post(f"/api/documents/{document_id}/suggest/", {"instruction": "fix_grammar"}, format="json")
    assert response.status_code == 201
    queued = response.json()
    assert len(callbacks) == 1  # the generation task, sent on commit
    assert (queued["status"], queued["depth"], queued["number"], queued["source"]) == ("queued", 1, 1, "model")
    assert queued["model_version"] == "default"
    assert queued["job"]["status"] == "queued" and (queued["job"]["done"], queued["job"]["total"]) == (0, 0)
    assert queued["proposals"] == [] and queued["text_before"] == BEFORE
    assert api.get(f"/api/documents/{document_id}/").json()["loop"]["code"] == "running"

    worker_proposes(queued["id"], FIXED_TEXT)

    document = api.get(f"/api/documents/{document_id}/").json()
    assert document["loop"]["code"] == "review" and document["last_iteration"]["id"] == queued["id"]
    iteration = api.get(f"/api/iterations/{queued['id']}/").json()
    assert iteration["status"] == "review" and iteration["model_output"] == FIXED_TEXT
    delete, replace = iteration["proposals"]
    assert (delete["action"], delete["before"], delete["decision"]) == ("D", "the ", None)
    assert (replace["action"], replace["before"], replace["after"]) == ("R", "were", "was")
    assert iteration["counts"] == {"accepted": 0, "rejected": 0, "undecided": 2, "total": 2}

    accepted = api.post(f"/api/proposals/{delete['id']}/decision/", {"verdict": "accept", "based_on": 0}, format="json")
    assert accepted.status_code == 200
    assert (accepted.json()["verdict"], accepted.json()["via"], accepted.json()["decided_by"]) == (
        "accept",
        "api",
        writer.username,
    )
    rejected = api.post(f"/api/proposals/{replace['id']}/decision/", {"verdict": "reject"}, format="json")
    assert rejected.json()["verdict"] == "reject"

    undone = api.post(f"/api/iterations/{queued['id']}/undo/", format="json")
    assert undone.status_code == 200
    assert [(d["proposal"], d["verdict"], d["via"]) for d in undone.json()] == [(replace["id"], "undecided", "undo")]
    history = api.get(f"/api/proposals/{replace['id']}/decisions/").json()
    assert [(d["verdict"], d["is_current"]) for d in history] == [("reject", False), ("undecided", True)]

    proposals = api.get(f"/api/iterations/{queued['id']}/proposals/").json()
    assert [p["decision"]["verdict"] for p in proposals] == ["accept", "undecided"]
    api.post(
        f"/api/proposals/{replace['id']}/decision/",
        {"verdict": "accept", "based_on": proposals[1]["decision"]["id"]},
        format="json",
    )

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        applied = api.post(f"/api/iterations/{queued['id']}/apply/", {"revise_again": True}, format="json")
    assert applied.status_code == 200
    body = applied.json()
    assert body["applied"]["status"] == "applied" and body["applied"]["text_after"] == FIXED_TEXT
    assert body["applied"]["counts"]["accepted"] == 2
    assert (body["next"]["status"], body["next"]["depth"], body["next"]["number"]) == ("queued", 2, 2)
    assert len(callbacks) == 1
    assert Document.objects.get(pk=document_id).current_text == FIXED_TEXT
    assert Iteration.objects.get(pk=body["next"]["id"]).text_before == FIXED_TEXT
    iterations = api.get(f"/api/documents/{document_id}/iterations/").json()
    assert [(i["number"], i["status"]) for i in iterations] == [(1, "applied"), (2, "queued")]


def test_decide_all_then_undo_reverts_the_batch(api, review):
    response = api.post(f"/api/iterations/{review.pk}/decide-all/", {"verdict": "reject"}, format="json")
    assert response.status_code == 200 and response.json() == {"changed": 2}
    again = api.post(f"/api/iterations/{review.pk}/decide-all/", {"verdict": "reject"}, format="json")
    assert again.json() == {"changed": 0}
    undone = api.post(f"/api/iterations/{review.pk}/undo/").json()
    assert sorted(d["verdict"] for d in undone) == ["undecided", "undecided"]
    nothing = api.post(f"/api/iterations/{review.pk}/undo/")
    assert nothing.status_code == 409
    assert nothing.json() == {"detail": "There is no decision of yours to undo in this round."}
    bad = api.post(f"/api/iterations/{review.pk}/decide-all/", {"verdict": "maybe"}, format="json")
    assert bad.status_code == 400 and "verdict" in bad.json()


def test_stale_decision_is_a_409_with_the_current_one(api, review, writer):
    proposal = review.proposals.first()
    first = api.post(f"/api/proposals/{proposal.pk}/decision/", {"verdict": "accept", "based_on": 0}, format="json")
    stale = api.post(f"/api/proposals/{proposal.pk}/decision/", {"verdict": "reject", "based_on": 0}, format="json")
    assert stale.status_code == 409
    body = stale.json()
    assert body["detail"] == f"{writer.username} changed this edit meanwhile; it is now accept."
    assert body["current"]["id"] == first.json()["id"] and body["current"]["verdict"] == "accept"
    assert proposal.decisions.get(is_current=True).verdict == "accept"


def test_closed_round_refuses_decisions_with_409(api, review, writer):
    services.iteration_apply(iteration=review, user=writer)
    proposal = review.proposals.first()
    response = api.post(f"/api/proposals/{proposal.pk}/decision/", {"verdict": "accept"}, format="json")
    assert response.status_code == 409
    assert response.json() == {"detail": "This round is closed; its decisions can no longer change."}
    assert api.post(f"/api/iterations/{review.pk}/apply/", {}, format="json").status_code == 409


def test_suggest_refuses_unknown_instruction_and_open_round(api, document, review, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        unknown = api.post(f"/api/documents/{document.pk}/suggest/", {"instruction": "rhyme"}, format="json")
        assert unknown.status_code == 400 and "instruction" in unknown.json()
        custom = api.post(f"/api/documents/{document.pk}/suggest/", {"instruction": "custom"}, format="json")
        assert custom.status_code == 400 and "needs its text" in custom.json()["detail"]
        busy = api.post(f"/api/documents/{document.pk}/suggest/", {}, format="json")
        assert busy.status_code == 409 and "already open" in busy.json()["detail"]
    assert callbacks == [] and document.iterations.count() == 1


def test_writer_edit_between_rounds(api, document):
    changed = api.post(f"/api/documents/{document.pk}/edit/", {"text": "A new text."}, format="json")
    assert changed.status_code == 201
    assert changed.json()["changed"] is True and changed.json()["iteration"]["source"] == "writer"
    unchanged = api.post(f"/api/documents/{document.pk}/edit/", {"text": "A new text."}, format="json")
    assert unchanged.status_code == 200 and unchanged.json() == {"changed": False, "iteration": None}
    assert Document.objects.get(pk=document.pk).current_text == "A new text."
    iteration_in_review(Document.objects.get(pk=document.pk), "A newer text.")
    blocked = api.post(f"/api/documents/{document.pk}/edit/", {"text": "Other."}, format="json")
    assert blocked.status_code == 409


# ---------------------------------------------------------------------------------------------
# Someone else's objects


def test_other_users_objects_are_404(other_writer, review, django_capture_on_commit_callbacks):
    document = review.document
    proposal = review.proposals.first()
    services.proposal_decide(proposal=proposal, user=document.owner, verdict="accept")
    client = api_client(other_writer)
    gets = [
        f"/api/documents/{document.pk}/",
        f"/api/documents/{document.pk}/iterations/",
        f"/api/documents/{document.pk}/export/",
        f"/api/iterations/{review.pk}/",
        f"/api/iterations/{review.pk}/proposals/",
        f"/api/proposals/{proposal.pk}/decisions/",
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
    posts = [
        (f"/api/documents/{document.pk}/suggest/", {}),
        (f"/api/documents/{document.pk}/edit/", {"text": "x"}),
        (f"/api/iterations/{review.pk}/decide-all/", {"verdict": "reject"}),
        (f"/api/iterations/{review.pk}/undo/", {}),
        (f"/api/iterations/{review.pk}/apply/", {}),
        (f"/api/proposals/{proposal.pk}/decision/", {"verdict": "reject"}),
    ]
    with django_capture_on_commit_callbacks(execute=False):
        for url, data in posts:
            assert client.post(url, data, format="json").status_code == 404, url
    assert client.get("/api/documents/").json()["count"] == 0
    assert b"".join(client.get("/api/documents/export/").streaming_content) == b""
    review.refresh_from_db()
    assert review.status == "review" and proposal.decisions.get(is_current=True).verdict == "accept"


# ---------------------------------------------------------------------------------------------
# Import and export


def test_import_r3_jsonl_through_the_api(api, writer):
    record = {
        "doc_id": "essay",
        "before_revision": BEFORE,
        "edit_actions": [
            {
                "type": "R",
                "before": "were",
                "after": "was",
                "start_char_pos": 31,
                "end_char_pos": 35,
                "major_intent": "fluency",
                "accept_or_reject": "accept",
            }
        ],
    }
    upload = SimpleUploadedFile(
        "essay.jsonl", (json.dumps(record) + "\n").encode(), content_type="application/x-ndjson"
    )
    response = api.post("/api/documents/import/", {"file": upload}, format="multipart")
    assert response.status_code == 201
    body = response.json()
    assert body["decisions"] == 1 and [d["title"] for d in body["documents"]] == ["essay"]
    document = Document.objects.get(pk=body["documents"][0]["id"])
    assert document.owner == writer and document.current_text == "The cat sat on the the mat. It was happy."


def test_import_of_invalid_utf8_is_a_400_naming_the_file(api):
    upload = SimpleUploadedFile("notes.txt", b"ok \xff\xfe", content_type="text/plain")
    response = api.post("/api/documents/import/", {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("notes.txt is not valid UTF-8 text")
    assert not Document.objects.exists()
    missing = api.post("/api/documents/import/", {}, format="multipart")
    assert missing.status_code == 400 and "file" in missing.json()


def test_export_streams_jsonl(api, review, writer):
    services.proposal_decide(proposal=review.proposals.get(index=1), user=writer, verdict="reject")
    response = api.get(f"/api/documents/{review.document_id}/export/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    assert response["Content-Disposition"] == f'attachment; filename="document-{review.document_id}.jsonl"'
    (record,) = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert record["before_revision"] == review.text_before and record["status"] == "review"
    assert [a["accept_or_reject"] for a in record["edit_actions"]] == [None, "reject"]
    everything = b"".join(api.get("/api/documents/export/").streaming_content).decode().splitlines()
    assert [json.loads(line)["doc_id"] for line in everything] == [str(review.document_id)]


# ---------------------------------------------------------------------------------------------
# Schema


def test_schema_lists_every_endpoint(api):
    response = api.get("/api/schema/")
    assert response.status_code == 200
    paths = yaml.safe_load(response.content)["paths"]
    assert {
        "/api/token/",
        "/api/documents/",
        "/api/documents/{id}/",
        "/api/documents/{id}/suggest/",
        "/api/documents/{id}/edit/",
        "/api/documents/{id}/iterations/",
        "/api/documents/{id}/export/",
        "/api/documents/import/",
        "/api/documents/export/",
        "/api/iterations/{id}/",
        "/api/iterations/{id}/proposals/",
        "/api/iterations/{id}/decide-all/",
        "/api/iterations/{id}/undo/",
        "/api/iterations/{id}/apply/",
        "/api/proposals/{id}/decision/",
        "/api/proposals/{id}/decisions/",
    } <= set(paths)
    assert "409" in paths["/api/proposals/{id}/decision/"]["post"]["responses"]


def test_schema_generates_without_warnings(tmp_path):
    # Fails on any drf-spectacular warning and validates the result against the OpenAPI 3 schema.
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yaml"))
    assert "/api/iterations/{id}/apply/" in (tmp_path / "schema.yaml").read_text()


def test_reads_cost_the_same_number_of_queries_however_long_the_lists(api, writer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(url).status_code == 200
        return len(captured)

    short = DocumentFactory(owner=writer, original_text="a b", current_text="a b")
    short_round = iteration_in_review(short, "A b")
    long_text = " ".join(f"w{i}" for i in range(40))
    long = DocumentFactory(owner=writer, original_text=long_text, current_text=long_text)
    long_round = iteration_in_review(long, " ".join(f"W{i}" if i % 2 else f"w{i}" for i in range(40)))
    services.proposals_decide_all(iteration=long_round, user=writer, verdict="accept")
    services.iteration_apply(iteration=long_round, user=writer)
    long.refresh_from_db()
    services.document_text_edit(document=long, user=writer, text=long_text + " more")
    assert long_round.proposals.count() == 20
    for url in ("/api/iterations/{}/", "/api/iterations/{}/proposals/"):
        assert queries(url.format(short_round.pk)) == queries(url.format(long_round.pk)), url
    assert queries(f"/api/documents/{short.pk}/iterations/") == queries(f"/api/documents/{long.pk}/iterations/")
    before = queries("/api/documents/")
    DocumentFactory.create_batch(5, owner=writer)
    assert queries("/api/documents/") == before
