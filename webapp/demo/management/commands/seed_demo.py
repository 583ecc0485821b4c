"""`manage.py seed_demo`: the demo people, project, document, problem and a few comparisons to
label (so the annotator has a queue) for a local install. Idempotent.

Passwords are generated on the first run, kept in var/demo-logins.json (readable by its owner
only) and printed every time; a demo user whose password no longer matches gets it back, so
the printed logins always work. `--logins` prints the logins and changes nothing.
"""

import json
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from webapp.accounts.models import Project
from webapp.accounts.roles import ADMIN, ANNOTATOR, DEVELOPER, WRITER
from webapp.accounts.services import user_create
from webapp.coding.models import Problem
from webapp.coding.services import problem_create
from webapp.preferences.models import Comparison
from webapp.preferences.services import ComparisonSpec, OutputSpec, comparisons_store
from webapp.registry.models import ModelVersion
from webapp.registry.services import model_version_configured
from webapp.writing.models import Document
from webapp.writing.services import document_create

DEMO_USERS = ((WRITER, WRITER), (DEVELOPER, DEVELOPER), (ANNOTATOR, ANNOTATOR), (ADMIN, ADMIN))  # (username, role)
PROJECT_NAME = "Demo project"
# Technical prose with errors of the kinds the built-in editor was trained on (README).
DOCUMENT_TITLE = "Demo: release notes with a few errors"
DOCUMENT_TEXT = """Release notes

This release adds a new option for reading configuration files. The option are enabled by default.

The parser now returns the the list of sections in the order they appear in the file. Each section is stored as a dictionary

When a value cannot be converted, an exception is raised. The error message include the name of the section and the key.
"""

# One of the problems the tiny code model (the default REDLINE_CODE_MODEL) was trained on.
PROBLEM_TITLE = "Demo: palindromes"
PROBLEM_FUNCTION = "is_palindrome"

# Comparisons for the annotator's queue: (prompt, outputs). Kept by source_key "demo:<n>".
DEMO_COMPARISONS = (
    (
        "Fix the grammar: The option are enabled by default.",
        ("The option is enabled by default.", "The options are enabled by default."),
    ),
    (
        "Fix the grammar: The parser now returns the the list of sections.",
        ("The parser now returns the list of sections.", "The parser now return the list of sections."),
    ),
    (
        "Simplify: When a value cannot be converted, an exception is raised by the parser.",
        (
            "The parser raises an exception when it cannot convert a value.",
            "When a value can't be converted, the parser raises.",
        ),
    ),
    (
        "Make it more formal: The error message include the name of the section and the key.",
        (
            "The error message includes the names of the section and the key.",
            "The error message includes the section name and key.",
        ),
    ),
    (
        "Fix the grammar: Each section is stored as a dictionary",
        (
            "Each section is stored as a dictionary.",
            "Each sections is stored as a dictionary.",
            "Each section are stored as dictionaries.",
        ),
    ),
)


def logins_path() -> Path:
    return Path(settings.BASE_DIR) / "var" / "demo-logins.json"


def _passwords() -> dict[str, str]:
    path = logins_path()
    stored = json.loads(path.read_text()) if path.exists() else {}
    passwords = {name: stored.get(name) or secrets.token_urlsafe(9) for name, _ in DEMO_USERS}
    if passwords != stored:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        path.write_text(json.dumps(passwords, indent=2) + "\n")
    return passwords


def _user_ensure(username: str, role: str, password: str):
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        return user_create(username=username, password=password, role=role), "created"
    changed = []
    if not user.check_password(password):
        user.set_password(password)
        user.save(update_fields=["password"])
        changed.append("password reset to the demo one")
    if not user.groups.filter(name=role).exists():
        user.groups.add(Group.objects.get(name=role))
        changed.append(f"role {role} given")
    return user, ", ".join(changed) or "exists"


class Command(BaseCommand):
    help = "Create the demo users (writer, developer, annotator, admin), a demo project, document and problem."

    def add_arguments(self, parser):
        parser.add_argument("--logins", action="store_true", help="only print the demo logins")

    def handle(self, *args, logins: bool = False, **options):
        passwords = _passwords()
        if not logins:
            self._seed(passwords)
        self.stdout.write("Demo logins (also in var/demo-logins.json):")
        for username, role in DEMO_USERS:
            self.stdout.write(f"  {role:<10} user {username:<10} password {passwords[username]}")

    @transaction.atomic
    def _seed(self, passwords: dict[str, str]) -> None:
        users = {}
        for username, role in DEMO_USERS:
            users[role], state = _user_ensure(username, role, passwords[username])
            self.stdout.write(f"user {username}: {state}")
        project, created = Project.objects.get_or_create(name=PROJECT_NAME)
        project.members.add(users[WRITER], users[DEVELOPER], users[ANNOTATOR], users[ADMIN])
        self.stdout.write(f"project {PROJECT_NAME!r}: {'created' if created else 'exists'}")
        document = Document.objects.filter(owner=users[WRITER], title=DOCUMENT_TITLE).first()
        if document is None:
            document = document_create(owner=users[WRITER], text=DOCUMENT_TEXT, title=DOCUMENT_TITLE, project=project)
            self.stdout.write(f"document {DOCUMENT_TITLE!r}: created (#{document.pk})")
        else:
            self.stdout.write(f"document {DOCUMENT_TITLE!r}: exists (#{document.pk})")
        if not Problem.objects.filter(owner=users[DEVELOPER], title=PROBLEM_TITLE).exists():
            from inference.tiny_code import problem as tiny_problem

            spec = tiny_problem(PROBLEM_FUNCTION).spec
            problem = problem_create(
                owner=users[DEVELOPER],
                title=PROBLEM_TITLE,
                statement=spec.statement,
                entry_point=spec.entry_point,
                signature=spec.signature,
                project=project,
            )
            self.stdout.write(f"problem {PROBLEM_TITLE!r}: created (#{problem.pk})")
        specs = [
            ComparisonSpec(prompt, [OutputSpec(text, "demo") for text in outputs], source_key=f"demo:{n}")
            for n, (prompt, outputs) in enumerate(DEMO_COMPARISONS, 1)
        ]
        added = comparisons_store(project=project, user=users[ADMIN], origin=Comparison.Origin.IMPORT, specs=specs)
        self.stdout.write(
            f"demo comparisons: {len(added)} created" if added else f"demo comparisons: all {len(specs)} exist"
        )
        for kind in ModelVersion.PROPOSING:
            version, state = model_version_configured(kind)
            self.stdout.write(f"{kind} model version {version.name!r} ({version.base_model}): {state}")
