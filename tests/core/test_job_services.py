"""Job rows keep a one-line message, however long the text a task reports."""

import pytest

from webapp.core.models import Job
from webapp.core.services import MESSAGE_LENGTH, job_create, job_finish, job_progress, job_start

pytestmark = pytest.mark.django_db


def test_a_message_longer_than_the_column_is_cut_to_fit_not_refused():
    long = "the gate's reasons, " * 40
    job = job_create(kind="train", message=long)
    job_start(job_id=job.pk, message=long)
    job_progress(job_id=job.pk, done=1, total=2, message=long)
    job.refresh_from_db()
    assert len(job.message) == MESSAGE_LENGTH and job.message.endswith("…") and long.startswith(job.message[:-1])
    job_finish(job_id=job.pk, message=long)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and len(job.message) == MESSAGE_LENGTH
    job_finish(job_id=job.pk, message="short")
    job.refresh_from_db()
    assert job.message == "short"
