"""How fast, and in how much memory, the preference export writes a large project.

Sets up the benchmark database (redline_bench) and a project ("bench preference export <rows>")
of N labelled pairwise comparisons (1,000,000 by default): two outputs and one label each, every
label preferring one side so that every comparison is exported. They are inserted inside Postgres
by INSERT ... SELECT over generate_series and reused by later runs (--reseed makes them afresh).

Then three phases, each in a fresh child process set up the same way (Django and pyarrow
imported, connected), so that each one's memory is its own:

- baseline: a plain SELECT of the same rows (prompt, both outputs, the label) iterated through a
  psycopg server-side cursor, doing nothing with them: what reading the rows costs;
- jsonl: webapp.preferences.transfer.labels_export_jsonl written to a file (what the API streams and
  `manage.py export_preferences --out x.jsonl` writes);
- parquet: webapp.preferences.transfer.labels_export_parquet (`manage.py export_preferences --out x.parquet`).

Prints, for each, rows per second and the ratio to the baseline, and the peak memory: the growth
of the child's maximum resident set (ru_maxrss) during the phase and, with --tracemalloc, the
peak of Python's allocations (which slows the phase down, so the rate is then not comparable).

    .venv/bin/python bench/preference_export.py [--rows 1000000] [--reseed] [--tracemalloc]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BENCH_DATABASE_URL, ROOT

PROJECT = "bench preference export {rows}"
ANNOTATOR = "bench-export-annotator"
PHASES = ("baseline", "jsonl", "parquet")
# Read by the baseline: what the export reads for a pair with one label.
BASELINE_SQL = """
SELECT c.id, c.prompt, c.origin, c.is_gold, c.resolved_choice, c.resolved_ranking,
       a.text, a.source, a.model_version_id, b.text, b.source, b.model_version_id,
       l.choice, l.ranking, l.updated_at
FROM preferences_comparison c
JOIN preferences_comparisonoutput a ON a.comparison_id = c.id AND a.index = 0
JOIN preferences_comparisonoutput b ON b.comparison_id = c.id AND b.index = 1
JOIN preferences_preferencelabel l ON l.comparison_id = c.id
WHERE c.project_id = %s
ORDER BY c.id
"""


def export_project(rows: int, reseed: bool):
    """The project of `rows` labelled comparisons, seeded unless it is there already."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from webapp.accounts.models import Project
    from webapp.accounts.roles import ANNOTATOR as ROLE
    from webapp.accounts.services import user_create
    from webapp.preferences.models import Comparison, PreferenceLabel

    user = get_user_model().objects.filter(username=ANNOTATOR).first() or user_create(
        username=ANNOTATOR, password="bench-password-1", role=ROLE
    )
    project, _ = Project.objects.get_or_create(name=PROJECT.format(rows=rows))
    have = Comparison.objects.filter(project=project).count()
    labelled = PreferenceLabel.objects.filter(comparison__project=project).count()
    if not reseed and have == rows and labelled == rows:
        return project, False
    began = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for table in ("labelchange", "preferencelabel", "skip", "reservation", "resolution", "comparisonoutput"):
            cursor.execute(
                f"DELETE FROM preferences_{table} WHERE comparison_id IN "
                "(SELECT id FROM preferences_comparison WHERE project_id = %s)",
                [project.pk],
            )
        cursor.execute("DELETE FROM preferences_comparison WHERE project_id = %s", [project.pk])
        cursor.execute(
            """
            INSERT INTO preferences_comparison (project_id, prompt, origin, is_gold, gold_choice, source_key, meta,
                                                resolved_choice, created_at)
            SELECT %s, 'Fix grammatical errors in this sentence: Sentence ' || i
                       || ' of the report have a error in it, and the figures was checked twice by the team.',
                   'import', false, '', '', '{}', '', now()
            FROM generate_series(1, %s) AS i
            """,
            [project.pk, rows],
        )
        cursor.execute(
            """
            INSERT INTO preferences_comparisonoutput (comparison_id, index, text, source)
            SELECT c.id, o.index,
                   CASE o.index WHEN 0 THEN 'Sentence ' || c.id || """
            """' of the report has an error in it, and the figures were checked twice by the team.'
                                ELSE 'Sentence ' || c.id || """
            """' of the report has a error in it, and the figures were checked twice by team.' END,
                   CASE o.index WHEN 0 THEN 'model v2' ELSE 'model v1' END
            FROM preferences_comparison c CROSS JOIN (VALUES (0), (1)) AS o(index)
            WHERE c.project_id = %s
            """,
            [project.pk],
        )
        cursor.execute(
            """
            INSERT INTO preferences_preferencelabel (comparison_id, annotator_id, choice, rationale, seconds_spent,
                                                     created_at, updated_at)
            SELECT c.id, %s, (ARRAY['a_much_better', 'a_better', 'b_better', 'b_much_better'])[1 + c.id %% 4], '',
                   4.5, now(), now()
            FROM preferences_comparison c WHERE c.project_id = %s
            """,
            [user.pk, project.pk],
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM ANALYZE preferences_comparison, preferences_comparisonoutput, preferences_preferencelabel"
        )
    print(f"seeded {rows:,} labelled comparisons in {time.perf_counter() - began:.0f} s")
    return project, True


# ---------------------------------------------------------------------------------------------
# A phase, in a child process


def child(phase: str, project_id: int, out_dir: str, trace: bool) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    import django

    django.setup()
    import psycopg
    import pyarrow
    import pyarrow.parquet  # noqa: F401
    from django.db import connection

    from webapp.preferences.transfer import ExportFilters, labels_export_jsonl, labels_export_parquet

    connection.ensure_connection()
    filters = ExportFilters(project_id=project_id)
    if trace:
        import tracemalloc

        tracemalloc.start()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    began = time.perf_counter()
    size = 0
    if phase == "baseline":
        rows = 0
        with psycopg.connect(os.environ["DATABASE_URL"]) as conn, conn.cursor(name="bench_export") as cursor:
            cursor.itersize = 2000
            cursor.execute(BASELINE_SQL, [project_id])
            for _ in cursor:
                rows += 1
    elif phase == "jsonl":
        path = Path(out_dir) / "pairs.jsonl"
        rows = 0
        with open(path, "w", encoding="utf-8") as f:
            for line in labels_export_jsonl(filters):
                f.write(line)
                rows += 1
        size = path.stat().st_size
    else:
        path = Path(out_dir) / "pairs.parquet"
        rows = labels_export_parquet(filters, path)
        size = path.stat().st_size
    seconds = time.perf_counter() - began
    result = {
        "phase": phase,
        "rows": rows,
        "seconds": seconds,
        "bytes": size,
        "rss_before_kib": rss_before,
        "rss_peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    if trace:
        result["tracemalloc_peak"] = tracemalloc.get_traced_memory()[1]
    return result


def run_child(phase: str, project_id: int, out_dir: str, trace: bool, database_url: str) -> dict:
    command = [sys.executable, __file__, "--child", phase, "--project", str(project_id), "--out-dir", out_dir]
    if trace:
        command.append("--tracemalloc")
    env = os.environ | {
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "webapp.settings",
        "REDLINE_LOG_LEVEL": "WARNING",
    }
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{phase} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="labelled comparisons (exported pairs)")
    parser.add_argument("--reseed", action="store_true", help="make the comparisons afresh even if they are there")
    parser.add_argument("--tracemalloc", action="store_true", help="also the peak of Python's allocations (slower)")
    parser.add_argument("--child", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--project", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.project, args.out_dir, args.tracemalloc)))
        return 0

    from bench.common import django_setup

    began = time.perf_counter()
    database_url = django_setup(os.environ.get("REDLINE_BENCH_DATABASE_URL", BENCH_DATABASE_URL))
    project, seeded = export_project(args.rows, args.reseed)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"database {database_url}; project {project.pk}: {args.rows:,} labelled comparisons "
        f"({'seeded now' if seeded else 'reused'}); {os.cpu_count()} CPUs, load average {load}"
    )
    results = []
    with tempfile.TemporaryDirectory(prefix="redline-bench-export-") as out_dir:
        for phase in PHASES:
            result = run_child(phase, project.pk, out_dir, args.tracemalloc, database_url)
            results.append(result)
            print(f"  {phase}: {result['rows']:,} rows in {result['seconds']:.1f} s", flush=True)
    print()
    base_rate = results[0]["rows"] / results[0]["seconds"]
    errors = 0
    for r in results:
        rate = r["rows"] / r["seconds"]
        growth = (r["rss_peak_kib"] - r["rss_before_kib"]) / 1024
        extra = f"  tracemalloc peak {r['tracemalloc_peak'] / 2**20:7.1f} MiB" if "tracemalloc_peak" in r else ""
        size = f"  file {r['bytes'] / 2**20:7.1f} MiB" if r["bytes"] else ""
        print(
            f"{r['phase']:<9} {r['rows']:>10,} rows  {r['seconds']:7.1f} s  {rate:>9,.0f} rows/s  "
            f"x{base_rate / rate:5.1f} the baseline's time  "
            f"maxrss +{growth:6.1f} MiB (peak {r['rss_peak_kib'] / 1024:.0f} MiB)"
            f"{size}{extra}"
        )
        if r["rows"] != args.rows:
            print(f"  expected {args.rows:,} rows", file=sys.stderr)
            errors += 1
    print(f"{time.perf_counter() - began:.0f} s in all")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
