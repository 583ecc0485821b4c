"""The one lifecycle of work a Celery task does on a row (an iteration, a job, a training run).

    with the row's advisory lock (another live worker has it: leave the row alone)
        claim the row           (None: finished, gone or not waiting: leave it)
        work on it              (it raises: record why on the row and its job; the worker carries on)
        store what came out     (outside the failure handling: a store that fails is a bug, not a failed row)

The lock is a session-level one (webapp.core.locks): if the worker dies, Postgres frees it, so
a redelivered task finds the row claimed but unlocked, and claim takes it over (or fails it).
"""

import logging
from typing import Callable, TypeVar

from webapp.core.locks import advisory_lock

logger = logging.getLogger(__name__)
Row = TypeVar("Row")
Result = TypeVar("Result")


def claimed_job_run(
    *,
    lock: str,
    key: int,
    claim: Callable[[int], Row | None],
    work: Callable[[Row], Result],
    fail: Callable[[Row, Exception], None],
    store: Callable[[Row, Result], None] | None = None,
    expected: Callable[[Exception], bool] = lambda exc: False,
) -> None:
    """Run one claimed job (see the module). `fail` records the failure; `expected` says which
    exceptions are not faults (a cancelled run) and so are not logged with a traceback."""
    with advisory_lock(lock, key) as held:
        if not held:
            logger.info("%s %s is held by another worker; skipping", lock, key)
            return
        row = claim(key)
        if row is None:
            logger.info("%s %s is not waiting for a worker (done, gone or abandoned); skipping", lock, key)
            return
        try:
            result = work(row)
        except Exception as exc:  # a failed job must say why and leave the worker running
            if not expected(exc):
                logger.exception("%s %s failed", lock, key)
            fail(row, exc)
            return
        if store is not None:
            store(row, result)


def error_text(exc: BaseException) -> str:
    """The exception as a person reads it on a failed row: its message, or its class's name."""
    return str(exc) or exc.__class__.__name__
