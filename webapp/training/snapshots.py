"""Dataset snapshots: the frozen rows a training run uses (writes and the reads that need them).

A snapshot calls the dataset builders it is asked for with one cutoff time, splits the rows
into train and held-out by a hash of each row's source and prompt (the same sentence is always
on the same side, so duplicates never leak across), stores every row and a SHA-256 of them all.
Rebuilding with the same filters and cutoff gives the same rows and hash.
"""

import hashlib
import json
from datetime import datetime
from typing import Iterable, Iterator

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from webapp.registry.datasets import DatasetFilters, DatasetRow, dataset_builders, dataset_rows
from webapp.training.errors import TrainingRequestError
from webapp.training.models import DatasetSnapshot, SnapshotRow

MAX_HELD_OUT_PERCENT = 50
# Below this many rows a hash split may leave the held-out side empty; then the row whose hash
# is lowest is held out anyway, so that there is always something to evaluate on.
MIN_ROWS_FOR_FORCED_HOLD_OUT = 5


def _row_hash(row: DatasetRow) -> int:
    digest = hashlib.sha256(f"{row.source}\x00{row.prompt}".encode("utf-8")).hexdigest()
    return int(digest[:12], 16)


def _filters(*, cutoff: datetime, project=None, since: datetime | None = None) -> DatasetFilters:
    return DatasetFilters(cutoff=cutoff, project_id=project.pk if project is not None else None, since=since)


def _check_sources(sources: Iterable[str]) -> list[str]:
    sources = list(dict.fromkeys(sources))
    known = dataset_builders()
    unknown = [s for s in sources if s not in known]
    if not sources:
        raise TrainingRequestError("Choose at least one source of feedback to train on.")
    if unknown:
        raise TrainingRequestError(f"Unknown source {unknown[0]!r}; choose from: {', '.join(known)}.")
    return sources


def split_rows(rows: list[DatasetRow], held_out_percent: int) -> list[tuple[str, DatasetRow]]:
    """(split, row) in the builders' order."""
    held = [_row_hash(r) % 100 < held_out_percent for r in rows]
    if held_out_percent and not any(held) and len(rows) >= MIN_ROWS_FOR_FORCED_HOLD_OUT:
        lowest = min(_row_hash(r) for r in rows)
        held = [_row_hash(r) == lowest for r in rows]
    return [(SnapshotRow.Split.HELD_OUT if h else SnapshotRow.Split.TRAIN, r) for h, r in zip(held, rows)]


def content_hash(rows: Iterable[tuple[str, DatasetRow]]) -> str:
    """SHA-256 over every row, in order, as canonical JSON lines."""
    digest = hashlib.sha256()
    for split, row in rows:
        line = json.dumps(
            [split, row.source, row.prompt, row.chosen, row.rejected, row.meta], sort_keys=True, ensure_ascii=False
        )
        digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()


def build_rows(
    *, sources: Iterable[str], filters: DatasetFilters, held_out_percent: int
) -> list[tuple[str, DatasetRow]]:
    rows: list[DatasetRow] = []
    for source in _check_sources(sources):
        rows.extend(dataset_rows(source, filters))
    return split_rows(rows, held_out_percent)


def _counts(rows: list[tuple[str, DatasetRow]]) -> dict:
    counts: dict[str, dict[str, int]] = {}
    for split, row in rows:
        entry = counts.setdefault(row.source, {"train": 0, "held_out": 0, "pairs": 0})
        entry[split] += 1
        entry["pairs"] += row.is_pair
    return counts


def snapshot_preview(
    *, sources: Iterable[str], project=None, since: datetime | None = None, held_out_percent: int = 10
) -> dict:
    """What a snapshot made now would hold, per source: rows for training, held out, and pairs."""
    rows = build_rows(
        sources=sources,
        filters=_filters(cutoff=timezone.now(), project=project, since=since),
        held_out_percent=held_out_percent,
    )
    return {"counts": _counts(rows), "rows": len(rows), "pairs": sum(r.is_pair for _, r in rows)}


@transaction.atomic
def snapshot_create(
    *,
    user,
    sources: Iterable[str],
    project=None,
    since: datetime | None = None,
    held_out_percent: int = 10,
    cutoff: datetime | None = None,
) -> DatasetSnapshot:
    """Freeze the rows the builders give now (or as of `cutoff`). An empty result is an error:
    a run on no data would only fail later."""
    if not 0 <= held_out_percent <= MAX_HELD_OUT_PERCENT:
        raise TrainingRequestError(f"The held-out share must be between 0 and {MAX_HELD_OUT_PERCENT}%.")
    sources = _check_sources(sources)
    cutoff = cutoff or timezone.now()
    rows = build_rows(
        sources=sources,
        filters=_filters(cutoff=cutoff, project=project, since=since),
        held_out_percent=held_out_percent,
    )
    if not rows:
        raise TrainingRequestError(
            "There is no feedback to train on yet: no accepted or rejected proposals match these sources and filters."
        )
    snapshot = DatasetSnapshot.objects.create(
        created_by=user,
        sources=sources,
        project=project,
        since=since,
        cutoff=cutoff,
        held_out_percent=held_out_percent,
        counts=_counts(rows),
        row_count=len(rows),
        held_out_count=sum(split == SnapshotRow.Split.HELD_OUT for split, _ in rows),
        content_hash=content_hash(rows),
    )
    SnapshotRow.objects.bulk_create(
        SnapshotRow(
            snapshot=snapshot,
            position=i,
            split=split,
            source=row.source,
            prompt=row.prompt,
            chosen=row.chosen,
            rejected=row.rejected,
            meta=row.meta,
        )
        for i, (split, row) in enumerate(rows)
    )
    return snapshot


def snapshot_pairs(snapshot: DatasetSnapshot):
    """The snapshot's rows with a rejected side that differs from the chosen one (DatasetRow.is_pair)."""
    return SnapshotRow.objects.filter(snapshot=snapshot).exclude(rejected="").exclude(rejected=F("chosen"))


def snapshot_rows(snapshot: DatasetSnapshot, split: str | None = None) -> list[tuple[str, DatasetRow]]:
    """The stored rows, in order, as (split, row)."""
    queryset = SnapshotRow.objects.filter(snapshot=snapshot).order_by("position")
    if split is not None:
        queryset = queryset.filter(split=split)
    return [
        (r.split, DatasetRow(source=r.source, prompt=r.prompt, chosen=r.chosen, rejected=r.rejected, meta=r.meta))
        for r in queryset.iterator(chunk_size=2000)
    ]


def snapshot_rebuild(snapshot: DatasetSnapshot) -> list[tuple[str, DatasetRow]]:
    """The rows the snapshot's builders give today for its filters and cutoff."""
    filters = DatasetFilters(cutoff=snapshot.cutoff, project_id=snapshot.project_id, since=snapshot.since)
    return build_rows(sources=snapshot.sources, filters=filters, held_out_percent=snapshot.held_out_percent)


def snapshot_export_jsonl(snapshot: DatasetSnapshot) -> Iterator[str]:
    """The snapshot as JSON lines (TRL's prompt/chosen/rejected columns plus split, source and meta)."""
    for position, (split, row) in enumerate(snapshot_rows(snapshot)):
        record = {
            "position": position,
            "split": split,
            "source": row.source,
            "prompt": row.prompt,
            "chosen": row.chosen,
            "rejected": row.rejected,
            "meta": row.meta,
        }
        yield json.dumps(record, ensure_ascii=False) + "\n"
