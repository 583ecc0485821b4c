"""Property-based fuzzing of the whole JSON API: schemathesis reads the OpenAPI schema the app
serves at /api/schema/, generates requests for every operation, valid ones and ones that break
the schema (wrong types, missing fields, out-of-range numbers, odd strings), and sends them in
process to the WSGI application, as an admin, as an annotator and anonymously; then valid
requests spoiled with what the security sweep sent (HOSTILE). No answer may be a 5xx; anything
else (400, 401, 403, 404, 409...) is the API saying no.

Deterministic (derandomize=True, no example database) and small (EXAMPLES per operation and
mode): about 70 s on 2 CPUs for the three users. Every request runs in a savepoint that is
rolled back, so each one meets the same world (tests/core/fuzz_world.py), and a generated id is
sometimes replaced by one of that world's rows so that requests get past the 404s."""

import functools
import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode

from tests.core.fuzz_world import World, in_savepoint_rolled_back, world_make
from webapp.wsgi import application

pytestmark = pytest.mark.django_db

EXAMPLES = 3  # per operation, user and mode, and one per pair of HOSTILE: 61 x (3 + 3 + 9) = 915 requests per user
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)


def nested(depth: int):
    value = []
    for _ in range(depth):
        value = [value]
    return value


# What the security sweep sent, one pair per request of the hostile pass, in turn: a query parameter
# of the operation, and a field of its JSON body (or the whole body), become these.
HOSTILE = [
    ("99999999999999999999", 99999999999999999999),
    ("-99999999999999999999", "\ud800"),
    ("9" * 5000, nested(40)),
    ("\x00", "a\udfffb"),
    ("1e999", -99999999999999999999),
    ("-1", {"a": nested(40)}),
    ("NaN", "\x00"),
    ("", "x" * 100_000),
    ("0", b"[" * 100_000 + b"]" * 100_000),  # bytes: the whole body, as sent (no encoder nests this deep)
]


@functools.cache
def api_schema():
    """The schema /api/schema/ serves (drf-spectacular's generator and renderer), for schemathesis."""
    spec = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    return schemathesis.openapi.from_dict(spec)


def operations():
    return [result.ok() for result in api_schema().get_all_operations()]


@pytest.fixture
def in_process(settings):
    """Requests sent to the WSGI application inside the test's transaction: Django's handler would
    close the connection around each one (the test client does the same), and an exception comes
    out with its traceback instead of a bare 500 page."""
    settings.DEBUG_PROPAGATE_EXCEPTIONS = True
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def fuzz(operation, mode: GenerationMode, headers: dict, world: World, spoiled: int | None = None) -> None:
    """EXAMPLES requests for `operation` generated in `mode`; or, with `spoiled`, one request
    spoiled by that pair of HOSTILE."""
    path = operation.path
    ids = world.ids_before(path[: path.index("{id}")]) if "{id}" in path else [0]
    strategy = operation.as_strategy(generation_mode=mode)

    @settings(FUZZ, max_examples=EXAMPLES if spoiled is None else 1)
    @given(case=strategy, row=st.none() | st.sampled_from(ids))
    def one(case, row):
        if row is not None and "id" in (case.path_parameters or {}):
            case.path_parameters["id"] = row
        if spoiled is not None:
            case = spoil(operation, case, spoiled)
        response = in_savepoint_rolled_back(lambda: case.call(app=application, headers=headers))
        assert response.status_code < 500, f"{response.status_code}: {response.text[:300]}"

    one()


def spoil(operation, case, n: int):
    """The case with the n-th pair of HOSTILE in it: in the n-th query parameter the operation takes,
    and, sent as JSON where the operation takes JSON, in the n-th field of the body (or as the
    whole body). A case of its own: schemathesis checks an edited one against the schema, and
    its validator cannot read lone surrogates."""
    in_query, in_body = HOSTILE[n]
    query, body = dict(case.query or {}), case.body
    names = [parameter.name for parameter in operation.query]
    if names:
        query[names[n % len(names)]] = in_query
    media_type = case.media_type
    if "application/json" in operation.get_request_payload_content_types():
        media_type = "application/json"
        if isinstance(body, dict) and body and not isinstance(in_body, bytes):
            body = {**body, sorted(body)[n % len(body)]: in_body}
        else:
            body = in_body
    return operation.Case(
        path_parameters=case.path_parameters,
        headers=case.headers,
        query=query,
        body=body,
        media_type=media_type,
    )


# valid requests, requests that break the schema, and valid requests spoiled by each pair of HOSTILE
PASSES = [("positive", GenerationMode.POSITIVE, None), ("negative", GenerationMode.NEGATIVE, None)] + [
    ("hostile", GenerationMode.POSITIVE, n) for n in range(len(HOSTILE))
]


@pytest.mark.parametrize("role", ["admin", "annotator", None], ids=["admin", "annotator", "anonymous"])
def test_no_operation_answers_a_server_error(role, in_process):
    world = world_make()
    headers = {}
    if role is not None:
        headers["Authorization"] = f"Token {Token.objects.create(user=world.users[role]).key}"
    failures = []
    for operation in operations():
        for what, mode, spoiled in PASSES:
            try:
                fuzz(operation, mode, headers, world, spoiled)
            except Unsatisfiable:  # nothing in the operation to break (no parameters, no body)
                pass
            except Exception as exc:  # noqa: BLE001  every operation is tried; all failures are reported
                failures.append(f"{operation.label} ({what}): {type(exc).__name__}: {exc}"[:3000])
    assert not failures, f"{len(failures)} failed:\n\n" + "\n\n".join(failures)


def test_the_schema_names_every_api_url():
    """Every operation is fuzzed only if the schema knows it: it has every path under /api/."""
    from django.urls import get_resolver

    api = next(p for p in get_resolver().url_patterns if str(p.pattern) == "api/")
    paths = {str(p.pattern).replace("<int:pk>", "{id}") for p in api.url_patterns}
    documented = {path.removeprefix("/api/") for path in api_schema().raw_schema["paths"]}
    assert paths - documented == {"schema/"}
