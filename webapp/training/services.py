"""Writes of the retraining loop besides runs: evaluation of a version on a snapshot, and
the projects' retrain policies. Evaluation runs on a worker (it loads models); which version is
active, and promotion and rollback, are the registry's (webapp.registry.services).
"""

import logging
import time

from django.conf import settings
from django.db import transaction

from webapp.registry.models import ModelVersion
from webapp.training.errors import TrainingRequestError
from webapp.training.models import DatasetSnapshot, Evaluation, RetrainPolicy, SnapshotRow, TrainingRun

logger = logging.getLogger(__name__)

# Which evaluation figure decides "better", in order of preference: the first one both versions have.
COMPARISON_METRICS = ("predicted_acceptance", "preference_accuracy", "reward_accuracy")


def _evaluation_rows(snapshot: DatasetSnapshot) -> list[SnapshotRow]:
    return list(SnapshotRow.objects.filter(snapshot=snapshot, split=SnapshotRow.Split.HELD_OUT).order_by("position"))


def model_version_evaluate(*, version: ModelVersion, snapshot: DatasetSnapshot) -> Evaluation:
    """Measure `version` on the snapshot's held-out rows (worker side: loads the model).
    Editors: preference accuracy on the pairs (how often the version gives the chosen output a
    higher log-probability than the rejected one) and the acceptance rate that replaying the
    held-out writing decisions predicts. Reward models: how often they score chosen above rejected."""
    from inference.editor import GenerationSettings, load_editor_cached
    from inference.replay import ReplayCase, replay_decisions
    from inference.training.common import ModelRef, PreferenceRow
    from inference.training.evaluate import preference_accuracy, reward_accuracy

    started = time.perf_counter()
    rows = _evaluation_rows(snapshot)
    ref = ModelRef(version.base_model, version.adapter_path or None)
    pairs = [row for row in (PreferenceRow(r.prompt, r.chosen, r.rejected) for r in rows) if row.is_pair]
    metrics: dict = {"held_out_rows": len(rows), "pairs": len(pairs)}
    samples: list = []
    if version.kind == ModelVersion.Kind.REWARD:
        if pairs:
            metrics.update(_prefixed("reward", reward_accuracy(ref, pairs)))
    else:
        if pairs:
            metrics.update(_prefixed("preference", preference_accuracy(ref, pairs)))
        cases = [
            ReplayCase(r.meta["instruction_text"], r.meta["sentence"], [tuple(e) for e in r.meta["accepted"]], [tuple(e) for e in r.meta["rejected"]])
            for r in rows
            if r.source == "writing" and "sentence" in r.meta
        ]
        if cases:
            editor = load_editor_cached(version.base_model, version.adapter_path or None)
            replay = replay_decisions(editor, cases, GenerationSettings(batch_size=settings.REDLINE_GENERATION_BATCH_SIZE,
                                                                        lexicon_guard=settings.REDLINE_LEXICON_GUARD))
            samples = replay.pop("samples")
            metrics.update(replay)
    evaluation, _ = Evaluation.objects.update_or_create(
        version=version, snapshot=snapshot,
        defaults={"metrics": metrics, "samples": samples, "seconds": round(time.perf_counter() - started, 2)},
    )
    return evaluation


def _prefixed(prefix: str, figures: dict) -> dict:
    """{"accuracy": .7, "n": 10} -> {"preference_accuracy": .7, "preference_n": 10}."""
    return {(k if k.startswith(prefix) else f"{prefix}_{k}"): v for k, v in figures.items()}


def evaluation_compare(new: Evaluation, old: Evaluation | None) -> tuple[bool, str]:
    """Whether `new` beats `old` on the first figure both have, and a sentence saying so."""
    if old is None:
        return False, "the active version has no evaluation on this snapshot to compare with"
    for metric in COMPARISON_METRICS:
        a, b = new.metrics.get(metric), old.metrics.get(metric)
        if a is not None and b is not None:
            verdict = "beats" if a > b else "does not beat"
            return a > b, f"{metric.replace('_', ' ')} {a:.3f} {verdict} the active version's {b:.3f}"
    return False, "no figure that both versions have on this snapshot"


@transaction.atomic
def retrain_policy_save(*, project, user, enabled: bool, after_decisions: int, method: str, promote_if_better: bool) -> RetrainPolicy:
    if after_decisions < 1:
        raise TrainingRequestError("Retrain after at least 1 new decision.")
    if method not in (TrainingRun.Method.SFT, TrainingRun.Method.DPO):
        raise TrainingRequestError("A policy retrains the editor with SFT or DPO.")
    policy, _ = RetrainPolicy.objects.select_for_update().get_or_create(project=project)
    if enabled and not policy.enabled:
        # Count from now: the decisions made before the policy was switched on do not trigger it at once.
        policy.decisions_at_last_run = project_decision_count(project_id=project.pk)
    policy.enabled, policy.after_decisions, policy.method = enabled, after_decisions, method
    policy.promote_if_better, policy.updated_by = promote_if_better, user
    policy.save()
    return policy


def project_decision_count(*, project_id: int) -> int:
    from webapp.writing.models import Decision

    return Decision.objects.filter(proposal__iteration__document__project_id=project_id).exclude(via="undo").count()


def retrain_policy_check(*, project_id: int) -> TrainingRun | None:
    """Start the project's retraining run if its policy is on, enough decisions came in since
    the last one, and none of its runs is still open. Safe to call often (tasks do, on commit)."""
    from webapp.training.runs import training_run_start

    with transaction.atomic():
        policy = RetrainPolicy.objects.select_for_update().filter(project_id=project_id, enabled=True).select_related("project").first()
        if policy is None:
            return None
        count = project_decision_count(project_id=project_id)
        if count - policy.decisions_at_last_run < policy.after_decisions:
            return None
        if TrainingRun.objects.filter(project_id=project_id, status__in=TrainingRun.OPEN).exists():
            return None
        try:
            run = training_run_start(
                user=None, method=policy.method, sources=["writing"], project=policy.project,
                promote_if_better=policy.promote_if_better, trigger="policy",
            )
        except TrainingRequestError as exc:
            logger.info("retrain policy of project %s did not start a run: %s", project_id, exc)
            return None
        policy.decisions_at_last_run, policy.last_run = count, run
        policy.save(update_fields=["decisions_at_last_run", "last_run", "updated_at"])
        return run
