"""Hostile values sent to every screen: each URL of the URLconf but the admin's and the API's
(test_fuzz_api.py has those), found by walking it, gets GET queries and POSTed forms whose
fields (every field of every form of the project, and the query parameters views read) hold
lone surrogates, deep brackets, numbers beyond bigint, non-numeric ids, negative and huge
offsets, NUL and long strings, as an admin, an annotator and anonymously. No answer may be a
5xx: a bad value is a form error, a 400 or a 404.

As the admin, who reaches every screen, each screen first gets each hostile value in every field
(explicit examples); then, for every user, hypothesis mixes hostile and plausible values, ids of
real rows, htmx or not, UTF-8 or UTF-7 (a charset that decodes to lone surrogates).
Deterministic (derandomize=True, no example database); about 50 s on 2 CPUs."""

import importlib
import re
from urllib.parse import quote

import pytest
from django import forms
from django.apps import apps
from django.contrib.auth.forms import AuthenticationForm
from django.urls import URLResolver, get_resolver
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from tests.core.fuzz_world import World, in_savepoint_rolled_back, world_make

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"  # beyond bigint
HOSTILE = [
    "\ud800",  # as its UTF-8 bytes, which are not UTF-8 (in UTF-7: a real lone surrogate)
    "[" * 1000 + "]" * 1000,
    HUGE,
    "9" * 5000,  # beyond int()'s digits
    "abc",
    "-1",
    "\x00",
    "",
    "x" * 10_000,  # longer than any field but a document's text
]
PLAUSIBLE = ["1", "0", "accept", "reject", "sft", "dpo", "lora", "writing", "coding", "fix_grammar", "a_better", "tie"]
PLAUSIBLE += ["A, B", "on", "held_out", "train", "live", "versions", "all", "editor", "2026-01-01 00:00"]
# What views read from the query or the form without a form class.
READ_BY_VIEWS = ["a", "b", "offset", "split", "round", "fragment", "show", "kind", "reason", "min_common", "x", "y"]
SCREEN_EXAMPLES = 4  # generated, after the explicit ones
INT_PARAM = re.compile(r"<int:(\w+)>")


def field_names() -> list[str]:
    """Every field of every form in the project's forms modules, Django's login form's, and READ_BY_VIEWS."""
    names = set(READ_BY_VIEWS) | set(AuthenticationForm.base_fields)
    for config in apps.get_app_configs():
        if not config.name.startswith("webapp."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.forms")
        except ModuleNotFoundError:
            continue
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, forms.BaseForm):
                names |= set(value.base_fields)
    return sorted(names)


def screens(patterns=None, prefix: str = ""):
    """(route, name) of every screen URL: the URLconf without admin/ and api/."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route not in ("admin/", "api/"):
                yield from screens(pattern.url_patterns, route)
        else:
            yield route, pattern.name


NAMES = field_names()
SCREENS = list(screens())


def encode(fields: dict[str, list[str]], charset: str) -> bytes:
    """application/x-www-form-urlencoded in `charset`; a lone surrogate goes as the bytes UTF-8
    would give it (surrogatepass), as a client that does not check sends it."""
    errors = "surrogatepass" if charset == "utf-8" else "strict"
    return "&".join(
        f"{quote(name)}={quote(value.encode(charset, errors))}" for name, values in fields.items() for value in values
    ).encode()


def multipart(fields: dict[str, list[str]], charset: str) -> tuple[bytes, str]:
    boundary = "fuzzboundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value.encode(charset)
        + b"\r\n"
        for name, values in fields.items()
        for value in values
    ]
    return b"".join(
        parts
    ) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}; charset={charset}"


def send(client, method: str, path: str, fields: dict, htmx: bool, charset: str):
    headers = {"HX-Request": "true"} if htmx else {}
    if method == "GET":
        extra = {"CONTENT_TYPE": f"text/plain; charset={charset}"} if charset != "utf-8" else {}
        return client.get(f"{path}?{encode(fields, charset).decode()}", headers=headers, **extra)
    if charset == "utf-8":
        return client.generic(
            "POST", path, encode(fields, charset), "application/x-www-form-urlencoded", headers=headers
        )
    body, content_type = multipart(fields, charset)
    return client.generic("POST", path, body, content_type, headers=headers)


def fuzz_screen(client, user, world: World, route: str, *, every_value: bool) -> None:
    """SCREEN_EXAMPLES requests to the screen at `route`; before them, with `every_value`, a GET
    and a POST with each hostile value in every field."""
    params = INT_PARAM.findall(route)
    ids = [world.ids_before(route[: route.index(f"<int:{name}>")]) for name in params]

    def path_of(chosen) -> str:
        path = "/" + route
        for name, pk in zip(params, chosen):
            path = path.replace(f"<int:{name}>", str(pk))
        return path

    @settings(
        max_examples=SCREEN_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        method=st.sampled_from(["GET", "POST"]),
        fields=st.dictionaries(
            st.sampled_from(NAMES), st.lists(st.sampled_from(HOSTILE + PLAUSIBLE), min_size=1, max_size=2), max_size=8
        ),
        chosen=st.tuples(*(st.sampled_from([*options, int(HUGE)]) for options in ids)),
        htmx=st.booleans(),
        charset=st.sampled_from(["utf-8", "utf-8", "utf-7"]),
    )
    def one(method, fields, chosen, htmx, charset):
        def request():
            client.cookies.clear()  # a session of its own, inside the savepoint (and the logout screen is fuzzed)
            if user is not None:
                client.force_login(user)
            return send(client, method, path_of(chosen), fields, htmx, charset)

        response = in_savepoint_rolled_back(request)
        assert response.status_code < 500, f"{method} {path_of(chosen)}: {response.status_code}"

    first_ids = tuple(options[0] for options in ids)
    for value in HOSTILE if every_value else []:
        for method in ("GET", "POST"):
            one = example(
                method=method, fields=dict.fromkeys(NAMES, [value]), chosen=first_ids, htmx=False, charset="utf-8"
            )(one)
    one()


@pytest.mark.parametrize("role", ["admin", "annotator", None], ids=["admin", "annotator", "anonymous"])
def test_no_screen_answers_a_server_error(client, role):
    world = world_make()
    user = world.users[role] if role else None
    failures = []
    for route, name in SCREENS:
        try:
            fuzz_screen(client, user, world, route, every_value=role == "admin")
        except Exception as exc:  # noqa: BLE001  every screen is tried; all failures are reported
            failures.append(f"/{route} ({name}): {type(exc).__name__}: {exc}"[:3000])
    assert not failures, f"{len(failures)} screens failed:\n\n" + "\n\n".join(failures)


def test_the_screens_and_fields_are_found():
    routes = {route for route, _ in SCREENS}
    assert {"training/versions/compare/", "training/versions/<int:pk>/evaluate/", "accounts/login/"} <= routes
    assert not any(route.startswith(("admin/", "api/")) for route in routes)
    assert {"snapshot", "a", "b", "verdict", "based_on", "offset", "username", "held_out_percent"} <= set(NAMES)
