"""Fixtures that start real processes and build tiny models (a pytest plugin, see conftest.py).

- `tiny_model_path`: a tiny random seq2seq model with its tokenizer, built once per session;
  `tiny_causal_model_path` the same for a causal LM (what retraining trains);
  `tiny_code_model_path` a tiny causal LM trained to write small Python solutions and tests.
- `celery_worker`: a real `celery -A webapp worker -Q gpu,default` process talking to the
  pytest-django test database and the test broker (redis db 15). The process is shared by the
  tests of one module and stopped after them, so that it never runs the tasks that tests
  elsewhere enqueue on commit (they expect those to stay queued). The fixture itself is per
  test, brings `transactional_db` (so the rows a test writes are committed and visible to the
  worker) and prints the worker's log of that test when the test fails.
- `tiny_model_version`: a ModelVersion on the tiny model, activated in the test database.
"""

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKER_START_TIMEOUT = 60
WORKER_QUEUES = ("gpu", "default")


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item, so that fixtures can tell whether the test failed.
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory) -> str:
    from inference.tiny import build_tiny_model

    return str(build_tiny_model(tmp_path_factory.mktemp("tiny-model") / "seq2seq", kind="seq2seq", seed=0))


@pytest.fixture(scope="session")
def tiny_causal_model_path(tmp_path_factory) -> str:
    """A tiny random causal LM (Llama): what TRL's trainers retrain."""
    from inference.tiny import build_tiny_model

    return str(build_tiny_model(tmp_path_factory.mktemp("tiny-model") / "causal", kind="causal", seed=0))


@pytest.fixture(scope="session")
def tiny_code_model_path(tmp_path_factory) -> str:
    """A tiny causal LM trained in seconds to write small Python solutions and tests
    (inference/tiny_code.py): the coding loop with a real model that writes runnable code."""
    from inference.tiny_code import build_tiny_code_model

    return str(build_tiny_code_model(tmp_path_factory.mktemp("tiny-code"), seed=0))


@dataclass
class Worker:
    process: subprocess.Popen
    log_path: Path

    def log(self, offset: int = 0) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            f.seek(offset)
            return f.read()

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    @property
    def alive(self) -> bool:
        return self.process.poll() is None


def _database_url(settings_dict: dict) -> str:
    user = settings_dict.get("USER") or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


def _purge_queues() -> None:
    from webapp.celery import app

    with app.connection_for_write() as conn:
        channel = conn.default_channel
        for queue in WORKER_QUEUES:
            channel.queue_purge(queue)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()  # warm shutdown: finishes the task in hand
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def _celery_worker_process(django_db_setup, django_db_blocker, tiny_model_path, tmp_path_factory):
    from django.conf import settings
    from django.db import connection

    with django_db_blocker.unblock():
        database_url = _database_url(connection.settings_dict)
    _purge_queues()
    log_path = tmp_path_factory.mktemp("celery-worker") / "worker.log"
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "webapp.test_settings",
        "DATABASE_URL": database_url,
        "REDLINE_TEST_BROKER_URL": settings.CELERY_BROKER_URL,
        "REDLINE_MODEL": tiny_model_path,
        "REDLINE_MODEL_DIR": str(tmp_path_factory.mktemp("model-dir")),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "webapp",
        "worker",
        "-Q",
        ",".join(WORKER_QUEUES),
        "--concurrency",
        "1",
        "--pool",
        "prefork",
        "-l",
        "info",
        "-n",
        f"redline-test-{os.getpid()}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    worker = Worker(process, log_path)
    try:
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while " ready." not in worker.log():
            if not worker.alive:
                pytest.fail(f"the celery worker exited with {process.returncode}:\n{worker.log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the celery worker was not ready after {WORKER_START_TIMEOUT} s:\n{worker.log()}")
            time.sleep(0.2)
        yield worker
    finally:
        _stop(process)


@pytest.fixture
def celery_worker(request, transactional_db, _celery_worker_process) -> Worker:
    """The running worker. The test's rows must be committed for it to see them (transactional_db)."""
    worker = _celery_worker_process
    if not worker.alive:
        pytest.fail(f"the celery worker died earlier in this module:\n{worker.log()}")
    offset = worker.log_size()
    yield worker
    failed = any(getattr(getattr(request.node, f"rep_{when}", None), "failed", False) for when in ("setup", "call"))
    if failed or not worker.alive:
        sys.stderr.write(f"\n----- celery worker log during {request.node.nodeid} -----\n")
        sys.stderr.write(worker.log(offset))
        sys.stderr.write("----- end of worker log -----\n")


@pytest.fixture
def tiny_model_version(transactional_db, tiny_model_path):
    """A ModelVersion on the tiny model, made the active one (what new iterations record)."""
    from webapp.registry.models import ModelVersion
    from webapp.registry.services import model_version_activate

    version = ModelVersion.objects.create(name="tiny-seq2seq", base_model=tiny_model_path)
    return model_version_activate(version=version)


def wait_until(predicate, *, timeout: float = 90, interval: float = 0.2, what: str = "the condition"):
    """Poll `predicate` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


@contextmanager
def advisory_lock_elsewhere(namespace: str, key: int):
    """Hold a Postgres advisory lock from another session, as a live worker would."""
    import psycopg
    from django.db import connection

    from webapp.core.locks import _namespace_key

    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"] or "postgres",
        dbname=db["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [_namespace_key(namespace), key])
        yield
