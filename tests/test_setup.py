"""The set-up around the app: `manage.py seed_demo` and the `dev` script."""

import json
import subprocess
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from webapp.accounts.models import Project
from webapp.coding.models import Problem
from webapp.demo.management.commands import seed_demo
from webapp.preferences.models import Comparison
from webapp.preferences.services import comparison_reserve_next
from webapp.registry.models import ModelVersion
from webapp.registry.services import model_version_activate, model_version_promote
from webapp.writing.models import Document

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def logins_file(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "var" / "demo-logins.json"
    monkeypatch.setattr(seed_demo, "logins_path", lambda: path)
    return path


def seed(capsys, *args) -> str:
    call_command("seed_demo", *args)
    return capsys.readouterr().out


@pytest.mark.django_db
def test_seed_demo_makes_the_demo_once_and_prints_working_logins(logins_file, capsys, settings):
    first = seed(capsys)
    second = seed(capsys)

    passwords = json.loads(logins_file.read_text())
    assert set(passwords) == {"writer", "developer", "annotator", "admin"}
    assert logins_file.stat().st_mode & 0o077 == 0
    users = get_user_model().objects.filter(username__in=passwords)
    assert users.count() == 4
    for user in users:
        assert user.check_password(passwords[user.username])
        assert list(user.groups.values_list("name", flat=True)) == [user.username]
        assert f"user {user.username:<10} password {passwords[user.username]}" in second
    assert get_user_model().objects.get(username="admin").is_staff

    project = Project.objects.get(name=seed_demo.PROJECT_NAME)
    assert set(project.members.values_list("username", flat=True)) == {"writer", "developer", "annotator", "admin"}
    document = Document.objects.get()
    assert (document.owner.username, document.project, document.title) == ("writer", project, seed_demo.DOCUMENT_TITLE)
    assert "The option are enabled" in document.current_text
    assert "created" in first and "created" not in second

    problem = Problem.objects.get()
    assert (problem.owner.username, problem.project, problem.entry_point) == ("developer", project, "is_palindrome")

    # The annotator has a queue: the demo comparisons, made once, one of them a ranking of three.
    comparisons = Comparison.objects.filter(project=project)
    assert comparisons.count() == len(seed_demo.DEMO_COMPARISONS) == 5
    assert sorted(c.outputs.count() for c in comparisons) == [2, 2, 2, 2, 3]
    annotator = get_user_model().objects.get(username="annotator")
    reservation = comparison_reserve_next(user=annotator, project=project)
    assert reservation is not None and reservation.comparison.project == project
    assert "demo comparisons: 5 created" in first and "demo comparisons: all 5 exist" in second

    editor, coder = (
        ModelVersion.objects.get(is_active=True, kind="editor"),
        ModelVersion.objects.get(is_active=True, kind="coder"),
    )
    assert (editor.base_model, coder.base_model) == (settings.REDLINE_DEFAULT_MODEL, settings.REDLINE_CODE_MODEL)
    assert ModelVersion.objects.count() == 2


@pytest.mark.django_db
def test_seed_demo_gives_back_a_changed_demo_password(logins_file, capsys):
    seed(capsys)
    writer = get_user_model().objects.get(username="writer")
    writer.set_password("something-else")
    writer.save()
    out = seed(capsys)
    writer.refresh_from_db()
    assert writer.check_password(json.loads(logins_file.read_text())["writer"])
    assert "password reset" in out


@pytest.mark.django_db
def test_logins_only_changes_nothing(logins_file, capsys):
    out = seed(capsys, "--logins")
    assert "user writer" in out
    assert not get_user_model().objects.exists()
    assert not Document.objects.exists()


@pytest.mark.django_db
def test_a_newly_configured_model_becomes_active_but_a_promoted_one_stays(logins_file, capsys, settings):
    seed(capsys)
    default = ModelVersion.objects.get(name="default")

    settings.REDLINE_DEFAULT_MODEL = "grammarly/coedit-large"
    seed(capsys)
    active = ModelVersion.objects.get(is_active=True, kind="editor")
    assert (active.name, active.base_model) == ("configured: grammarly/coedit-large", "grammarly/coedit-large")
    default.refresh_from_db()
    assert default.base_model != "grammarly/coedit-large"  # versions are never changed in place

    promoted = model_version_activate(version=ModelVersion.objects.create(name="trained-1", base_model="/models/t1"))
    settings.REDLINE_DEFAULT_MODEL = "/models/other"
    out = seed(capsys)
    assert ModelVersion.objects.get(is_active=True, kind="editor") == promoted
    assert "kept (promoted)" in out

    # A configured version that an admin promoted back is kept as well.
    coedit = ModelVersion.objects.get(name="configured: grammarly/coedit-large")
    model_version_promote(version=coedit)
    settings.REDLINE_DEFAULT_MODEL = "/models/yet-another"
    assert "kept (promoted)" in seed(capsys)
    assert ModelVersion.objects.get(is_active=True, kind="editor") == coedit


def test_dev_script_is_valid_bash_and_ci_runs_its_test_command():
    assert subprocess.run(["bash", "-n", str(ROOT / "dev")]).returncode == 0
    usage = subprocess.run([str(ROOT / "dev"), "help"], capture_output=True, text=True)
    assert usage.returncode == 0 and "./dev test" in usage.stdout
    assert subprocess.run([str(ROOT / "dev"), "no-such-command"], capture_output=True).returncode == 2
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("exec ./dev test")
