"""Celery tasks of the coding loop: they take ids, call a service and return. Generation goes
to the `gpu` queue; execution (the sandbox, CPU only) to `default`."""

from celery import shared_task

from webapp.coding.services import iteration_execute, iteration_generate


@shared_task(acks_late=True)
def generate_coding_iteration(iteration_id: int) -> None:
    iteration_generate(iteration_id=iteration_id)


@shared_task(acks_late=True)
def execute_coding_iteration(iteration_id: int) -> None:
    iteration_execute(iteration_id=iteration_id)
