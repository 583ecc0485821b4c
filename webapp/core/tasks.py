from celery import shared_task
from celery.signals import worker_ready


@shared_task
def send_unsent_tasks() -> int:
    """Send the tasks kept while the broker was unreachable (webapp.core.queue)."""
    from webapp.core.queue import unsent_tasks_send

    return unsent_tasks_send()


@worker_ready.connect
def _send_unsent_at_start(**kwargs) -> None:
    from webapp.core.queue import unsent_tasks_send

    unsent_tasks_send()
