"""Throttling and sign-in lockout, counted in the cache (Redis) so that every web process shares
the counts.

- Rates (settings.REDLINE_RATE_LIMITS, "count/seconds") apply per user and per client address
  to the requests named in THROTTLED: sign-in and token requests ("login"), and every request that
  queues generation, training or execution ("queue"). Over the rate, the answer is 429 with
  Retry-After, in JSON under /api/ and as a short page (or htmx fragment) elsewhere.
- Lockout: after REDLINE_LOGIN_FAILURES_BEFORE_LOCKOUT failed sign-ins for one username, its
  sign-in is refused, the right password included, until REDLINE_LOGIN_LOCKOUT_SECONDS have passed
  since the last failure (login_locked_for, login_failure_record; the login view and the token
  endpoint check it).

Fixed windows: a count starts with the window's first request and expires with it.
"""

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

# URL names (namespace:name) and the methods of them that are throttled, by scope.
THROTTLED: dict[str, tuple[str, frozenset[str]]] = {
    name: (scope, frozenset(methods))
    for scope, methods, names in (
        ("login", {"POST"}, ("login", "admin:login", "api_token")),
        (
            "queue",
            {"POST", "PUT", "PATCH"},
            (
                # writing: model rounds
                "writing:document_create",
                "writing:suggest",
                "writing:apply",
                "writing:retry",
                "api_documents",
                "api_document_suggest",
                "api_iteration_apply",
                # training: runs and evaluations
                "training:run_create",
                "training:version_evaluate",
                "training:version_compare",
                "api_training_runs",
                # coding: generation and execution
                "coding:problem_create",
                "coding:round_start",
                "coding:round_rerun",
                "coding:test_add",
                "coding:test_edit",
                "api_coding_problems",
                "api_coding_problem_iterations",
                "api_coding_problem_tests",
                "api_coding_iteration_run_again",
                "api_coding_test_edit",
                # preferences: generated comparisons
                "api_preferences_generate",
            ),
        ),
    )
    for name in names
}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> "Rate":
        count, _, seconds = text.partition("/")
        return cls(int(count), int(seconds or 60))


def client_address(request) -> str:
    """The client's address: the connection's, or behind a proxy (REDLINE_BEHIND_PROXY) the last
    address the proxy appended to X-Forwarded-For (earlier ones are the client's own claim)."""
    if settings.REDLINE_BEHIND_PROXY:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if forwarded:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _window_hit(key: str, rate: Rate) -> int:
    """Count one request in the current window of `key`; the seconds to wait (0: allowed)."""
    window = int(time.time() // rate.seconds)
    full_key = f"throttle:{key}:{window}"
    if cache.add(full_key, 1, timeout=rate.seconds + 1):
        count = 1
    else:
        try:
            count = cache.incr(full_key)
        except ValueError:  # expired between add and incr
            cache.add(full_key, 1, timeout=rate.seconds + 1)
            count = 1
    if count <= rate.count:
        return 0
    return max(1, int((window + 1) * rate.seconds - time.time()) + 1)


def _user_id(request) -> int | None:
    """The signed-in user's id: by session, or for the API by its token (which DRF checks only
    later, inside the view)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user.pk
    kind, _, key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if kind.lower() == "token" and 0 < len(key) <= 40:
        from rest_framework.authtoken.models import Token

        return Token.objects.filter(key=key).values_list("user_id", flat=True).first()
    return None


def throttle_wait(request, scope: str) -> int:
    """Count the request against `scope` per address and, when signed in, per user: the seconds
    to wait if either is over its rate (0: go ahead)."""
    rate = Rate.parse(settings.REDLINE_RATE_LIMITS[scope])
    waits = [_window_hit(f"{scope}:addr:{client_address(request)}", rate)]
    user_id = _user_id(request)
    if user_id is not None:
        waits.append(_window_hit(f"{scope}:user:{user_id}", rate))
    return max(waits)


def too_many_requests(request, wait: int, message: str) -> HttpResponse:
    """429 with Retry-After: JSON under /api/, else a page (a fragment for htmx)."""
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message, "retry_after": wait}, status=429)
    else:
        template = "includes/too_many.html" if request.headers.get("HX-Request") else "too_many.html"
        response = HttpResponse(render_to_string(template, {"message": message}, request=request), status=429)
    response["Retry-After"] = str(wait)
    return response


def _minutes(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class ThrottleMiddleware:
    """Applies THROTTLED to the resolved view."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        throttled = THROTTLED.get(match.view_name) if match else None
        if throttled is None or request.method not in throttled[1]:
            return None
        scope = throttled[0]
        wait = throttle_wait(request, scope)
        if not wait:
            return None
        what = "sign-in attempts" if scope == "login" else "requests that start work"
        return too_many_requests(request, wait, f"Too many {what}; try again in {_minutes(wait)}.")


# Lockout ------------------------------------------------------------------------------------------


def _failures_key(username: str) -> str:
    # Hashed: a username may hold anything (NUL, 10,000 characters) that a cache key must not.
    digest = hashlib.sha256(username.strip().lower().encode("utf-8", "surrogatepass")).hexdigest()
    return f"login-failures:{digest}"


def login_locked_for(username: str) -> int:
    """Seconds until `username` may try to sign in again (0: not locked)."""
    if not username:
        return 0
    state = cache.get(_failures_key(username))
    if not state or state["count"] < settings.REDLINE_LOGIN_FAILURES_BEFORE_LOCKOUT:
        return 0
    return max(0, int(state["last"] + settings.REDLINE_LOGIN_LOCKOUT_SECONDS - time.time()))


def login_failure_record(username: str) -> None:
    """One more failed sign-in for `username`; the count lasts the lockout period after the last."""
    if not username:
        return
    key = _failures_key(username)
    state = cache.get(key) or {"count": 0}
    cache.set(key, {"count": state["count"] + 1, "last": time.time()}, timeout=settings.REDLINE_LOGIN_LOCKOUT_SECONDS)


def login_failures_clear(username: str) -> None:
    cache.delete(_failures_key(username))


def lockout_message(wait: int) -> str:
    return f"Too many failed sign-ins for this account; try again in {_minutes(wait)}."
