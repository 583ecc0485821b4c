"""Postgres and Redis restarting under a running app, with real processes: a Postgres cluster and
a Redis server of this test's own (so that restarting them disturbs nothing else), the app under
gunicorn on them, and a signed-in writer deciding edits over HTTP meanwhile.

What must hold: no answer is a server error (503 while Postgres is away, and the app goes on
without Redis), nothing decided is lost, and the app recovers by itself once each is back."""

import http.cookiejar
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql") / sorted(os.listdir("/usr/lib/postgresql"))[-1] / "bin"
SEED = """
from tests.factories import DocumentFactory, UserFactory, iteration_in_review
writer = UserFactory(role="writer", username="faulty")
document = DocumentFactory(owner=writer, original_text="The cat sat on the the mat. It were happy.",
                           current_text="The cat sat on the the mat. It were happy.")
iteration = iteration_in_review(document, "The cat sat on the mat. It was happy.")
print("IDS", document.pk, *iteration.proposals.order_by("index").values_list("pk", flat=True))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(*command: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True, **kwargs)


class Stack:
    """Postgres, Redis and gunicorn of the test's own."""

    def __init__(self, base: Path):
        self.base = base
        self.pg_dir, self.pg_port = base / "pg", _free_port()
        self.redis_port, self.web_port = _free_port(), _free_port()
        self.redis = self.web = None

    @property
    def database_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.pg_port}/redline"

    def env(self) -> dict:
        return os.environ | {
            "DJANGO_SETTINGS_MODULE": "webapp.test_settings",
            "DATABASE_URL": self.database_url,
            "REDLINE_TEST_CACHE_URL": f"redis://127.0.0.1:{self.redis_port}/1",
            "REDLINE_TEST_BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "REDLINE_DB_CONN_MAX_AGE": "600",  # kept connections: the restart must break them
        }

    def postgres_start(self) -> None:
        _as_postgres(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.pg_dir),
            "-w",
            "-l",
            str(self.pg_dir / "log"),
            "-o",
            f"-p {self.pg_port} -k {self.pg_dir} -c listen_addresses=127.0.0.1",
            "start",
        )

    def postgres_stop(self) -> None:
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.pg_dir), "-w", "-m", "fast", "stop")

    def redis_start(self) -> None:
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        _wait(lambda: _connects(self.redis_port), "Redis")

    def redis_stop(self) -> None:
        self.redis.kill()
        self.redis.wait(timeout=10)

    def start(self) -> list[int]:
        self.pg_dir.mkdir()
        shutil.chown(self.pg_dir, "postgres")
        _as_postgres(str(PG_BIN / "initdb"), "-D", str(self.pg_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.postgres_start()
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.pg_port}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE redline")
        self.redis_start()
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=self.env(), check=True)
        seeded = subprocess.run(
            [*manage, "shell", "-c", SEED], cwd=ROOT, env=self.env(), check=True, capture_output=True, text=True
        )
        ids = next(line for line in seeded.stdout.splitlines() if line.startswith("IDS")).split()[1:]
        self.web = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "webapp.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--workers",
                "1",
                "--threads",
                "4",
                "--no-control-socket",
            ],
            cwd=ROOT,
            env=self.env(),
            stdout=open(self.base / "web.log", "wb"),
            stderr=subprocess.STDOUT,
        )
        _wait(lambda: _connects(self.web_port), "gunicorn")
        return [int(i) for i in ids]

    def stop(self) -> None:
        if self.web:
            self.web.terminate()
            self.web.wait(timeout=20)
        if self.redis and self.redis.poll() is None:
            self.redis_stop()
        if (self.pg_dir / "postmaster.pid").exists():
            self.postgres_stop()

    def query(self, sql: str, params=()) -> list[tuple]:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.pg_port}/redline") as conn:
            return conn.execute(sql, params).fetchall()

    def current_decisions(self) -> dict[int, str]:
        return dict(self.query("SELECT proposal_id, verdict FROM writing_decision WHERE is_current"))

    def worker(self) -> subprocess.Popen:
        """A Celery worker with beat on this stack, resending kept tasks every second."""
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "webapp",
                "worker",
                "-B",
                "-s",
                str(self.base / "beat"),
                "-Q",
                "gpu,default",
                "--concurrency",
                "1",
                "-l",
                "info",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=self.env() | {"REDLINE_RESEND_SECONDS": "1"},
            stdout=open(self.base / "worker.log", "wb"),
            stderr=subprocess.STDOUT,
        )


def _connects(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def _wait(predicate, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not come up in {timeout} s")
        time.sleep(0.1)


class Browser:
    """A signed-in session over HTTP: cookies, and the CSRF token in a header as htmx sends it."""

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, path: str, data: dict | None = None) -> tuple[int, str]:
        """GET, or POST `data` (form-encoded, as htmx posts); (status, body)."""
        csrf = next((c.value for c in self.jar if c.name == "csrftoken"), "")
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        headers = {"X-CSRFToken": csrf, "Referer": self.base + "/", **({"HX-Request": "true"} if data else {})}
        try:
            with self.opener.open(urllib.request.Request(self.base + path, body, headers), timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def login(self, username: str, password: str) -> None:
        self.request("/accounts/login/")
        status, _ = self.request("/accounts/login/", {"username": username, "password": password})
        assert status == 200 and any(c.name == "sessionid" for c in self.jar)


@pytest.fixture(scope="module")
def stack():
    from tests.factories import PASSWORD

    # Not under pytest's temporary directory: the postgres user must reach the cluster's files.
    base = Path(tempfile.mkdtemp(prefix="redline-faults-"))
    base.chmod(0o755)
    s = Stack(base)
    try:
        document_id, *proposals = s.start()
        browser = Browser(s.web_port)
        browser.login("faulty", PASSWORD)
        yield s, browser, document_id, proposals
    finally:
        s.stop()
        shutil.rmtree(base, ignore_errors=True)


def _decide(browser: Browser, proposal: int, verdict: str) -> int:
    return browser.request(f"/api/proposals/{proposal}/decision/", {"verdict": verdict})[0]


def test_postgres_restarting_under_requests_costs_503s_and_loses_nothing(stack):
    s, browser, document_id, (first, second) = stack
    assert _decide(browser, first, "accept") == 200
    answers: list[int] = []
    stop = threading.Event()

    def keep_deciding():
        verdict = "reject"
        while not stop.is_set():
            status = _decide(browser, second, verdict)
            answers.append(status)
            if status == 200:
                verdict = "accept" if verdict == "reject" else "reject"
            time.sleep(0.05)

    worker = threading.Thread(target=keep_deciding)
    worker.start()
    try:
        time.sleep(0.5)
        s.postgres_stop()
        seen = len(answers)
        _wait(lambda: len(answers) >= seen + 3, "requests while Postgres is away", timeout=60)
        s.postgres_start()
        seen = len(answers)
        _wait(lambda: len(answers) >= seen + 3, "requests after Postgres is back", timeout=60)
    finally:
        stop.set()
        worker.join(timeout=60)
    assert 503 in answers, "the requests never met the database away"
    log = (s.base / "web.log").read_text(errors="replace")
    assert set(answers) <= {200, 503}, f"{answers}\n{log[-4000:]}"  # never a server error
    assert answers[-1] == 200  # back by itself
    # What was answered 200 is there: the first decision, and the last verdict on the second.
    decided = s.current_decisions()
    assert decided[first] == "accept"
    last_ok = sum(1 for a in answers if a == 200)
    assert decided[second] == ("reject" if last_ok % 2 else "accept")
    assert browser.request(f"/documents/{document_id}/")[0] == 200


def test_the_app_goes_on_while_redis_is_down_and_uses_it_again_when_back(stack):
    s, browser, document_id, (first, second) = stack
    log_path = s.base / "web.log"
    offset = log_path.stat().st_size
    s.redis_stop()
    try:
        # Sessions come from Postgres (cached_db), throttles let requests through: no error.
        assert browser.request(f"/documents/{document_id}/")[0] == 200
        assert _decide(browser, first, "reject") == 200
        assert s.current_decisions()[first] == "reject"
    finally:
        s.redis_start()
    assert _decide(browser, first, "accept") == 200
    time.sleep(0.2)
    assert browser.request(f"/documents/{document_id}/")[0] == 200
    assert s.current_decisions()[first] == "accept"
    log = log_path.read_text(errors="replace")[offset:]
    assert "Traceback" not in log, log[-3000:]
    assert "the cache (Redis) is unreachable" in log  # it was away, and said so


def test_work_queued_while_the_broker_is_down_is_sent_once_it_is_back(stack):
    s, browser, _, _ = stack
    status, body = browser.request("/api/documents/", {"title": "Queued", "text": "She have a cat. It sleep all day."})
    assert status == 201, body
    document = json.loads(body)["id"]
    s.redis_stop()
    try:
        status, body = browser.request(f"/api/documents/{document}/suggest/", {})
        # The round is committed and shows queued; its task could not be sent, so it is kept.
        assert status == 201, body
        iteration = json.loads(body)["id"]
        assert s.query("SELECT task, args FROM core_unsenttask") == [
            ("webapp.writing.tasks.generate_iteration", [iteration])
        ]
    finally:
        s.redis_start()
    worker = s.worker()
    try:
        deadline = time.monotonic() + 180
        while s.query("SELECT status FROM writing_iteration WHERE id = %s", [iteration])[0][0] in (
            "queued",
            "generating",
        ):
            assert worker.poll() is None, (s.base / "worker.log").read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, (s.base / "worker.log").read_text(errors="replace")[-3000:]
            time.sleep(0.5)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert s.query("SELECT status FROM writing_iteration WHERE id = %s", [iteration])[0][0] == "review"
    assert s.query("SELECT count(*) FROM core_unsenttask") == [(0,)]
