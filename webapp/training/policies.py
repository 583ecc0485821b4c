"""A project's retrain policy: start a run after enough new decisions (webapp.registry.feedback
counts them; training listens for decisions_closed, see apps.py). The policy is locked before
the run it starts (the lock order in webapp.training.runs)."""

import logging

from django.db import transaction

from webapp.registry.feedback import project_decision_count
from webapp.training.errors import TrainingRequestError
from webapp.training.models import RetrainPolicy, TrainingRun
from webapp.training.runs import training_run_start

logger = logging.getLogger(__name__)


@transaction.atomic
def retrain_policy_save(
    *, project, user, enabled: bool, after_decisions: int, method: str, promote_if_better: bool
) -> RetrainPolicy:
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


def retrain_policy_check(*, project_id: int) -> TrainingRun | None:
    """Start the project's retraining run if its policy is on, enough decisions came in since
    the last one, and none of its runs is still open. Safe to call often (tasks do, on commit)."""
    with transaction.atomic():
        policy = (
            RetrainPolicy.objects.select_for_update()
            .filter(project_id=project_id, enabled=True)
            .select_related("project")
            .first()
        )
        if policy is None:
            return None
        count = project_decision_count(project_id=project_id)
        if count - policy.decisions_at_last_run < policy.after_decisions:
            return None
        if TrainingRun.objects.filter(project_id=project_id, status__in=TrainingRun.OPEN).exists():
            return None
        try:
            run = training_run_start(
                user=None,
                method=policy.method,
                sources=["writing"],
                project=policy.project,
                promote_if_better=policy.promote_if_better,
                trigger="policy",
            )
        except TrainingRequestError as exc:
            logger.info("retrain policy of project %s did not start a run: %s", project_id, exc)
            return None
        policy.decisions_at_last_run, policy.last_run = count, run
        policy.save(update_fields=["decisions_at_last_run", "last_run", "updated_at"])
        return run
