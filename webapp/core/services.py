"""Job rows: long work reports its progress here and the page polls it."""

from django.utils import timezone

from webapp.core.models import Job

MESSAGE_LENGTH = Job._meta.get_field("message").max_length


def _line(message: str) -> str:
    """A job's message is one status line: a longer one (a promotion gate's reasons, say; the
    whole text is in the run's log) is cut to fit, not refused."""
    return message if len(message) <= MESSAGE_LENGTH else message[: MESSAGE_LENGTH - 1] + "…"


def job_create(*, kind: str, user=None, total: int = 0, message: str = "") -> Job:
    return Job.objects.create(kind=kind, created_by=user, total=total, message=_line(message))


def job_start(*, job_id: int, message: str = "") -> None:
    Job.objects.filter(pk=job_id).update(status=Job.Status.RUNNING, started_at=timezone.now(), message=_line(message))


def job_progress(*, job_id: int, done: int, total: int, message: str | None = None) -> None:
    fields = {"done": done, "total": total}
    if message is not None:
        fields["message"] = _line(message)
    Job.objects.filter(pk=job_id).update(**fields)


def job_finish(*, job_id: int, error: str = "", message: str = "") -> None:
    status = Job.Status.FAILED if error else Job.Status.SUCCEEDED
    Job.objects.filter(pk=job_id).update(status=status, error=error, message=_line(message), finished_at=timezone.now())
