"""Retraining end to end: writers' decisions -> snapshot -> SFT and DPO runs on a real Celery
worker -> evaluated versions -> promoted -> the next proposal records them; rollback; a run
whose worker is killed; a running run cancelled."""

import os
import signal

import pytest

from tests.fixtures_worker import wait_until
from webapp.registry.models import ModelVersion
from webapp.registry.services import (
    model_version_activate,
    model_version_active,
    model_version_promote,
    model_version_rollback,
)
from webapp.training.models import Evaluation, TrainingPoint, TrainingRun
from webapp.training.runs import training_run_cancel, training_run_start
from webapp.writing import services
from webapp.writing.models import Iteration

pytestmark = pytest.mark.e2e

TEXTS = [
    "The writer have finished the letter yesterday. She read the proposal carefully.",
    "They needs the budget today. The committee discussed the plan at length.",
    "Our team were late to the meeting. The editor sent the summary before lunch.",
    "A reviewer explain the main argument. Everyone liked the final draft very much.",
]
DONE = (Iteration.Status.REVIEW, Iteration.Status.APPLIED, Iteration.Status.FAILED)
FAST = {"max_steps": 4, "batch_size": 4, "learning_rate": 0.05}


@pytest.fixture
def causal_version(transactional_db, tiny_causal_model_path):
    version = ModelVersion.objects.create(name="tiny-causal", base_model=tiny_causal_model_path)
    return model_version_activate(version=version)


def generated(iteration: Iteration) -> Iteration:
    def finished():
        fresh = Iteration.objects.select_related("model_version").get(pk=iteration.pk)
        return fresh if fresh.status in DONE else None

    return wait_until(finished, timeout=120, what=f"iteration {iteration.pk}")


def finished_run(run: TrainingRun, timeout: float = 240) -> TrainingRun:
    def done():
        fresh = TrainingRun.objects.select_related("job").get(pk=run.pk)
        return fresh if not fresh.is_open else None

    return wait_until(done, timeout=timeout, what=f"training run {run.pk}")


def running_run(run: TrainingRun) -> TrainingRun:
    def started():
        fresh = TrainingRun.objects.get(pk=run.pk)
        return fresh if fresh.status == "running" and fresh.step > 0 else None

    return wait_until(started, timeout=120, what=f"training run {run.pk} to take steps")


def writers_decide(writer) -> None:
    """Rounds from the active model on each text; the writer accepts the first edit of each
    sentence pair and rejects the rest, then applies."""
    for text in TEXTS:
        document = services.document_create(owner=writer, text=text)
        iteration = generated(services.iteration_start(document=document, user=writer))
        assert iteration.status == Iteration.Status.REVIEW, iteration.error
        for i, proposal in enumerate(iteration.proposals.order_by("index")):
            services.proposal_decide(proposal=proposal, user=writer, verdict="accept" if i % 2 == 0 else "reject")
        services.iteration_apply(iteration=iteration, user=writer)


def next_round_version(writer) -> ModelVersion:
    document = services.document_create(owner=writer, text=TEXTS[0])
    iteration = generated(services.iteration_start(document=document, user=writer))
    assert iteration.status in (Iteration.Status.REVIEW, Iteration.Status.APPLIED), iteration.error
    return iteration.model_version


def test_decisions_train_sft_then_dpo_versions_that_are_promoted_and_rolled_back(
    celery_worker, causal_version, writer, admin_user
):
    writers_decide(writer)

    sft = finished_run(training_run_start(user=admin_user, method="sft", held_out_percent=50, settings_overrides=FAST))
    assert sft.status == "succeeded", sft.error
    sft_version = ModelVersion.objects.get(training_run=sft)
    assert sft_version.parent == causal_version and sft_version.adapter_path
    assert Evaluation.objects.filter(version=sft_version, snapshot=sft.snapshot).exists()
    assert TrainingPoint.objects.filter(run=sft, name="loss").count() == 4
    model_version_promote(version=sft_version, user=admin_user)
    assert next_round_version(writer) == sft_version  # the worker generated with base + adapter

    dpo = finished_run(
        training_run_start(user=admin_user, method="dpo", snapshot=sft.snapshot, settings_overrides=FAST)
    )
    assert dpo.status == "succeeded", dpo.error
    dpo_version = ModelVersion.objects.get(training_run=dpo)
    assert dpo.base_version == dpo_version.parent == sft_version  # trained from the active version
    assert Evaluation.objects.get(version=dpo_version, snapshot=sft.snapshot).metrics["pairs"] > 0
    model_version_promote(version=dpo_version, user=admin_user)
    assert next_round_version(writer) == dpo_version

    model_version_rollback(user=admin_user)
    assert model_version_active() == sft_version
    assert next_round_version(writer) == sft_version
    model_version_rollback(user=admin_user)
    assert next_round_version(writer) == causal_version
    assert celery_worker.alive


def test_a_run_whose_worker_process_is_killed_is_marked_failed(celery_worker, causal_version, writer, admin_user):
    writers_decide(writer)
    run = training_run_start(user=admin_user, method="sft", settings_overrides={"max_steps": 100_000, "batch_size": 2})
    run = running_run(run)
    pid = int(run.worker.rsplit(":", 1)[1])  # the pool process that runs the task
    assert pid != celery_worker.process.pid
    os.kill(pid, signal.SIGKILL)
    # The task is redelivered (acks_late, reject on worker lost); the new pool process finds the
    # run marked running with its lock free, and fails it instead of leaving it running forever.
    failed = finished_run(run)
    assert failed.status == "failed" and "stopped (killed or crashed)" in failed.error
    assert failed.job.status == "failed"
    assert not ModelVersion.objects.filter(training_run=run).exists()
    assert model_version_active() == causal_version
    assert celery_worker.alive  # the worker itself carries on: the next run works
    after = finished_run(
        training_run_start(user=admin_user, method="sft", snapshot=run.snapshot, settings_overrides=FAST)
    )
    assert after.status == "succeeded", after.error


def test_a_running_run_can_be_cancelled_and_keeps_no_version(celery_worker, causal_version, writer, admin_user):
    writers_decide(writer)
    run = running_run(
        training_run_start(user=admin_user, method="sft", settings_overrides={"max_steps": 100_000, "batch_size": 2})
    )
    training_run_cancel(run=run, user=admin_user)
    cancelled = finished_run(run)
    assert cancelled.status == "cancelled" and 0 < cancelled.step < 100_000
    assert not ModelVersion.objects.filter(training_run=run).exists()
    assert not cancelled.artifact_path
