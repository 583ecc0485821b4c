"""The job progress page and its polling fragment."""

from django.urls import reverse

from webapp.core.models import Job
from webapp.core.services import job_create, job_finish, job_progress, job_start

HTMX = {"HX-Request": "true"}


def job_url(job):
    return reverse("core:job_status", args=[job.pk])


def test_the_job_page_shows_progress_and_polls_while_running(writer_client, writer):
    job = job_create(kind="generate", user=writer)
    job_start(job_id=job.pk, message="Loading the model")
    job_progress(job_id=job.pk, done=3, total=4, message="Revised 3 of 4 sentences")
    response = writer_client.get(job_url(job))
    assert response.status_code == 200
    assert "<html" in response.text
    assert 'aria-valuenow="75"' in response.text
    assert "width: 75%" in response.text
    assert "Revised 3 of 4 sentences" in response.text
    assert f'hx-get="{job_url(job)}" hx-trigger="every 1s"' in response.text


def test_the_fragment_polls_until_the_job_is_finished_then_answers_286(writer_client, writer):
    job = job_create(kind="generate", user=writer, message="Waiting for a worker")
    running = writer_client.get(job_url(job), headers=HTMX)
    assert running.status_code == 200
    assert "<html" not in running.text
    assert running.text.lstrip().startswith(f'<div id="job-{job.pk}"')
    assert 'hx-trigger="every 1s"' in running.text
    assert "Waiting for a worker" in running.text

    job_finish(job_id=job.pk, message="2 edits proposed")
    done = writer_client.get(job_url(job), headers=HTMX)
    assert done.status_code == 286
    assert "hx-trigger" not in done.text
    assert 'aria-valuenow="100"' in done.text
    assert "2 edits proposed" in done.text
    assert done["Vary"] and "HX-Request" in done["Vary"]


def test_a_failed_job_says_why(writer_client, writer):
    job = job_create(kind="generate", user=writer)
    job_finish(job_id=job.pk, error="CUDA out of memory <b>really</b>")
    response = writer_client.get(job_url(job), headers=HTMX)
    assert response.status_code == 286
    assert Job.objects.get(pk=job.pk).status == "failed"
    assert "CUDA out of memory &lt;b&gt;really&lt;/b&gt;" in response.text
    assert "<b>really" not in response.text


def test_someone_elses_job_is_a_404_and_anonymous_people_log_in(client, writer, other_writer):
    job = job_create(kind="generate", user=writer)
    client.force_login(other_writer)
    assert client.get(job_url(job)).status_code == 404
    assert client.get(job_url(job), headers=HTMX).status_code == 404
    client.logout()
    response = client.get(job_url(job))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
