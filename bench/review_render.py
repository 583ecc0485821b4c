"""How long the review page takes to render for a round of 1,000 edits.

Sets up the benchmark database (redline_bench) with two documents in review, one with
--edits edits (1,000) and a baseline one with --baseline-edits (10), and GETs each document
page in this process through Django's test client (the full stack: middleware, selectors,
template with its partials, against the real Postgres). Prints the median of --runs runs
after one warm-up, the SQL queries per page, the page size, and the ratio of the two.

    .venv/bin/python bench/review_render.py [--edits 1000] [--baseline-edits 10] [--runs 7]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bench_writer, django_setup, document_in_review, median


def measure(client, url: str, runs: int) -> dict:
    from django.db import connection

    response = client.get(url)  # warm-up: connections, template loading, caches
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: HTTP {response.status_code}")
    queries = []  # counted by a wrapper: Django clears its own query log at each request start

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        client.get(url)
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        seconds.append(time.perf_counter() - started)
        assert response.status_code == 200
    return {
        "median": median(seconds),
        "min": min(seconds),
        "max": max(seconds),
        "queries": len(queries),
        "bytes": len(response.content),
        "edits_on_page": response.content.count(b'class="edit '),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=1000)
    parser.add_argument("--baseline-edits", type=int, default=10)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)

    database_url = django_setup()
    from django.test import Client
    from django.urls import reverse

    user = bench_writer()
    big, _ = document_in_review(user, args.edits, "Review render benchmark (large)")
    small, _ = document_in_review(user, args.baseline_edits, "Review render benchmark (baseline)")
    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    print(f"database {database_url}; median of {args.runs} runs after a warm-up")

    results = {}
    for label, document, edits in (("baseline", small, args.baseline_edits), ("large", big, args.edits)):
        r = measure(client, reverse("writing:document_detail", args=[document.pk]), args.runs)
        if r["edits_on_page"] != edits:
            raise RuntimeError(f"expected {edits} edits on the page, found {r['edits_on_page']}")
        results[label] = r
        print(
            f"review page, {edits:>5} edits: median {1000 * r['median']:8.1f} ms  "
            f"(min {1000 * r['min']:.1f}, max {1000 * r['max']:.1f})  "
            f"{r['queries']} queries  {r['bytes'] / 1024:,.0f} KiB"
        )
    big_r, small_r = results["large"], results["baseline"]
    per_edit = (big_r["median"] - small_r["median"]) / (args.edits - args.baseline_edits)
    print(
        f"ratio {args.edits} / {args.baseline_edits} edits: x{big_r['median'] / small_r['median']:.1f}; "
        f"{1000 * per_edit:.3f} ms per additional edit"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
