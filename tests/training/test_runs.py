"""Training runs in-process on real Postgres with a tiny causal model: start, train, register,
evaluate, promote; refusals; cancelled and abandoned runs; the retraining policy."""

import uuid

import pytest

from tests.factories import (
    DocumentFactory,
    ModelVersionFactory,
    ProjectFactory,
    iteration_in_review,
)
from tests.fixtures_worker import advisory_lock_elsewhere
from webapp.registry.models import ModelVersion
from webapp.registry.services import model_version_activate, model_version_active
from webapp.training.errors import TrainingRequestError
from webapp.training.models import Evaluation, RetrainPolicy, TrainingPoint, TrainingRun
from webapp.training.policies import retrain_policy_check, retrain_policy_save
from webapp.training.runs import (
    RUN_LOCK,
    training_run_cancel,
    training_run_execute,
    training_run_start,
    training_runs_fail_abandoned,
)
from webapp.writing import services as writing

pytestmark = pytest.mark.django_db
FAST = {"max_steps": 3, "batch_size": 4, "learning_rate": 0.05}


@pytest.fixture
def causal_version(tiny_causal_model_path):
    return model_version_activate(version=ModelVersionFactory(name="tiny-causal", base_model=tiny_causal_model_path))


@pytest.fixture(autouse=True)
def model_dir(settings, tmp_path):
    settings.REDLINE_MODEL_DIR = str(tmp_path / "models")
    return tmp_path / "models"


ANIMALS = ("cat", "dog", "fox", "owl", "bee", "eel", "elk", "yak", "ant", "cow")


def decided_rounds(writer, count: int, verdicts=("accept", "reject"), project=None):
    """`count` documents, each with a round whose two edits got `verdicts` (the sentences differ
    from document to document, so that the held-out split has some of each)."""
    for i in range(count):
        animal = ANIMALS[i % len(ANIMALS)]
        text, fixed = (
            f"The {animal} sat on the the mat. The {animal} were happy.",
            f"The {animal} sat on the mat. The {animal} was happy.",
        )
        document = DocumentFactory(owner=writer, project=project, original_text=text, current_text=text)
        iteration = iteration_in_review(document, fixed)
        for proposal, verdict in zip(iteration.proposals.order_by("index"), verdicts):
            writing.proposal_decide(proposal=proposal, user=writer, verdict=verdict)


def start(admin_user, django_capture_on_commit_callbacks, **kwargs) -> TrainingRun:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = training_run_start(user=admin_user, **{"method": "sft", "settings_overrides": FAST, **kwargs})
    assert len(callbacks) == 1  # the task is sent once the run is committed
    return run


def test_a_run_trains_registers_evaluates_and_promotes_a_new_version(
    writer, admin_user, causal_version, django_capture_on_commit_callbacks, model_dir
):
    decided_rounds(writer, 6)
    run = start(
        admin_user, django_capture_on_commit_callbacks, method="dpo", held_out_percent=50, promote_if_better=True
    )
    assert (run.status, run.base_version, run.hyperparameters["beta"]) == ("queued", causal_version, 0.1)
    training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert run.step == run.total_steps == 3 and run.job.status == "succeeded"
    assert TrainingPoint.objects.filter(run=run, name="loss").count() == 3
    train_rows = run.snapshot.row_count - run.snapshot.held_out_count
    assert f"with {3 * train_rows} rows of general English mixed in (anchor_share 3.0)" in run.log
    version = ModelVersion.objects.get(training_run=run)
    assert (version.parent, version.training_run.snapshot, version.kind) == (causal_version, run.snapshot, "editor")
    assert version.base_model == causal_version.base_model and version.adapter_path.startswith(str(model_dir))
    evaluation = Evaluation.objects.get(version=version, snapshot=run.snapshot)
    assert evaluation.metrics["held_out_rows"] == run.snapshot.held_out_count > 0
    assert 0 <= evaluation.metrics["preference_accuracy"] <= 1
    assert "predicted_acceptance" in evaluation.metrics and evaluation.samples
    # Judged by the text the writers kept, and on everyday prose; promoted only if the gate says so
    # on the same rows, and the run keeps the gate's checks and says why in its log.
    assert evaluation.metrics["final_documents"] == evaluation.metrics["cases"] > 0
    assert evaluation.metrics["everyday_sentences"] == 6 and 0 <= evaluation.metrics["everyday_harm"] <= 1
    parent_eval = Evaluation.objects.get(version=causal_version, snapshot=run.snapshot)
    assert run.gate["promote"] == (model_version_active() == version)
    assert [c["name"] for c in run.gate["checks"]][0] == "edit cost left" and run.gate["why"] in run.log
    assert parent_eval.metrics["held_out_rows"] == evaluation.metrics["held_out_rows"]
    # Row by row on the same held-out rows, for the gate's sign test.
    assert len(evaluation.row_costs) == len(parent_eval.row_costs) == evaluation.metrics["final_documents"]
    assert sum(evaluation.row_costs) == evaluation.metrics["final_edit_cost_left"]
    assert [c["name"] for c in run.gate["checks"]][1] == "rows with less to fix"
    # The next round records the version that is active now.
    doc = DocumentFactory(owner=writer)
    with django_capture_on_commit_callbacks(execute=False):
        iteration = writing.iteration_start(document=doc, user=writer)
    assert iteration.model_version == model_version_active()


def test_the_same_request_token_gives_back_the_same_run(
    writer, admin_user, causal_version, django_capture_on_commit_callbacks
):
    decided_rounds(writer, 2)
    token = uuid.uuid4()
    first = start(admin_user, django_capture_on_commit_callbacks, request_token=token)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        second = training_run_start(user=admin_user, method="sft", request_token=token)
    assert second.pk == first.pk and callbacks == []
    assert TrainingRun.objects.count() == 1


def test_runs_that_cannot_work_are_refused_before_anything_is_queued(writer, admin_user, causal_version):
    decided_rounds(writer, 2, verdicts=("accept", "accept"))  # nothing rejected: no pairs
    with pytest.raises(TrainingRequestError, match="needs pairs"):
        training_run_start(user=admin_user, method="dpo")
    with pytest.raises(TrainingRequestError, match="learning_rate must be above 0"):
        training_run_start(user=admin_user, method="sft", settings_overrides={"learning_rate": -1})
    with pytest.raises(TrainingRequestError, match="Unknown setting 'beta'"):
        training_run_start(user=admin_user, method="sft", settings_overrides={"beta": 0.2})
    reward = ModelVersionFactory(kind=ModelVersion.Kind.REWARD)
    with pytest.raises(TrainingRequestError, match="reward model cannot be a starting point"):
        training_run_start(user=admin_user, method="sft", base_version=reward)
    assert TrainingRun.objects.count() == 0


def test_a_failing_run_says_why_keeps_its_snapshot_and_makes_no_version(
    writer, admin_user, django_capture_on_commit_callbacks, model_dir
):
    decided_rounds(writer, 2)
    broken = model_version_activate(version=ModelVersionFactory(base_model="/no/such/model"))
    run = start(admin_user, django_capture_on_commit_callbacks)
    training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "failed" and "/no/such/model" in run.error
    assert run.job.status == "failed" and run.job.error == run.error
    assert not ModelVersion.objects.filter(training_run=run).exists()
    assert run.snapshot.rows.count() == run.snapshot.row_count > 0
    assert not (model_dir / "runs" / f"run-{run.pk}").exists()
    assert model_version_active() == broken


def test_cancelling_a_queued_run_stops_it_before_it_starts(
    writer, admin_user, causal_version, django_capture_on_commit_callbacks
):
    decided_rounds(writer, 2)
    run = start(admin_user, django_capture_on_commit_callbacks)
    training_run_cancel(run=run, user=admin_user)
    training_run_execute(run_id=run.pk)  # the task arrives later: it finds the run cancelled
    run.refresh_from_db()
    assert run.status == "cancelled" and run.step == 0
    assert "Cancelled by" in run.job.error
    with pytest.raises(TrainingRequestError, match="nothing to cancel"):
        training_run_cancel(run=run, user=admin_user)


def test_a_run_left_running_by_a_dead_worker_is_marked_failed(
    writer, admin_user, causal_version, django_capture_on_commit_callbacks
):
    decided_rounds(writer, 2)
    run = start(admin_user, django_capture_on_commit_callbacks)
    TrainingRun.objects.filter(pk=run.pk).update(status="running", step=2, total_steps=9)
    # While another session (a live worker) holds the run's lock, it is left alone...
    with advisory_lock_elsewhere(RUN_LOCK, run.pk):
        assert training_runs_fail_abandoned() == 0
        training_run_execute(run_id=run.pk)  # a redelivered task skips it too
        run.refresh_from_db()
        assert run.status == "running"
    # ...and once that session is gone, the run is failed, saying where it stopped.
    assert training_runs_fail_abandoned() == 1
    run.refresh_from_db()
    assert run.status == "failed" and "stopped (killed or crashed) at step 2 of 9" in run.error
    assert run.job.status == "failed"


def test_a_redelivered_task_fails_the_run_its_dead_worker_left(
    writer, admin_user, causal_version, django_capture_on_commit_callbacks
):
    decided_rounds(writer, 2)
    run = start(admin_user, django_capture_on_commit_callbacks)
    TrainingRun.objects.filter(pk=run.pk).update(status="running")
    training_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "failed" and "killed or crashed" in run.error
    assert not ModelVersion.objects.filter(training_run=run).exists()


def test_the_policy_starts_a_run_after_enough_new_decisions(
    writer, admin_user, causal_version, django_capture_on_commit_callbacks
):
    project = ProjectFactory()
    project.members.add(writer)
    decided_rounds(writer, 1, project=project)  # before the policy: not counted
    retrain_policy_save(
        project=project, user=admin_user, enabled=True, after_decisions=4, method="dpo", promote_if_better=True
    )
    decided_rounds(writer, 1, project=project)
    assert retrain_policy_check(project_id=project.pk) is None  # 2 new decisions < 4
    decided_rounds(writer, 1, project=project)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = retrain_policy_check(project_id=project.pk)
    assert run is not None and len(callbacks) == 1
    assert (run.method, run.trigger, run.promote_if_better, run.project, run.created_by) == (
        "dpo",
        "policy",
        True,
        project,
        None,
    )
    assert run.snapshot.project == project and run.snapshot.row_count == 6
    policy = RetrainPolicy.objects.get(project=project)
    assert (policy.decisions_at_last_run, policy.last_run) == (6, run)
    assert retrain_policy_check(project_id=project.pk) is None  # nothing new since


def test_settings_are_converted_to_their_types_or_refused_by_name(
    writer, admin_user, causal_version, django_capture_on_commit_callbacks
):
    decided_rounds(writer, 2)
    run = start(
        admin_user,
        django_capture_on_commit_callbacks,
        settings_overrides={"batch_size": "8", "max_steps": 4.0, "learning_rate": "0.001"},
    )
    assert (
        run.hyperparameters["batch_size"],
        run.hyperparameters["max_steps"],
        run.hyperparameters["learning_rate"],
    ) == (8, 4, 0.001)
    for bad, message in [
        ({"batch_size": True}, "batch_size must be a whole number"),
        ({"max_steps": 2.5}, "max_steps must be a whole number"),
        ({"learning_rate": "fast"}, "learning_rate must be a number"),
    ]:
        with pytest.raises(TrainingRequestError, match=message):
            training_run_start(user=admin_user, method="sft", settings_overrides=bad)
    assert TrainingRun.objects.count() == 1
