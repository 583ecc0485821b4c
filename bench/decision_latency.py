"""How fast the web app records a writer's decision under load.

Sets up the benchmark database (redline_bench), a document with a round of N edits in review,
starts gunicorn (gthread) on a free loopback port, logs C clients in through the login form
(session cookie + CSRF) and has them all POST decisions at once the way the review page does
(htmx request, X-CSRFToken header): alternating accept/reject on random edits, each client on
its own share of the edits so that no decision conflicts with another client's. Before that,
in the same run and with the same clients, a baseline: GET of the login page.

Prints p50/p99/max latency, throughput and errors of both phases and their ratio, and then
the latency of decisions made by one client alone (the service time, without queueing).
Loopback only; bounded by --requests per client and --max-seconds per phase.

    .venv/bin/python bench/decision_latency.py [--clients 50] [--requests 40] [--edits 1000]
"""

import argparse
import http.client
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    BENCH_PASSWORD,
    BENCH_USER,
    ROOT,
    bench_writer,
    django_setup,
    document_in_review,
    percentile,
)

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
BASED_ON_INPUT = re.compile(r'name="based_on" value="(\d+)"')


class Client:
    """One browser: a keep-alive connection and its cookies."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None):
        """(status, body, seconds)."""
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionError):
                self.conn.close()  # the server closed a kept-alive connection: reconnect once
                if attempt == 2:
                    raise
                continue
            seconds = time.perf_counter() - started
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response.status, data.decode("utf-8", "replace"), seconds
        raise AssertionError("unreachable")

    def login(self, username: str, password: str) -> None:
        status, body, _ = self.request("GET", "/accounts/login/")
        token = CSRF_INPUT.search(body)
        if status != 200 or token is None:
            raise RuntimeError(f"login page: HTTP {status}")
        form = {"username": username, "password": password, "csrfmiddlewaretoken": token.group(1), "next": ""}
        status, _, _ = self.request("POST", "/accounts/login/", form)
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"login failed: HTTP {status}")


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    seconds: float = 0.0

    def record(self, status: int, seconds: float, ok: bool) -> None:
        self.latencies.append(seconds)
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.errors += not ok

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        ms = [1000 * s for s in self.latencies]
        return (
            f"{self.name:<58} {len(ms):>6} req  {self.errors:>4} errors  "
            f"p50 {percentile(ms, 50):7.1f} ms  p99 {percentile(ms, 99):7.1f} ms  max {max(ms):7.1f} ms  "
            f"{self.throughput:7.1f} req/s"
        )


def run_phase(
    name: str, clients: list[Client], work, requests: int, max_seconds: float, think: float = 0.0, seed: int = 0
) -> Phase:
    """Every client runs work(client, index, k) for k < requests, all at once; returns the phase.
    With `think` > 0 each client pauses before every request for an exponentially distributed
    time of that mean (a person reading the next edit); with 0 the clients are closed-loop."""
    phase = Phase(name)
    pauses = [random.Random(seed * 1000 + i) for i in range(len(clients))]
    lock = threading.Lock()
    start = threading.Barrier(len(clients) + 1)
    deadline = [0.0]

    def loop(index: int, client: Client) -> None:
        start.wait()
        for k in range(requests):
            if think > 0:
                time.sleep(pauses[index].expovariate(1 / think))
            if time.perf_counter() > deadline[0]:
                return
            try:
                status, seconds, ok = work(client, index, k)
            except Exception as exc:  # a broken connection is an error of the run, not a crash
                with lock:
                    phase.record(-1, 0.0, False)
                print(f"  client {index}: {exc!r}", file=sys.stderr)
                continue
            with lock:
                phase.record(status, seconds, ok)

    threads = [threading.Thread(target=loop, args=(i, c), daemon=True) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    began = time.perf_counter()
    deadline[0] = began + max_seconds
    start.wait()
    for t in threads:
        t.join()
    phase.seconds = time.perf_counter() - began
    return phase


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port: int, database_url: str, workers: int, threads: int, log: Path) -> subprocess.Popen:
    env = os.environ | {
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "webapp.settings",
        "REDLINE_LOG_LEVEL": "WARNING",
    }
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "webapp.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--backlog",
        "512",
        "--log-level",
        "warning",
        "--no-control-socket",
    ]
    with open(log, "wb") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError(f"gunicorn did not start:\n{log.read_text()}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=40, help="requests per client and phase")
    parser.add_argument("--edits", type=int, default=1000, help="edits in the round under review")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--max-seconds", type=float, default=30, help="time limit of each phase")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="mean seconds each client pauses before a request in the paced phases (a person deciding)",
    )
    args = parser.parse_args(argv)
    if args.edits < args.clients:
        parser.error("--edits must be at least --clients (each client decides its own edits)")

    began = time.perf_counter()
    database_url = django_setup()
    from webapp.writing.models import Decision

    user = bench_writer()
    _, iteration = document_in_review(user, args.edits, "Decision latency benchmark")
    proposal_ids = list(iteration.proposals.order_by("index").values_list("pk", flat=True))
    print(f"database {database_url}; a round with {len(proposal_ids)} edits in review")

    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="redline-bench-")) / "gunicorn.log"
    server = start_gunicorn(port, database_url, args.workers, args.threads, log)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"gunicorn on 127.0.0.1:{port}: {args.workers} workers x {args.threads} threads (gthread); "
        f"{os.cpu_count()} CPUs, load average {load}"
    )
    try:
        clients = [Client(port) for _ in range(args.clients)]
        login_threads = [threading.Thread(target=c.login, args=(BENCH_USER, BENCH_PASSWORD)) for c in clients]
        for t in login_threads:
            t.start()
        for t in login_threads:
            t.join()
        if not all("sessionid" in c.cookies for c in clients):
            raise RuntimeError("not every client could log in")
        print(
            f"{args.clients} clients logged in ({time.perf_counter() - began:.0f} s so far); "
            f"{args.requests} requests each per phase, at most {args.max_seconds:.0f} s a phase"
        )

        def baseline(client: Client, index: int, k: int):
            status, _, seconds = client.request("GET", "/accounts/login/")
            return status, seconds, status == 200

        rng = [random.Random(args.seed + i) for i in range(args.clients)]
        shares = [proposal_ids[i :: args.clients] for i in range(args.clients)]
        based_on: dict[int, int] = {}  # proposal id -> the current decision id the client last saw

        def decide(client: Client, index: int, k: int):
            pk = rng[index].choice(shares[index])
            form = {"verdict": "accept" if k % 2 == 0 else "reject", "based_on": based_on.get(pk, 0)}
            headers = {"HX-Request": "true", "X-CSRFToken": client.cookies.get("csrftoken", "")}
            status, body, seconds = client.request("POST", f"/documents/edits/{pk}/decide/", form, headers)
            seen = BASED_ON_INPUT.search(body)
            if seen:
                based_on[pk] = int(seen.group(1))
            return status, seconds, status == 200 and seen is not None

        paced = f"{args.clients} clients, {args.think:g} s mean think time"
        phases = [
            run_phase(
                f"baseline: GET login page ({paced})",
                clients,
                baseline,
                args.requests,
                args.max_seconds,
                args.think,
                args.seed,
            ),
            run_phase(
                f"decision: POST (htmx) ({paced})",
                clients,
                decide,
                args.requests,
                args.max_seconds,
                args.think,
                args.seed,
            ),
        ]
        # Capacity: the same clients with no pause at all (closed loop); latency is then mostly queueing.
        saturated = run_phase(
            f"decision, saturated ({args.clients} clients, no pause)", clients, decide, args.requests, args.max_seconds
        )
        # The time one decision takes when nobody else is waiting (no queueing).
        alone = run_phase("decision, one client alone", clients[:1], decide, args.requests, args.max_seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)

    print()
    for phase in [*phases, saturated, alone]:
        print(phase.line())
        if phase.errors:
            print(f"  statuses: {dict(sorted(phase.statuses.items()))}")
    base, dec = phases
    b_ms = [1000 * s for s in base.latencies]
    d_ms = [1000 * s for s in dec.latencies]
    print(
        f"{'ratio decision / baseline (paced)':<58} p50 x{percentile(d_ms, 50) / percentile(b_ms, 50):.2f}  "
        f"p99 x{percentile(d_ms, 99) / percentile(b_ms, 99):.2f}  throughput x{dec.throughput / base.throughput:.2f}"
    )
    rows = Decision.objects.filter(proposal__iteration=iteration).count()
    print(
        f"decision rows written: {rows} (a repeated verdict on an edit writes none); "
        f"{time.perf_counter() - began:.0f} s in all"
    )
    return 1 if any(p.errors for p in [*phases, saturated, alone]) else 0


if __name__ == "__main__":
    sys.exit(main())
