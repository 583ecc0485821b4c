"""Hardening: the secret key, security headers, throttling, sign-in lockout, password rules,
expiring API tokens and a read-only admin for history rows."""

import json
import os
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.password_validation import validate_password
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from rest_framework.authtoken.models import Token

from tests.factories import PASSWORD, DocumentFactory, ModelVersionFactory, iteration_in_review
from webapp.writing.models import Decision

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_DEVELOPMENT_KEY = "redline-insecure-development-key"  # what every deployment used to share


def _environment_without_ours() -> dict:
    """This process's environment less Redline's and Django's variables (the browser tests set
    DJANGO_ALLOW_ASYNC_UNSAFE, which a deployment check rightly refuses)."""
    ours = ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    return {k: v for k, v in os.environ.items() if not k.startswith("REDLINE_") and k not in ours}


def _settings_process(env: dict, code: str = "import webapp.settings as s; print(s.SECRET_KEY)"):
    clean = _environment_without_ours()
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean | env, capture_output=True, text=True, timeout=120
    )


def test_outside_debug_the_app_refuses_to_start_without_a_secret_key(tmp_path):
    missing = _settings_process({"REDLINE_SECRET_KEY_FILE": str(tmp_path / "none")})
    assert missing.returncode != 0 and "No secret key" in missing.stderr
    key_file = tmp_path / "secret_key"
    key_file.write_text("from-the-file-" + secrets.token_urlsafe(20) + "\n")
    from_file = _settings_process({"REDLINE_SECRET_KEY_FILE": str(key_file)})
    assert from_file.returncode == 0 and from_file.stdout.strip() == key_file.read_text().strip()
    debug = _settings_process({"REDLINE_SECRET_KEY_FILE": str(tmp_path / "none"), "REDLINE_DEBUG": "1"})
    assert debug.returncode == 0 and debug.stdout.strip() not in ("", PUBLIC_DEVELOPMENT_KEY)


def test_dev_writes_a_secret_key_once_and_keeps_it(tmp_path):
    key_file = tmp_path / "var" / "secret_key"
    script = (
        f'source <(sed -n "/^secret_key_ensure()/,/^}}/p" dev); say() {{ :; }}; PY={sys.executable}; secret_key_ensure'
    )
    env = {k: v for k, v in os.environ.items() if k != "REDLINE_SECRET_KEY"} | {
        "REDLINE_SECRET_KEY_FILE": str(key_file)
    }
    for _ in range(2):
        subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, check=True, timeout=60)
        if _ == 0:
            first = key_file.read_text()
    assert key_file.read_text() == first and len(first.strip()) >= 50
    assert key_file.stat().st_mode & 0o077 == 0  # readable by its owner only


def test_check_deploy_is_clean_with_the_documented_tls_settings():
    env = {
        "REDLINE_SECRET_KEY": secrets.token_urlsafe(50),
        "REDLINE_TLS": "1",
        "REDLINE_HSTS_PRELOAD": "1",
        "REDLINE_ALLOWED_HOSTS": "redline.example.org",
        "DJANGO_SETTINGS_MODULE": "webapp.settings",
    }
    code = (
        "import sys; from django.core.management import execute_from_command_line; execute_from_command_line(sys.argv)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_environment_without_ours() | env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_message_cookie_signed_with_the_old_public_key_cannot_put_html_on_the_login_page(client, settings):
    settings.SECRET_KEY = PUBLIC_DEVELOPMENT_KEY  # even where a deployment still uses a known key
    from django.contrib.messages.storage.base import Message

    storage = CookieStorage(request=None)
    payload = storage._encode([Message(20, mark_safe('<script id="forged">alert(1)</script>'))])
    client.cookies["messages"] = payload
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert 'id="forged"' not in page.content.decode()


def test_pages_carry_a_content_security_policy_and_htmx_runs_without_eval(writer_client):
    page = writer_client.get(reverse("writing:document_list"))
    policy = page["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-eval" not in policy and "frame-ancestors 'none'" in policy
    assert page["Cache-Control"] == "private, no-store"
    config = page.content.decode().split('name="htmx-config" content=\'', 1)[1].split("'>", 1)[0]
    assert json.loads(config)["allowEval"] is False


def test_common_and_short_passwords_are_refused(writer):
    for weak in ("password", "12345678901", "qwertyuiop", writer.username + "12"):
        with pytest.raises(ValidationError):
            validate_password(weak, user=writer)
    validate_password("violet-harbour-417", user=writer)


# Lockout and throttling --------------------------------------------------------------------------


def _login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


@override_settings(REDLINE_LOGIN_FAILURES_BEFORE_LOCKOUT=10)
def test_ten_wrong_passwords_lock_the_account_even_for_the_right_one(client, writer, api_client_factory):
    for _ in range(10):
        assert _login(client, writer.username, "wrong-password").status_code == 200  # the form again
    locked = _login(client, writer.username, PASSWORD)
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.content.decode()
    assert int(locked["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session
    # The API's token endpoint and the Django admin's login are locked as well.
    token = api_client_factory().post(reverse("api_token"), {"username": writer.username, "password": PASSWORD})
    assert token.status_code == 429
    admin_login = client.post(reverse("admin:login"), {"username": writer.username, "password": PASSWORD})
    assert "_auth_user_id" not in client.session and admin_login.status_code in (200, 429)


def test_a_successful_sign_in_forgets_earlier_failures(client, writer):
    for _ in range(9):
        _login(client, writer.username, "wrong-password")
    assert _login(client, writer.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(9):
        _login(client, writer.username, "wrong-password")
    assert _login(client, writer.username, PASSWORD).status_code == 302


def test_sign_in_attempts_from_one_address_are_throttled(db, client, settings):
    settings.REDLINE_RATE_LIMITS = settings.REDLINE_RATE_LIMITS | {"login": "5/300"}
    answers = [_login(client, f"nobody{i}", "x").status_code for i in range(7)]
    assert answers == [200] * 5 + [429] * 2


def test_requests_that_queue_work_are_throttled_per_user_across_addresses(writer, settings, api_client_factory):
    settings.REDLINE_RATE_LIMITS = settings.REDLINE_RATE_LIMITS | {"queue": "3/60"}
    document = DocumentFactory(owner=writer)
    token = Token.objects.create(user=writer)
    answers = []
    for i in range(5):
        api = api_client_factory(REMOTE_ADDR=f"10.0.0.{i}")  # a new address each time: the user's count holds
        api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        answers.append(api.post(reverse("api_document_suggest", args=[document.pk]), {}, format="json"))
    codes = [a.status_code for a in answers]
    assert codes[3:] == [429, 429] and 429 not in codes[:3], codes
    assert answers[3].json()["detail"].startswith("Too many requests that start work")
    assert int(answers[3]["Retry-After"]) >= 1


def test_an_expired_api_token_is_refused_and_a_new_one_issued(writer, settings, api_client_factory):
    token = Token.objects.create(user=writer)
    Token.objects.filter(pk=token.pk).update(
        created=timezone.now() - timedelta(days=settings.REDLINE_TOKEN_TTL_DAYS + 1)
    )
    api = api_client_factory()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    refused = api.get(reverse("api_documents"))
    assert refused.status_code == 401 and "expired" in refused.json()["detail"]
    fresh = api_client_factory().post(reverse("api_token"), {"username": writer.username, "password": PASSWORD})
    assert fresh.status_code == 200 and fresh.json()["token"] != token.key
    api.credentials(HTTP_AUTHORIZATION=f"Token {fresh.json()['token']}")
    assert api.get(reverse("api_documents")).status_code == 200


# The admin ------------------------------------------------------------------------------------


def test_the_admin_shows_history_rows_without_changing_them(client, admin_user, writer):
    admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    iteration = iteration_in_review(DocumentFactory(owner=writer), "The cat sat.")
    proposal = iteration.proposals.first()
    decision = Decision.objects.create(proposal=proposal, verdict="accept", decided_by=writer)
    url = reverse("admin:writing_decision_change", args=[decision.pk])
    assert client.get(url).status_code == 200
    client.post(url, {"verdict": "reject", "decided_by": writer.pk, "proposal": proposal.pk, "via": "web"})
    decision.refresh_from_db()
    assert decision.verdict == "accept"
    assert client.post(reverse("admin:writing_decision_delete", args=[decision.pk]), {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:writing_decision_add")).status_code == 403


def test_the_admin_cannot_activate_a_version_or_change_a_documents_owner(client, admin_user, writer, other_writer):
    admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    version = ModelVersionFactory(is_active=False)
    client.post(
        reverse("admin:registry_modelversion_change", args=[version.pk]),
        {"name": version.name, "is_active": "on", "description": "", "reads_context": ""},
    )
    version.refresh_from_db()
    assert version.is_active is False
    document = DocumentFactory(owner=writer)
    client.post(
        reverse("admin:writing_document_change", args=[document.pk]),
        {"title": "Renamed", "owner": other_writer.pk, "max_depth": 5, "project": ""},
    )
    document.refresh_from_db()
    assert document.owner == writer and document.title == "Renamed"


def test_the_broker_redelivers_only_after_the_longest_task_and_sends_events():
    from django.conf import settings

    from webapp.celery import app

    assert app.conf.broker_transport_options["visibility_timeout"] > settings.REDLINE_TRAINING_TIME_LIMIT
    assert app.conf.worker_send_task_events is True and app.conf.task_send_sent_event is True


def test_labels_and_their_history_are_read_only_in_the_admin(client, admin_user):
    admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    for model in ("preferencelabel", "labelchange", "resolution", "decision", "iteration", "editproposal", "job"):
        app = "preferences" if model in ("preferencelabel", "labelchange", "resolution") else "writing"
        app = "core" if model == "job" else app
        assert client.get(reverse(f"admin:{app}_{model}_add")).status_code == 403, model
