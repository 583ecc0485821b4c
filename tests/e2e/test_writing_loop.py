"""The R3 writing loop end to end: services in this process, generation in a real Celery
worker process running the tiny model, rows in the test database."""

import os
import signal
from pathlib import Path

import pytest

from tests.fixtures_worker import wait_until
from webapp.core.models import Job
from webapp.registry.models import ModelVersion
from webapp.registry.services import model_version_activate
from webapp.writing import display, selectors, services
from webapp.writing.errors import LoopConflict
from webapp.writing.models import Decision, Iteration

pytestmark = pytest.mark.e2e

# Three sentences: the tiny model rewrites each one, so a round has (at least) three edits.
TEXT = "The writer have finished the letter yesterday. She read the proposal carefully. They needs the budget today."
DONE = (Iteration.Status.REVIEW, Iteration.Status.APPLIED, Iteration.Status.FAILED)


def generated(iteration: Iteration, timeout: float = 120) -> Iteration:
    """The iteration once the worker has finished with it (review, applied or failed)."""

    def finished():
        fresh = Iteration.objects.select_related("job", "model_version").get(pk=iteration.pk)
        return fresh if fresh.status in DONE else None

    return wait_until(finished, timeout=timeout, what=f"iteration {iteration.pk} to be generated")


def loop_state(document):
    document.refresh_from_db()
    return display.document_loop_state(document, selectors.document_last_iteration(document))


def test_decide_apply_and_revise_until_max_depth(celery_worker, tiny_model_version, writer, tiny_model_path):
    document = services.document_create(owner=writer, text=TEXT, max_depth=2)

    first = generated(services.iteration_start(document=document, user=writer))
    assert first.status == Iteration.Status.REVIEW, first.error
    assert first.depth == 1
    assert first.model_version == tiny_model_version
    assert first.generation_settings["model"] == tiny_model_path
    assert first.job.status == Job.Status.SUCCEEDED
    proposals = list(selectors.proposals_with_decisions(first))
    assert len(proposals) >= 2
    assert loop_state(document).code == "review"

    services.proposal_decide(proposal=proposals[0], user=writer, verdict="accept")
    services.proposal_decide(proposal=proposals[1], user=writer, verdict="reject")
    assert selectors.decision_counts(first).decided == 2

    second = services.iteration_apply(iteration=first, user=writer, revise_again=True)
    first.refresh_from_db()
    document.refresh_from_db()
    assert first.status == Iteration.Status.APPLIED
    # Only the accepted edit changed the text.
    expected = TEXT[: proposals[0].start_char] + proposals[0].after + TEXT[proposals[0].end_char :]
    assert first.text_after == expected == document.current_text

    assert second is not None
    second = generated(second)
    assert second.status in (Iteration.Status.REVIEW, Iteration.Status.APPLIED), second.error
    assert (second.number, second.depth) == (2, 2)
    assert second.text_before == expected
    assert second.model_version == tiny_model_version
    assert second.generation_settings["model"] == tiny_model_path
    if second.status == Iteration.Status.REVIEW:
        assert services.iteration_apply(iteration=second, user=writer, revise_again=True) is None

    state = loop_state(document)
    assert (state.code, state.depth, state.can_suggest) == ("max_depth", 2, False)
    with pytest.raises(LoopConflict, match="maximum depth"):
        services.iteration_start(document=document, user=writer)
    assert document.iterations.count() == 2
    assert celery_worker.alive


def test_rejected_edits_are_not_proposed_again_and_the_loop_converges(celery_worker, tiny_model_version, writer):
    document = services.document_create(owner=writer, text=TEXT, max_depth=5)
    first = generated(services.iteration_start(document=document, user=writer))
    assert first.status == Iteration.Status.REVIEW, first.error
    rejected = services.proposals_decide_all(iteration=first, user=writer, verdict="reject")
    assert rejected == first.proposals.count() >= 1

    second = generated(services.iteration_apply(iteration=first, user=writer, revise_again=True))

    # Nothing was accepted, so the model saw the same text and (greedy, deterministic) made the
    # same edits; every one of them was rejected before, so none is proposed and the round closes.
    assert second.text_before == TEXT
    assert second.status == Iteration.Status.APPLIED
    assert second.proposals.count() == 0
    assert second.generation_settings["dropped_as_rejected_before"] == rejected
    assert second.model_output == first.model_output
    assert second.text_after == TEXT
    assert second.job.status == Job.Status.SUCCEEDED
    state = loop_state(document)
    assert (state.code, state.depth) == ("converged", 2)
    assert Decision.objects.filter(proposal__iteration=first, is_current=True, verdict="reject").count() == rejected


def test_missing_model_fails_the_round_and_the_worker_keeps_working(celery_worker, tiny_model_version, writer):
    missing = "/nonexistent/redline-model"
    model_version_activate(version=ModelVersion.objects.create(name="missing", base_model=missing))
    document = services.document_create(owner=writer, text=TEXT)

    failed = generated(services.iteration_start(document=document, user=writer))
    assert failed.status == Iteration.Status.FAILED
    assert missing in failed.error
    assert failed.job.status == Job.Status.FAILED
    assert missing in failed.job.error
    assert failed.proposals.count() == 0
    state = loop_state(document)
    assert state.code == "failed" and missing in state.message and state.can_suggest

    model_version_activate(version=tiny_model_version)
    retried = generated(services.iteration_retry(iteration=failed, user=writer))
    assert retried.status == Iteration.Status.REVIEW, retried.error
    assert retried.model_version == tiny_model_version
    assert (retried.number, retried.depth) == (2, 1)  # a failed round does not count towards the depth
    assert retried.proposals.count() >= 1
    assert celery_worker.alive


def _pool_processes(worker) -> list[int]:
    """The worker's pool processes (the children of its main process), which run the tasks."""
    pid = worker.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(c) for c in children]


def test_a_worker_killed_during_generation_has_the_round_taken_over_and_nothing_decided_lost(
    celery_worker, tiny_model_version, writer
):
    decided_document = services.document_create(owner=writer, text=TEXT)
    decided = generated(services.iteration_start(document=decided_document, user=writer))
    kept = list(decided.proposals.order_by("index"))
    services.proposal_decide(proposal=kept[0], user=writer, verdict="accept")

    long_text = " ".join(f"The writer number {i} have finished the letter yesterday." for i in range(300))
    document = services.document_create(owner=writer, text=long_text)
    iteration = services.iteration_start(document=document, user=writer)
    wait_until(
        lambda: Job.objects.filter(pk=iteration.job_id, done__gt=0).exists(),
        timeout=120,
        what="the round to be generating",
    )
    killed = _pool_processes(celery_worker)
    assert killed and Iteration.objects.get(pk=iteration.pk).status == Iteration.Status.GENERATING
    for pid in killed:
        os.kill(pid, signal.SIGKILL)

    # The task is redelivered (acks late, rejected when its worker is lost); a new pool process
    # finds the round left generating by a dead worker, takes it over and finishes it.
    finished = generated(iteration, timeout=240)
    assert finished.status == Iteration.Status.REVIEW, finished.error
    assert finished.job.status == Job.Status.SUCCEEDED and finished.proposals.count() > 0
    assert not set(_pool_processes(celery_worker)) & set(killed)
    assert celery_worker.alive
    current = Decision.objects.get(proposal=kept[0], is_current=True)
    assert current.verdict == "accept"
