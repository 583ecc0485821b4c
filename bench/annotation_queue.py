"""How fast the labelling queue hands out the next comparison with many annotators at once.

Sets up the benchmark database (redline_bench), a project ("bench annotation queue") with a queue
of N pairwise comparisons (100,000 by default, inserted by one INSERT ... SELECT over
generate_series, reused between runs; the earlier run's labels, skips and reservations are
deleted), k labels per comparison (3 by default), and C annotators who are members of it. Starts
gunicorn (gthread) on a free loopback port, logs the C clients in through the login form (session
cookie + CSRF) and has them label at once, closed-loop, the way the labelling screen does: each
client opens /label/<project>/ once, then POSTs a random pairwise choice for the comparison it was
given (htmx request, X-CSRFToken header) and gets the next comparison's fragment back, which it
labels next. That POST records the label (services.label_record) and pulls the next item
(services.comparison_reserve_next: SELECT ... FOR UPDATE SKIP LOCKED and a reservation). Before that, in the
same run and with the same clients, a baseline: GET of the login page. Last, one client alone.

Prints p50/p99/max latency, throughput and errors of each phase and the ratio to the baseline,
then checks the queue's invariant: no comparison has more than k labels (and none was given to
the same annotator twice). Exits 1 on any status other than 200 or a broken invariant.

    .venv/bin/python bench/annotation_queue.py [--clients 50] [--requests 40] [--comparisons 100000] [--k 3]
"""

import argparse
import os
import random
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import django_setup, percentile
from bench.decision_latency import Client, free_port, run_phase, start_gunicorn

PROJECT = "bench annotation queue"
ANNOTATOR = "bench-annotator-{:02d}"
ANNOTATOR_PASSWORD = "bench-password-1"
COMPARISON_IN_FRAGMENT = re.compile(r'id="queue"[^>]*data-comparison="(\d*)"')
CHOICES = ("a_much_better", "a_better", "tie", "b_better", "b_much_better", "both_bad")


def queue_project(n: int, k: int, clients: int):
    """The benchmark's project with n pairwise comparisons and no labels yet, k labels per
    comparison, and `clients` annotators who are members. Returns (project, annotators)."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from webapp.accounts.models import Project
    from webapp.accounts.roles import ANNOTATOR as ROLE
    from webapp.accounts.services import user_create
    from webapp.preferences.models import Comparison, QueueSettings

    project, _ = Project.objects.get_or_create(name=PROJECT)
    with transaction.atomic(), connection.cursor() as cursor:
        for table in ("labelchange", "preferencelabel", "skip", "reservation", "resolution"):
            cursor.execute(
                f"DELETE FROM preferences_{table} WHERE comparison_id IN "
                "(SELECT id FROM preferences_comparison WHERE project_id = %s)",
                [project.pk],
            )
        have = Comparison.objects.filter(project=project).count()
        gold = Comparison.objects.filter(project=project, is_gold=True).exists()
        if have != n or gold:
            cursor.execute(
                "DELETE FROM preferences_comparisonoutput WHERE comparison_id IN "
                "(SELECT id FROM preferences_comparison WHERE project_id = %s)",
                [project.pk],
            )
            cursor.execute("DELETE FROM preferences_comparison WHERE project_id = %s", [project.pk])
            # One statement for the comparisons and one for their outputs, all inside Postgres.
            cursor.execute(
                """
                INSERT INTO preferences_comparison (project_id, prompt, origin, is_gold, gold_choice, source_key, meta,
                                                    resolved_choice, created_at)
                SELECT %s, 'Fix the grammar: sentence ' || i || ' has a error in it.', 'import', false, """
                """'', '', '{}', '', now()
                FROM generate_series(1, %s) AS i
                """,
                [project.pk, n],
            )
            cursor.execute(
                """
                INSERT INTO preferences_comparisonoutput (comparison_id, index, text, source)
                SELECT c.id, o.index, CASE o.index WHEN 0 THEN 'Sentence ' || c.id || ' has an error in it.'
                                                   ELSE 'Sentence ' || c.id || ' has the error in it.' END, ''
                FROM preferences_comparison c CROSS JOIN (VALUES (0), (1)) AS o(index)
                WHERE c.project_id = %s
                """,
                [project.pk],
            )
    with connection.cursor() as cursor:  # statistics and the visibility map, as a table that has been around has them
        cursor.execute(
            "VACUUM ANALYZE preferences_comparison, preferences_comparisonoutput, preferences_preferencelabel, "
            "preferences_reservation, preferences_skip, preferences_labelchange"
        )
    QueueSettings.objects.update_or_create(
        project=project, defaults={"labels_per_comparison": k, "gold_rate": 0.0, "reservation_seconds": 600}
    )
    users = []
    model = get_user_model()
    for i in range(clients):
        name = ANNOTATOR.format(i)
        user = model.objects.filter(username=name).first() or user_create(
            username=name, password=ANNOTATOR_PASSWORD, role=ROLE
        )
        users.append(user)
    project.members.add(*users)
    return project, users


def invariant_report(project, k: int) -> tuple[str, bool]:
    """(a line of text, holds): labels per comparison against k, duplicates per annotator."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*), coalesce(max(n), 0), count(*) FILTER (WHERE n > %s), coalesce(sum(n), 0)
            FROM (SELECT l.comparison_id, count(*) AS n FROM preferences_preferencelabel l
                  JOIN preferences_comparison c ON c.id = l.comparison_id
                  WHERE c.project_id = %s GROUP BY l.comparison_id) per
            """,
            [k, project.pk],
        )
        labelled, most, over, labels = cursor.fetchone()
        cursor.execute(
            """
            SELECT count(*) FROM (SELECT 1 FROM preferences_preferencelabel l
                                  JOIN preferences_comparison c ON c.id = l.comparison_id
                                  WHERE c.project_id = %s GROUP BY l.comparison_id, l.annotator_id """
            """HAVING count(*) > 1) d
            """,
            [project.pk],
        )
        (twice,) = cursor.fetchone()
    holds = over == 0 and twice == 0 and most <= k
    line = (
        f"labels: {labels:,} on {labelled:,} comparisons; most labels on one comparison {most} (k = {k}); "
        f"comparisons over k: {over}; labelled twice by one annotator: {twice} -> "
        f"{'invariant holds' if holds else 'INVARIANT BROKEN'}"
    )
    return line, holds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=40, help="labels per client and phase")
    parser.add_argument("--comparisons", type=int, default=100_000, help="pairwise comparisons in the queue")
    parser.add_argument("--k", type=int, default=3, help="labels per comparison (the queue's k)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--max-seconds", type=float, default=30, help="time limit of each phase")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    began = time.perf_counter()
    database_url = django_setup()
    seeded = time.perf_counter()
    project, users = queue_project(args.comparisons, args.k, args.clients)
    print(
        f"database {database_url}; project {project.pk} with a queue of {args.comparisons:,} comparisons, "
        f"k = {args.k}, {args.clients} annotators ({time.perf_counter() - seeded:.1f} s to set up)"
    )

    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="redline-bench-")) / "gunicorn.log"
    server = start_gunicorn(port, database_url, args.workers, args.threads, log)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"gunicorn on 127.0.0.1:{port}: {args.workers} workers x {args.threads} threads (gthread); "
        f"{os.cpu_count()} CPUs, load average {load}"
    )
    label_url = f"/label/{project.pk}/"
    current: dict[int, str] = {}  # client index -> the comparison id it holds now
    try:
        clients = [Client(port) for _ in users]
        login_threads = [
            threading.Thread(target=c.login, args=(u.username, ANNOTATOR_PASSWORD)) for c, u in zip(clients, users)
        ]
        for t in login_threads:
            t.start()
        for t in login_threads:
            t.join()
        if not all("sessionid" in c.cookies for c in clients):
            raise RuntimeError("not every client could log in")

        def open_page(index: int, client: Client) -> None:
            status, body, _ = client.request("GET", label_url)
            found = COMPARISON_IN_FRAGMENT.search(body)
            if status != 200 or not found or not found.group(1):
                raise RuntimeError(f"labelling page: HTTP {status}, no comparison")
            current[index] = found.group(1)

        page_threads = [threading.Thread(target=open_page, args=(i, c)) for i, c in enumerate(clients)]
        for t in page_threads:
            t.start()
        for t in page_threads:
            t.join()
        if len(current) != len(clients):
            raise RuntimeError("not every client got a comparison")
        print(
            f"{args.clients} clients logged in and hold a comparison ({time.perf_counter() - began:.0f} s so far); "
            f"{args.requests} requests each per phase, at most {args.max_seconds:.0f} s a phase"
        )

        def baseline(client: Client, index: int, k: int):
            status, _, seconds = client.request("GET", "/accounts/login/")
            return status, seconds, status == 200

        rng = [random.Random(args.seed + i) for i in range(args.clients)]

        def label(client: Client, index: int, k: int):
            comparison = current.get(index)
            if not comparison:
                return 200, 0.0, True  # the queue is empty for this client: nothing to label
            form = {
                "choice": rng[index].choice(CHOICES),
                "rationale": "",
                "seconds": f"{rng[index].uniform(2, 20):.3f}",
            }
            headers = {"HX-Request": "true", "X-CSRFToken": client.cookies.get("csrftoken", "")}
            status, body, seconds = client.request("POST", f"{label_url}comparisons/{comparison}/", form, headers)
            found = COMPARISON_IN_FRAGMENT.search(body)
            if found:
                current[index] = found.group(1)
            return status, seconds, status == 200 and found is not None and 'id="queue-error"' not in body

        phases = [
            run_phase(
                f"baseline: GET login page ({args.clients} clients)", clients, baseline, args.requests, args.max_seconds
            ),
            run_phase(
                f"label + next item: POST (htmx) ({args.clients} clients)",
                clients,
                label,
                args.requests,
                args.max_seconds,
            ),
            run_phase("label + next item, one client alone", clients[:1], label, args.requests, args.max_seconds),
        ]
    finally:
        server.terminate()
        server.wait(timeout=30)

    print()
    for phase in phases:
        print(phase.line())
        if phase.errors:
            print(f"  statuses: {dict(sorted(phase.statuses.items()))}")
    base, loaded, _ = phases
    b_ms = [1000 * s for s in base.latencies]
    l_ms = [1000 * s for s in loaded.latencies]
    print(
        f"{'ratio label + next / baseline':<58} p50 x{percentile(l_ms, 50) / percentile(b_ms, 50):.2f}  "
        f"p99 x{percentile(l_ms, 99) / percentile(b_ms, 99):.2f}  throughput x{loaded.throughput / base.throughput:.2f}"
    )
    line, holds = invariant_report(project, args.k)
    print(line)
    print(f"{time.perf_counter() - began:.0f} s in all")
    return 1 if any(p.errors for p in phases) or not holds else 0


if __name__ == "__main__":
    sys.exit(main())
