"""Job rows: long work reports its progress here and the page polls it."""

from django.utils import timezone

from webapp.core.models import Job


def job_create(*, kind: str, user=None, total: int = 0, message: str = "") -> Job:
    return Job.objects.create(kind=kind, created_by=user, total=total, message=message)


def job_start(*, job_id: int, message: str = "") -> None:
    Job.objects.filter(pk=job_id).update(status=Job.Status.RUNNING, started_at=timezone.now(), message=message)


def job_progress(*, job_id: int, done: int, total: int, message: str | None = None) -> None:
    fields = {"done": done, "total": total}
    if message is not None:
        fields["message"] = message
    Job.objects.filter(pk=job_id).update(**fields)


def job_finish(*, job_id: int, error: str = "", message: str = "") -> None:
    status = Job.Status.FAILED if error else Job.Status.SUCCEEDED
    Job.objects.filter(pk=job_id).update(status=status, error=error, message=message, finished_at=timezone.now())
