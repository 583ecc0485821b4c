"""Export a project's preference pairs to disk: a Parquet file that
`datasets.load_dataset("parquet", data_files=...)` loads, or JSON lines (TRL's columns)."""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from webapp.preferences.errors import PreferenceError
from webapp.preferences.transfer import ExportFilters, labels_export_jsonl, labels_export_parquet


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise CommandError(f"{value!r} is not a date and time (use ISO 8601, e.g. 2026-01-31T12:00:00Z).")
    return parsed


class Command(BaseCommand):
    help = "Export preference pairs (prompt, chosen, rejected + metadata) as Parquet or JSON lines."

    def add_arguments(self, parser):
        parser.add_argument("--project", type=int, required=True, help="project id")
        parser.add_argument("--out", required=True, help="file to write (.parquet or .jsonl)")
        parser.add_argument("--since", help="labels given or changed from then on (ISO 8601)")
        parser.add_argument("--until", help="... and before then (ISO 8601)")
        parser.add_argument(
            "--min-agreement", type=float, default=0.0, help="least share of labels agreeing with the majority"
        )
        parser.add_argument("--exclude-gold", action="store_true")

    def handle(self, *args, project, out, since, until, min_agreement, exclude_gold, **options):
        if not 0 <= min_agreement <= 1:
            raise CommandError("--min-agreement is a share between 0 and 1.")
        filters = ExportFilters(
            project_id=project,
            since=_when(since),
            until=_when(until),
            min_agreement=min_agreement,
            exclude_gold=exclude_gold,
        )
        if out.endswith(".parquet"):
            try:
                rows = labels_export_parquet(filters, out)
            except PreferenceError as exc:
                raise CommandError(str(exc)) from exc
        elif out.endswith(".jsonl"):
            rows = 0
            with open(out, "w", encoding="utf-8") as f:
                for line in labels_export_jsonl(filters):
                    f.write(line)
                    rows += 1
        else:
            raise CommandError("--out must end in .parquet or .jsonl.")
        self.stdout.write(f"{rows} pairs written to {out}")
