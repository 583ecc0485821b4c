"""Reads of the model registry and the retraining loop (admin screens and API)."""

from collections import defaultdict

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from webapp.registry.models import ModelVersion, VersionEvent
from webapp.training.models import DatasetSnapshot, Evaluation, SnapshotRow, TrainingPoint, TrainingRun

LOSS = "loss"


def runs_recent(limit: int | None = 50) -> QuerySet[TrainingRun]:
    return TrainingRun.objects.select_related("base_version", "snapshot", "created_by", "version", "job")[:limit]


def run_get(pk: int) -> TrainingRun:
    return get_object_or_404(
        TrainingRun.objects.select_related("base_version", "snapshot", "created_by", "job", "project"), pk=pk
    )


def run_version(run: TrainingRun) -> ModelVersion | None:
    return ModelVersion.objects.filter(training_run=run).first()


def version_run(version: ModelVersion) -> TrainingRun | None:
    """The run that made the version (None for a configured or imported one); no query after
    versions_with_evaluations, which joins it."""
    try:
        return version.training_run
    except TrainingRun.DoesNotExist:
        return None


def run_series(run: TrainingRun) -> dict[str, list[tuple[int, float]]]:
    """Every logged value of the run by name, as (step, value) in step order."""
    series: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for step, name, value in (
        TrainingPoint.objects.filter(run=run).order_by("step").values_list("step", "name", "value")
    ):
        series[name].append((step, value))
    return dict(series)


def snapshot_get(pk: int) -> DatasetSnapshot:
    return get_object_or_404(DatasetSnapshot.objects.select_related("created_by", "project"), pk=pk)


def snapshot_rows_page(
    snapshot: DatasetSnapshot, *, split: str | None, offset: int, limit: int
) -> QuerySet[SnapshotRow]:
    rows = SnapshotRow.objects.filter(snapshot=snapshot)
    if split:
        rows = rows.filter(split=split)
    return rows.order_by("position")[offset : offset + limit]


def snapshots_recent(limit: int = 20) -> QuerySet[DatasetSnapshot]:
    return DatasetSnapshot.objects.select_related("created_by", "project")[:limit]


def versions_with_evaluations() -> QuerySet[ModelVersion]:
    """Every version, newest first, with `.evaluation_list` (newest first) and the run that made it."""
    return ModelVersion.objects.select_related("parent", "training_run").prefetch_related(
        Prefetch(
            "evaluations",
            queryset=Evaluation.objects.select_related("snapshot").order_by("-created_at"),
            to_attr="evaluation_list",
        )
    )


def version_get(pk: int) -> ModelVersion:
    return get_object_or_404(versions_with_evaluations(), pk=pk)


def version_lineage(version: ModelVersion) -> list[ModelVersion]:
    """The version, its parent, its parent's parent... (oldest last)."""
    chain, seen = [], set()
    current = version
    while current is not None and current.pk not in seen:
        chain.append(current)
        seen.add(current.pk)
        current = (
            ModelVersion.objects.select_related("parent").filter(pk=current.parent_id).first()
            if current.parent_id
            else None
        )
    return chain


def version_events(limit: int = 30) -> QuerySet[VersionEvent]:
    return VersionEvent.objects.select_related("version", "previous", "by")[:limit]


def latest_metrics(version: ModelVersion) -> dict:
    """The figures of the version's newest evaluation (versions_with_evaluations), or {}."""
    evaluations = getattr(version, "evaluation_list", None)
    if evaluations is None:
        evaluations = list(version.evaluations.order_by("-created_at")[:1])
    return evaluations[0].metrics if evaluations else {}


def shared_evaluations(a: ModelVersion, b: ModelVersion) -> list[tuple[Evaluation, Evaluation]]:
    """Pairs of evaluations of `a` and `b` on the same snapshot, newest snapshot first."""
    mine = {e.snapshot_id: e for e in Evaluation.objects.filter(version=a).select_related("snapshot")}
    theirs = {e.snapshot_id: e for e in Evaluation.objects.filter(version=b)}
    return [(mine[s], theirs[s]) for s in sorted(set(mine) & set(theirs), reverse=True)]
