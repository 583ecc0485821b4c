"""Bad input gets a clear 4xx, never a 500: one test per finding of the security sweep (deeply
nested JSON, lone surrogates, limits beyond bigint, non-numeric ids in forms, huge offsets, a
partial PUT of the queue settings). The property-based sweep over every endpoint is test_fuzz_api.py."""

import json

import pytest
from django.urls import reverse

from tests.factories import ModelVersionFactory, ProjectFactory, UserFactory
from tests.writing.test_api import api_client
from webapp.core.json_input import MAX_DEPTH, JSONInputError, loads
from webapp.preferences.models import QueueSettings
from webapp.training.snapshots import snapshot_create
from webapp.writing import services as writing

pytestmark = pytest.mark.django_db

DEEP = "[" * 100_000 + "]" * 100_000  # json.loads alone raises RecursionError on this
HUGE = "99999999999999999999"  # beyond bigint (2**63 - 1)


def post_json(client, path: str, body: str, **extra):
    """`body` exactly as written: the test client's own encoder cannot write a lone surrogate."""
    return client.post(path, body, content_type="application/json", **extra)


def detail_text(response) -> str:
    body = response.json()
    return json.dumps(body)


# ---------------------------------------------------------------------------------------------
# The JSON reader itself


def test_json_nested_deeper_than_the_limit_is_refused_with_its_position():
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(JSONInputError) as too_deep:
        loads('{"a": ' + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "}")
    assert "nested deeper than" in too_deep.value.msg and too_deep.value.pos == 5 + MAX_DEPTH
    with pytest.raises(JSONInputError):
        loads(DEEP)


@pytest.mark.parametrize(
    "text",
    ['"\\ud800"', '{"\\udc00": 1}', '["ok", {"k": "x\\uDBFFy"}]', '"\ud800"'],
    ids=["high", "low-in-a-key", "nested", "raw"],
)
def test_json_with_a_lone_surrogate_is_refused(text):
    with pytest.raises(JSONInputError) as refused:
        loads(text)
    assert "surrogate" in refused.value.msg
    refused.value.msg.encode("utf-8")  # the message itself never carries the surrogate


def test_json_surrogate_pairs_nan_and_infinity():
    assert loads('"\\ud83d\\ude00"') == "\U0001f600"
    for text in ("NaN", "[Infinity]", '{"x": -Infinity}', "1e999"):
        with pytest.raises(ValueError):
            loads(text)


# ---------------------------------------------------------------------------------------------
# Deep nesting and surrogates over the API


def test_deeply_nested_json_is_a_400_even_on_the_anonymous_token_endpoint(client, writer):
    response = post_json(client, "/api/token/", DEEP)
    assert response.status_code == 400 and "nested deeper" in response.json()["detail"]
    response = post_json(api_client(writer), "/api/documents/", '{"text": ' + DEEP + "}")
    assert response.status_code == 400 and "nested deeper" in response.json()["detail"]


def test_a_lone_surrogate_in_the_token_endpoint_is_a_400(client):
    response = post_json(client, "/api/token/", '{"username": "\\ud800", "password": "x"}')
    assert response.status_code == 400 and "surrogate" in response.json()["detail"]


def test_a_lone_surrogate_in_a_choice_field_is_a_400_that_can_be_encoded(review, writer):
    api = api_client(writer)
    response = post_json(api, f"/api/iterations/{review.pk}/decide-all/", '{"verdict": "\\ud800"}')
    assert response.status_code == 400 and "surrogate" in detail_text(response)
    # the same arriving raw, through a charset that decodes to surrogates
    response = api.post(
        f"/api/iterations/{review.pk}/decide-all/",
        '{"verdict": "+2AA-"}'.encode(),
        content_type="application/json; charset=utf-7",
    )
    assert response.status_code == 400 and "surrogate" in detail_text(response)


def test_a_lone_surrogate_in_a_form_post_or_query_string_is_a_400(client, writer, review):
    """Browsers send UTF-8, which Django decodes with replacement characters; a query string or
    multipart form that declares UTF-7 (or another charset that decodes to surrogates) and holds
    one is refused whole. (Django itself refuses url-encoded forms in any charset but UTF-8.)"""
    client.force_login(writer)
    decide = reverse("writing:proposal_decide", args=[review.proposals.order_by("index").first().pk])
    boundary = "BoUnDaRy"
    multipart = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="verdict"\r\n\r\n+2AA-\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="based_on"\r\n\r\n0\r\n--{boundary}--\r\n'
    ).encode()
    # generic(): post() would re-encode the body into the charset named
    response = client.generic("POST", decide, multipart, f"multipart/form-data; boundary={boundary}; charset=utf-7")
    assert response.status_code == 400 and "surrogate" in response.text
    response = client.get(
        reverse("writing:document_list") + "?q=%2B2AA-", headers={"Content-Type": "text/plain; charset=utf-7"}
    )
    assert response.status_code == 400 and "surrogate" in response.text
    utf7_form = client.post(decide, b"verdict=x", content_type="application/x-www-form-urlencoded; charset=utf-7")
    assert utf7_form.status_code == 400
    # Plain UTF-7 text without surrogates is let through.
    assert (
        client.get(reverse("writing:document_list") + "?q=abc", CONTENT_TYPE="text/plain; charset=utf-7").status_code
        == 200
    )
    # The bytes of a surrogate in UTF-8 are not UTF-8: Django reads them as replacement characters.
    response = client.post(decide, b"verdict=%ED%A0%80&based_on=0", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 302  # back to the page, which says "Choose accept or reject"


def test_every_api_view_reads_json_through_the_checked_parser():
    """A view that names its own parsers (DRF's token view does) must not bring back DRF's plain JSONParser."""
    from django.urls import get_resolver
    from rest_framework.parsers import JSONParser
    from rest_framework.views import APIView

    from webapp.core.parsers import CheckedJSONParser

    api = next(p for p in get_resolver().url_patterns if str(p.pattern) == "api/")
    checked = 0
    for pattern in api.url_patterns:
        view = getattr(pattern.callback, "cls", None)
        if view is None or not issubclass(view, APIView):
            continue
        parsers = pattern.callback.initkwargs.get("parser_classes", view.parser_classes)
        json_parsers = [p for p in parsers if issubclass(p, JSONParser)]
        assert all(issubclass(p, CheckedJSONParser) for p in json_parsers), pattern.pattern
        checked += bool(json_parsers)
    assert checked > 40


# ---------------------------------------------------------------------------------------------
# Pagination


@pytest.mark.parametrize(
    "query",
    [f"limit={HUGE}", f"offset={HUGE}", "limit=-1", "limit=0", "offset=-5", "limit=abc", "offset=1.5", "limit=100001"],
)
def test_limit_and_offset_out_of_range_are_a_400_naming_the_parameter(writer, query):
    response = api_client(writer).get(f"/api/documents/?{query}")
    assert response.status_code == 400
    name = query.split("=")[0]
    assert name in response.json()


def test_a_limit_up_to_the_maximum_and_any_offset_below_it_work(writer):
    api = api_client(writer)
    assert api.get("/api/documents/?limit=1000&offset=0").status_code == 200
    assert api.get("/api/documents/?limit=1&offset=1000000").json()["results"] == []


# ---------------------------------------------------------------------------------------------
# HTML forms: compare, evaluate, snapshot offsets


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("a", ["abc", HUGE, "1.5", "-1"])
def test_compare_with_ids_that_are_not_versions_is_a_400(admin_client, a):
    version = ModelVersionFactory()
    response = admin_client.get(reverse("training:version_compare"), {"a": a, "b": version.pk})
    assert response.status_code == 400
    assert "Choose two versions" in response.text


def test_compare_with_two_versions_still_works(admin_client):
    a, b = ModelVersionFactory(name="first"), ModelVersionFactory(name="second")
    response = admin_client.get(reverse("training:version_compare"), {"a": a.pk, "b": b.pk})
    assert response.status_code == 200


@pytest.mark.parametrize("snapshot", ["abc", HUGE, "1e3", ""])
def test_evaluate_on_a_snapshot_that_is_not_one_says_so(admin_client, snapshot):
    version = ModelVersionFactory()
    response = admin_client.post(reverse("training:version_evaluate", args=[version.pk]), {"snapshot": snapshot})
    assert response.status_code == 302
    page = admin_client.get(response["Location"])
    assert "Choose a snapshot that has held-out rows" in page.text


def test_a_snapshot_page_with_a_huge_offset_shows_no_rows(admin_client, admin_user, review, writer):
    for proposal, verdict in zip(review.proposals.order_by("index"), ("accept", "reject")):
        writing.proposal_decide(proposal=proposal, user=writer, verdict=verdict)
    snapshot = snapshot_create(user=admin_user, sources=["writing"], held_out_percent=0)
    url = reverse("training:snapshot_detail", args=[snapshot.pk])
    for offset in (HUGE, "9" * 5000, "-3", "x"):
        assert admin_client.get(url, {"offset": offset}).status_code == 200
    assert admin_client.get(url, {"offset": HUGE}).context["rows"] == []


@pytest.mark.parametrize("ranking", ["9" * 5000, "²", "1, 2, 99999999999999999999"])
def test_a_ranking_that_is_no_output_numbers_is_a_form_error(ranking):
    from webapp.preferences.forms import LabelForm, ResolveForm

    for form in (LabelForm({"ranking": ranking}), ResolveForm({"ranking": ranking})):
        assert not form.is_valid() and "is not an output" in form.errors["ranking"][0]


# ---------------------------------------------------------------------------------------------
# Queue settings


def test_a_partial_put_of_the_queue_settings_is_a_400_naming_the_missing_fields():
    project = ProjectFactory()
    admin = UserFactory(role="admin")
    project.members.add(admin)
    url = f"/api/preferences/projects/{project.pk}/settings/"
    response = api_client(admin).put(url, {"gold_rate": 0.5}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"labels_per_comparison", "reservation_seconds"}
    assert not QueueSettings.objects.filter(project=project).exists()
    full = {"labels_per_comparison": 2, "gold_rate": 0.5, "reservation_seconds": 60}
    assert api_client(admin).put(url, full, format="json").json() == full


# ---------------------------------------------------------------------------------------------
# Imports read JSON from files: the same limits


def test_an_import_with_deep_nesting_or_a_surrogate_names_the_line(writer):
    api = api_client(writer)
    for line in ('{"text": ' + DEEP + "}", '{"text": "\\ud800"}'):
        upload = _upload("docs.jsonl", ('{"text": "fine"}\n' + line + "\n").encode())
        response = api.post("/api/documents/import/", {"file": upload}, format="multipart")
        assert response.status_code == 400 and "line 2" in response.json()["detail"]


def test_a_comparison_import_with_deep_nesting_or_a_surrogate_names_the_line():
    project = ProjectFactory()
    admin = UserFactory(role="admin")
    project.members.add(admin)
    for line in ('{"prompt": "p", "responses": ["a", "b"], "meta": ' + DEEP + "}", '{"prompt": "\\udfff"}'):
        upload = _upload("c.jsonl", ('{"prompt": "p", "responses": ["a", "b"]}\n' + line + "\n").encode())
        response = api_client(admin).post(
            "/api/preferences/comparisons/import/", {"file": upload, "project": project.pk}, format="multipart"
        )
        assert response.status_code == 400 and "line 2" in response.json()["detail"]


def _upload(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/octet-stream")
