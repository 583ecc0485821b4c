"""Writes of the model registry: the active version, promotion, rollback, evaluation, policies.

Promotion and rollback change which editor is active; each is a VersionEvent row, so the
history of what was active when is never lost. Evaluation runs on a worker (it loads models).
"""

import logging
import time

from django.conf import settings
from django.db import transaction

from webapp.training.errors import TrainingRequestError
from webapp.training.models import (
    DatasetSnapshot,
    Evaluation,
    ModelVersion,
    RetrainPolicy,
    SnapshotRow,
    TrainingRun,
    VersionEvent,
)

logger = logging.getLogger(__name__)

# Which evaluation figure decides "better", in order of preference: the first one both versions have.
COMPARISON_METRICS = ("predicted_acceptance", "preference_accuracy", "reward_accuracy")


def default_model(kind: str) -> str:
    """The model a new install starts with for `kind`: REDLINE_MODEL or REDLINE_CODE_MODEL."""
    return settings.REDLINE_CODE_MODEL if kind == ModelVersion.Kind.CODER else settings.REDLINE_DEFAULT_MODEL


@transaction.atomic
def model_version_active(kind: str = ModelVersion.Kind.EDITOR) -> ModelVersion:
    """The active version of `kind` (editor or coder); on a new install, one for the configured model."""
    active = ModelVersion.objects.filter(is_active=True, kind=kind).first()
    if active is not None:
        return active
    name = "default" if kind == ModelVersion.Kind.EDITOR else f"default {kind}"
    version, _ = ModelVersion.objects.get_or_create(name=name, defaults={"base_model": default_model(kind), "kind": kind})
    ModelVersion.objects.filter(pk=version.pk).update(is_active=True)
    version.is_active = True
    return version


# A version made from REDLINE_MODEL / REDLINE_CODE_MODEL (model_version_configured) is named with this prefix.
CONFIGURED_PREFIX = "configured: "


@transaction.atomic
def model_version_configured(kind: str = ModelVersion.Kind.EDITOR) -> tuple[ModelVersion, str]:
    """Make the configured model of `kind` the active version, unless an admin (or a policy)
    promoted another one: then that one stays. Returns the active version and what happened.
    Existing versions are never changed in place."""
    configured = default_model(kind)
    active = model_version_active(kind)  # on a new install this creates the default from the setting
    if active.base_model == configured and not active.adapter_path:
        return active, "active"
    chosen_by_hand = not active.name.startswith(("default", CONFIGURED_PREFIX))
    if chosen_by_hand or VersionEvent.objects.filter(version=active).exists():
        return active, f"kept (promoted); the configured {configured} is not used"
    prefix = CONFIGURED_PREFIX if kind == ModelVersion.Kind.EDITOR else f"{CONFIGURED_PREFIX}{kind} "
    version, _ = ModelVersion.objects.get_or_create(name=(prefix + configured)[:200], defaults={"base_model": configured, "kind": kind})
    return model_version_activate(version=version), "activated from the configuration"


@transaction.atomic
def model_version_activate(*, version: ModelVersion) -> ModelVersion:
    """Make `version` the one that new proposals of its kind come from (no event; see model_version_promote)."""
    if version.kind not in ModelVersion.PROPOSING:
        raise TrainingRequestError("A reward model scores proposals; it cannot make them. Promote an editor or a coder.")
    ModelVersion.objects.select_for_update().filter(is_active=True, kind=version.kind).exclude(pk=version.pk).update(is_active=False)
    ModelVersion.objects.filter(pk=version.pk).update(is_active=True)
    version.is_active = True
    return version


@transaction.atomic
def model_version_promote(*, version: ModelVersion, user=None, reason: str = "") -> VersionEvent:
    """Make `version` active for its kind and record who did it and why (user None: a policy)."""
    previous = ModelVersion.objects.select_for_update().filter(is_active=True, kind=version.kind).first()
    if previous is not None and previous.pk == version.pk:
        raise TrainingRequestError(f"{version.name} is already the active version.")
    model_version_activate(version=version)
    return VersionEvent.objects.create(
        action=VersionEvent.Action.PROMOTE, version=version, previous=previous, by=user, reason=reason
    )


@transaction.atomic
def model_version_rollback(*, user=None, kind: str = ModelVersion.Kind.EDITOR) -> VersionEvent:
    """Undo the promotion that made the active version of `kind` active: the version active
    before it becomes active again. Rolling back again goes one promotion further back."""
    active = ModelVersion.objects.select_for_update().filter(is_active=True, kind=kind).first()
    promotion = (
        VersionEvent.objects.filter(action=VersionEvent.Action.PROMOTE, version=active, previous__isnull=False)
        .select_related("previous")
        .order_by("-at", "-id")
        .first()
        if active is not None
        else None
    )
    if promotion is None:
        raise TrainingRequestError("There is nothing to roll back to: the active version was never promoted over another.")
    model_version_activate(version=promotion.previous)
    return VersionEvent.objects.create(
        action=VersionEvent.Action.ROLLBACK,
        version=promotion.previous,
        previous=active,
        by=user,
        reason=f"rolled back from {active.name}",
    )


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
