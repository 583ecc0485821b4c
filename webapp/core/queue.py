"""Sending tasks to the broker so that a broker that is down loses no work.

Apps queue work with send_on_commit(task, *args): once the transaction that wrote the rows
commits, the task is sent; if the broker cannot be reached, the send is kept as an UnsentTask row
(the request still succeeds: its rows are committed and show "queued"), and the upkeep task
webapp.core.tasks.send_unsent_tasks (beat, every REDLINE_RESEND_SECONDS, and when a worker
starts) sends it again. Tasks are idempotent (webapp.core.worker.claimed_job_run), so a task sent
twice does its work once.
"""

import logging

from django.db import transaction

from webapp.core.models import UnsentTask

logger = logging.getLogger(__name__)
MAX_ERROR_CHARS = 500


def _send(name: str, args: list) -> None:
    from webapp.celery import app

    app.send_task(name, args=args)


def task_send(name: str, args: list) -> bool:
    """Send the task now; False (and kept as an UnsentTask) when the broker cannot be reached."""
    try:
        _send(name, args)
        return True
    except Exception as exc:  # kombu's OperationalError, redis' ConnectionError, OSError: all "not sent"
        logger.warning("could not send %s%s, kept to send again: %s", name, tuple(args), exc)
        UnsentTask.objects.create(task=name, args=args, error=str(exc)[:MAX_ERROR_CHARS])
        return False


def send_on_commit(task, *args) -> None:
    """Send `task(*args)` once the current transaction commits (at once outside one)."""
    name, values = task.name, list(args)
    transaction.on_commit(lambda: task_send(name, values))


def unsent_tasks_send(limit: int = 500) -> int:
    """Send the kept tasks, oldest first, until one fails; the number sent."""
    sent = 0
    for row in UnsentTask.objects.all()[:limit]:
        try:
            _send(row.task, row.args)
        except Exception as exc:
            UnsentTask.objects.filter(pk=row.pk).update(attempts=row.attempts + 1, error=str(exc)[:MAX_ERROR_CHARS])
            logger.warning("the broker is still unreachable; %s stays unsent: %s", row, exc)
            break
        row.delete()
        sent += 1
    if sent:
        logger.info("sent %d task(s) kept while the broker was unreachable", sent)
    return sent
