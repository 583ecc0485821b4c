"""manage.py import_documents --user NAME FILE...: .txt/.md/.jsonl/.json, as the upload does."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from webapp.accounts.models import Project
from webapp.writing.errors import WritingError
from webapp.writing.transfer import documents_import


class Command(BaseCommand):
    help = "Import documents and R3/IteraTeR records for a user. All files in one transaction: any error saves nothing."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="username of the owner")
        parser.add_argument("--project", help="name of a project of the user's to put the documents in")
        parser.add_argument("files", nargs="+", type=Path)

    def handle(self, *args, user: str, project: str | None, files: list[Path], **options):
        try:
            owner = get_user_model().objects.get_by_natural_key(user)
        except get_user_model().DoesNotExist:
            raise CommandError(f"There is no user {user!r}.") from None
        project_row = None
        if project is not None:
            project_row = Project.objects.filter(name=project).first()
            if project_row is None:
                raise CommandError(f"There is no project {project!r}.")
        reports = []
        try:
            with transaction.atomic():
                for path in files:
                    try:
                        data = path.read_bytes()
                    except OSError as exc:
                        raise CommandError(f"Cannot read {path}: {exc.strerror}. Nothing was imported.") from None
                    result = documents_import(owner=owner, filename=path.name, data=data, project=project_row)
                    reports.append(f"{path}: {len(result.documents)} documents, {result.decisions} decisions")
        except WritingError as exc:
            raise CommandError(str(exc)) from None
        for line in reports:
            self.stdout.write(line)
