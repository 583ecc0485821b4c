"""Celery tasks of preference annotation: they take ids (and the prompts), call a service and
return. Sampling models runs on the `gpu` queue."""

from celery import shared_task

from webapp.preferences.services import comparisons_generate_run


@shared_task(acks_late=True)
def generate_comparisons(
    job_id: int, project_id: int, user_id: int | None, prompts: list[str], version_ids: list[int], samples: int
) -> None:
    comparisons_generate_run(
        job_id=job_id, project_id=project_id, user_id=user_id, prompts=prompts, version_ids=version_ids, samples=samples
    )
