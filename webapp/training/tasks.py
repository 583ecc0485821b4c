"""Celery tasks of the retraining loop: they take ids, call a service and return.
Training and evaluation load models and go to the `gpu` queue; the policy check is light."""

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from webapp.registry.models import ModelVersion
from webapp.training.models import DatasetSnapshot
from webapp.training.policies import retrain_policy_check
from webapp.training.runs import training_run_execute, training_runs_fail_abandoned
from webapp.training.services import model_version_evaluate


@shared_task(
    acks_late=True,
    soft_time_limit=settings.REDLINE_TRAINING_SOFT_TIME_LIMIT,
    time_limit=settings.REDLINE_TRAINING_TIME_LIMIT,
)
def train_run(run_id: int) -> None:
    training_run_execute(run_id=run_id)


@shared_task(acks_late=True)
def evaluate_version(version_id: int, snapshot_id: int) -> None:
    model_version_evaluate(
        version=ModelVersion.objects.get(pk=version_id), snapshot=DatasetSnapshot.objects.get(pk=snapshot_id)
    )


@shared_task(acks_late=True)
def check_retrain_policy(project_id: int) -> None:
    retrain_policy_check(project_id=project_id)


@shared_task
def fail_abandoned_runs() -> int:
    """Celery beat sends this every minute (settings.CELERY_BEAT_SCHEDULE): runs a dead worker
    left "running" are recorded as failed. The pages only read (runs.run_as_seen)."""
    return training_runs_fail_abandoned()


@worker_ready.connect
def _fail_abandoned_runs(**kwargs) -> None:
    # A worker that starts after a crash finds the runs the dead one left "running".
    training_runs_fail_abandoned()
