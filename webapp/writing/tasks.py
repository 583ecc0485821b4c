"""Celery tasks of the writing loop. They take ids, call a service and return; routed to `gpu`."""

from celery import shared_task

from webapp.writing.services import iteration_generate


@shared_task(acks_late=True)
def generate_iteration(iteration_id: int) -> None:
    iteration_generate(iteration_id=iteration_id)
