"""manage.py export_documents --user NAME [--out FILE]: every document the user can see, as
R3 records in JSON Lines (the format import_documents reads)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from webapp.writing.selectors import documents_for_user
from webapp.writing.transfer import documents_export_jsonl


class Command(BaseCommand):
    help = "Export a user's documents, iterations, edits and decisions as JSON Lines (stdout by default)."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="username whose documents to export")
        parser.add_argument("--out", help="file to write (UTF-8); stdout if left out")

    def handle(self, *args, user: str, out: str | None, **options):
        try:
            person = get_user_model().objects.get_by_natural_key(user)
        except get_user_model().DoesNotExist:
            raise CommandError(f"There is no user {user!r}.") from None
        lines = documents_export_jsonl(documents_for_user(person))
        if out is None:
            for line in lines:
                self.stdout.write(line, ending="")
            return
        count = 0
        with open(out, "w", encoding="utf-8", newline="\n") as f:
            for line in lines:
                f.write(line)
                count += 1
        self.stderr.write(f"Wrote {count} records to {out}")
