"""Training rows from preference labels (a dataset builder, see webapp.registry.datasets).

One row per comparison whose labels, as they stood at the cutoff, have a single majority
preference (webapp.preferences.pairs): the prompt, the preferred output as `chosen` and the
other (for 3+ outputs: the worst ranked) as `rejected`. Labels change in place, so the state
at the cutoff is rebuilt from LabelChange history: the latest change per (comparison,
annotator) up to the cutoff, an "undone" one meaning no label. With `since`, a comparison is
included when one of those latest changes is after it. An admin's resolution as it stood at the cutoff
(the latest Resolution row by then; an empty one is a cleared resolution) overrides the majority
(pairs.comparison_pair).
"""

from collections.abc import Iterator
from itertools import groupby

from django.db.models import Prefetch

from webapp.preferences.models import (
    Comparison,
    ComparisonOutput,
    LabelChange,
    Resolution,
)
from webapp.preferences.pairs import Vote, comparison_pair
from webapp.registry.datasets import DatasetFilters, DatasetRow

SOURCE = "preferences"
CHUNK = 500


def _labels_at_cutoff(filters: DatasetFilters) -> dict[int, list[Vote]]:
    changes = LabelChange.objects.filter(at__lte=filters.cutoff)
    if filters.project_id is not None:
        changes = changes.filter(comparison__project_id=filters.project_id)
    latest = (
        changes.order_by("comparison_id", "annotator_id", "-at", "-id")
        .distinct("comparison_id", "annotator_id")
        .values_list("comparison_id", "action", "choice", "ranking", "at")
    )
    votes: dict[int, list[Vote]] = {}
    for comparison_id, rows in groupby(latest.iterator(chunk_size=2000), key=lambda r: r[0]):
        rows = list(rows)
        if filters.since is not None and not any(at > filters.since for *_, at in rows):
            continue
        live = [Vote(choice, ranking) for _, action, choice, ranking, _ in rows if action != LabelChange.Action.UNDONE]
        if live:
            votes[comparison_id] = live
    return votes


def _resolutions_at_cutoff(ids: list[int], filters: DatasetFilters) -> dict[int, Vote]:
    latest = (
        Resolution.objects.filter(comparison_id__in=ids, at__lte=filters.cutoff)
        .order_by("comparison_id", "-at", "-id")
        .distinct("comparison_id")
        .values_list("comparison_id", "choice", "ranking")
    )
    return {comparison_id: Vote(choice, ranking) for comparison_id, choice, ranking in latest}


def preference_rows(filters: DatasetFilters) -> Iterator[DatasetRow]:
    votes = _labels_at_cutoff(filters)
    ids = sorted(votes)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        comparisons = (
            Comparison.objects.filter(pk__in=chunk)
            .order_by("pk")
            .prefetch_related(Prefetch("outputs", queryset=ComparisonOutput.objects.order_by("index")))
        )
        resolutions = _resolutions_at_cutoff(chunk, filters)
        for comparison in comparisons:
            outputs = list(comparison.outputs.all())
            pair = comparison_pair(len(outputs), votes[comparison.pk], resolutions.get(comparison.pk))
            if pair is None:
                continue
            chosen, rejected = outputs[pair.chosen], outputs[pair.rejected]
            yield DatasetRow(
                SOURCE,
                comparison.prompt,
                chosen.text,
                rejected.text,
                {
                    "comparison": comparison.pk,
                    "project": comparison.project_id,
                    "origin": comparison.origin,
                    "is_gold": comparison.is_gold,
                    "labels": pair.labels,
                    "agreement": round(pair.agreement, 6),
                    "resolved": pair.resolved,
                    "chosen_source": chosen.source,
                    "rejected_source": rejected.source,
                    "chosen_model_version": chosen.model_version_id,
                    "rejected_model_version": rejected.model_version_id,
                },
            )
