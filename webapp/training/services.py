"""Evaluation of a version on a snapshot, and the comparison that decides "better". Evaluation
runs on a worker (it loads models). Runs are in runs.py, the projects' retrain policies in
policies.py; which version is active, and promotion and rollback, are the registry's.
"""

import logging
import time

from django.conf import settings

from webapp.registry.models import ModelVersion
from webapp.training.models import DatasetSnapshot, Evaluation, SnapshotRow

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
            ReplayCase(
                r.meta["instruction_text"],
                r.meta["sentence"],
                [tuple(e) for e in r.meta["accepted"]],
                [tuple(e) for e in r.meta["rejected"]],
            )
            for r in rows
            if r.source == "writing" and "sentence" in r.meta
        ]
        if cases:
            editor = load_editor_cached(version.base_model, version.adapter_path or None)
            replay = replay_decisions(
                editor,
                cases,
                GenerationSettings(
                    batch_size=settings.REDLINE_GENERATION_BATCH_SIZE, lexicon_guard=settings.REDLINE_LEXICON_GUARD
                ),
            )
            samples = replay.pop("samples")
            metrics.update(replay)
    evaluation, _ = Evaluation.objects.update_or_create(
        version=version,
        snapshot=snapshot,
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
