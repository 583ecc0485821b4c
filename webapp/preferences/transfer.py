"""Import of comparisons (JSONL, CSV) and export of preference pairs (JSONL, Parquet).

Import formats, UTF-8:

- .jsonl: one JSON object a line, either ``{"prompt": ..., "responses": [...]}`` (2 to 10
  responses, each a string or ``{"text": ..., "source": ...}``; optional "gold_choice" for a
  pair or "gold_ranking" for more makes it a gold comparison) or TRL's
  ``{"prompt": ..., "chosen": ..., "rejected": ...}`` (optional "chosen_source",
  "rejected_source": what this app's export writes, so an export imports again). The order of
  chosen and rejected is shuffled per row so that A is not always the chosen one;
  meta.reference_choice records which it became (and with `as_gold`, it is the gold answer).
  Other keys are kept in the comparison's meta.
- .csv: a header with prompt, response_a, response_b and optionally response_c ... and
  source_a, source_b ...; empty trailing responses are left out.

The whole file is checked before anything is saved: a file with any bad row is refused with
the line and the problem (the first few), and nothing is created.

Export: one row per comparison whose labels have a single majority preference, or that an admin
resolved (the resolution wins over the majority, and passes the agreement filter) (pairs.py):
TRL's `prompt`, `chosen`, `rejected`, plus the metadata in EXPORT_SCHEMA. Streamed with
constant memory: comparisons are read with .iterator(chunk_size) and written as JSON lines or
as Parquet row groups (pyarrow's ParquetWriter), which `datasets.load_dataset("parquet", ...)` reads.
"""

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePath

from django.db import transaction
from django.db.models import Prefetch

from webapp.core import json_input
from webapp.preferences.errors import PreferenceError
from webapp.preferences.models import (
    Choice,
    Comparison,
    ComparisonOutput,
    PreferenceLabel,
)
from webapp.preferences.pairs import Vote, comparison_pair
from webapp.preferences.services import (
    ComparisonSpec,
    OutputSpec,
    _require_manager,
    comparison_spec_problem,
    comparisons_store,
    unbiased_order,
)

IMPORT_MAX_BYTES = 32 * 1024 * 1024
MAX_PROBLEMS_SHOWN = 5
EXPORT_CHUNK = 500
# Rows per Parquet row group: the writer keeps metadata for every group until the file closes, so
# small groups make memory grow with the export (500-row groups: +60 MiB at 1,000,000 pairs).
PARQUET_ROW_GROUP = 20_000
RESPONSE_COLUMN = re.compile(r"^response_([a-z])$")
TRL_KEYS = {"prompt", "chosen", "rejected", "chosen_source", "rejected_source"}
RESPONSES_KEYS = {"prompt", "responses", "gold_choice", "gold_ranking"}


# ---------------------------------------------------------------------------------------------
# Import


def _decode(filename: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PreferenceError(f"{filename} is not UTF-8 text (byte {exc.start:,}); nothing was imported.") from exc


def _jsonl_spec(row, as_gold: bool) -> ComparisonSpec | str:
    """The comparison of one JSONL row, or what is wrong with it."""
    if not isinstance(row, dict):
        return f"expected a JSON object, found {type(row).__name__}"
    if not isinstance(row.get("prompt"), str):
        return "'prompt' is missing or not a string (conversational rows are not supported)"
    if "responses" in row:
        responses = row["responses"]
        if not isinstance(responses, list):
            return "'responses' must be a list"
        outputs = []
        for i, response in enumerate(responses):
            if isinstance(response, str):
                outputs.append(OutputSpec(response))
            elif (
                isinstance(response, dict)
                and isinstance(response.get("text"), str)
                and isinstance(response.get("source", ""), str)
            ):
                outputs.append(OutputSpec(response["text"], response.get("source", "")))
            else:
                return f"response {i + 1} must be a string or an object with a string 'text'"
        meta = {k: v for k, v in row.items() if k not in RESPONSES_KEYS}
        gold_ranking = row.get("gold_ranking")
        return ComparisonSpec(
            row["prompt"], outputs, meta, gold_choice=row.get("gold_choice") or "", gold_ranking=gold_ranking
        )
    if "chosen" in row or "rejected" in row:
        for key in ("chosen", "rejected"):
            if not isinstance(row.get(key), str):
                return f"'{key}' is missing or not a string"
        for key in ("chosen_source", "rejected_source"):
            if not isinstance(row.get(key, ""), str):
                return f"'{key}' must be a string"
        preferred = OutputSpec(row["chosen"], row.get("chosen_source", ""))
        other = OutputSpec(row["rejected"], row.get("rejected_source", ""))
        outputs, index = unbiased_order(
            [preferred, other], "\x00".join((row["prompt"], row["chosen"], row["rejected"]))
        )
        meta = {k: v for k, v in row.items() if k not in TRL_KEYS} | {"reference_choice": index}
        gold = (Choice.A_BETTER if index == 0 else Choice.B_BETTER) if as_gold else ""
        return ComparisonSpec(row["prompt"], outputs, meta, gold_choice=gold)
    return "needs 'responses' (a list of 2 or more) or 'chosen' and 'rejected'"


def _jsonl_specs(text: str, as_gold: bool):
    """(line number, spec or problem) for every non-blank line."""
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json_input.loads(line)
        except json.JSONDecodeError as exc:
            yield number, f"not valid JSON ({exc.msg} at column {exc.colno})"
            continue
        yield number, _jsonl_spec(row, as_gold)


def _csv_specs(text: str, as_gold: bool):
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        yield 1, f"not valid CSV ({exc})"
        return
    if header is None:
        return
    names = [h.strip().lower() for h in header]
    letters = sorted(m.group(1) for m in map(RESPONSE_COLUMN.match, names) if m)
    missing = [c for c in ("prompt", "response_a", "response_b") if c not in names]
    if missing:
        yield 1, f"the header needs the columns prompt, response_a and response_b; {', '.join(missing)} missing"
        return
    if len(letters) > 10:
        yield 1, "at most 10 response columns (response_a to response_j)"
        return
    if len(set(names)) != len(names):
        yield 1, "a column name appears twice in the header"
        return
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, f"not valid CSV ({exc})"
            return
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(names):
            yield reader.line_num, f"{len(values)} fields where the header has {len(names)}"
            continue
        row = dict(zip(names, values))
        present = [letter for letter in letters if row[f"response_{letter}"].strip()]
        gap = next(
            (
                letter
                for i, letter in enumerate(letters)
                if letter not in present and any(later in present for later in letters[i + 1 :])
            ),
            None,
        )
        if gap is not None and gap not in ("a", "b"):
            yield reader.line_num, f"response_{gap} is empty but a later response is given"
            continue
        outputs = [
            OutputSpec(row[f"response_{letter}"], row.get(f"source_{letter}", "").strip())
            for letter in letters
            if letter in ("a", "b") or letter in present
        ]
        meta = {
            k: v
            for k, v in row.items()
            if k != "prompt" and not k.startswith(("response_", "source_")) and k != "gold_choice"
        }
        yield (
            reader.line_num,
            ComparisonSpec(row["prompt"], outputs, meta, gold_choice=row.get("gold_choice", "").strip()),
        )


def comparisons_parse(filename: str, data: bytes, *, as_gold: bool = False) -> list[ComparisonSpec]:
    """Every comparison in the file, checked; PreferenceError naming the lines otherwise."""
    name = PurePath(filename or "upload").name
    if len(data) > IMPORT_MAX_BYTES:
        raise PreferenceError(f"{name} is larger than {IMPORT_MAX_BYTES:,} bytes; split it. Nothing was imported.")
    suffix = PurePath(name).suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        rows = _jsonl_specs(_decode(name, data), as_gold)
    elif suffix == ".csv":
        rows = _csv_specs(_decode(name, data), as_gold)
    else:
        raise PreferenceError(f"{name}: use a .jsonl or .csv file; nothing was imported.")
    specs, problems = [], []
    for line, spec in rows:
        problem = spec if isinstance(spec, str) else comparison_spec_problem(spec)
        if problem:
            problems.append(f"line {line}: {problem}")
        else:
            specs.append(spec)
    if problems:
        shown = "; ".join(problems[:MAX_PROBLEMS_SHOWN])
        more = f" (and {len(problems) - MAX_PROBLEMS_SHOWN} more)" if len(problems) > MAX_PROBLEMS_SHOWN else ""
        raise PreferenceError(f"{name}: nothing was imported. {shown}{more}.")
    if not specs:
        raise PreferenceError(f"{name} has no comparisons in it; nothing was imported.")
    return specs


@transaction.atomic
def comparisons_import(*, project, user, filename: str, data: bytes, as_gold: bool = False) -> list[Comparison]:
    """All the file's comparisons, or none (see the module docstring)."""
    _require_manager(user, project)
    specs = comparisons_parse(filename, data, as_gold=as_gold)
    return comparisons_store(project=project, user=user, origin=Comparison.Origin.IMPORT, specs=specs)


# ---------------------------------------------------------------------------------------------
# Export


@dataclass(frozen=True)
class ExportFilters:
    project_id: int
    since: datetime | None = None  # labels given or changed at or after this time
    until: datetime | None = None  # ... and before this one
    min_agreement: float = 0.0  # share of labels agreeing with the majority, 0..1
    exclude_gold: bool = False


def _export_schema():
    import pyarrow as pa

    return pa.schema(
        [
            ("prompt", pa.string()),
            ("chosen", pa.string()),
            ("rejected", pa.string()),
            ("comparison_id", pa.int64()),
            ("project_id", pa.int64()),
            ("origin", pa.string()),
            ("chosen_source", pa.string()),
            ("rejected_source", pa.string()),
            ("chosen_model_version", pa.string()),
            ("rejected_model_version", pa.string()),
            ("labels", pa.int64()),
            ("agreement", pa.float64()),
            ("strong_share", pa.float64()),
            ("is_gold", pa.bool_()),
            ("resolved", pa.bool_()),
            ("labelled_at", pa.string()),
        ]
    )


def _labels(filters: ExportFilters):
    labels = PreferenceLabel.objects.filter(comparison__project_id=filters.project_id)
    if filters.since is not None:
        labels = labels.filter(updated_at__gte=filters.since)
    if filters.until is not None:
        labels = labels.filter(updated_at__lt=filters.until)
    return labels


def preference_records(filters: ExportFilters) -> Iterator[dict]:
    """One dict per exported pair, in comparison order; reads comparisons in chunks."""
    labels = _labels(filters)
    comparisons = Comparison.objects.filter(project_id=filters.project_id, pk__in=labels.values("comparison_id"))
    if filters.exclude_gold:
        comparisons = comparisons.filter(is_gold=False)
    comparisons = comparisons.order_by("pk").prefetch_related(
        Prefetch("outputs", queryset=ComparisonOutput.objects.select_related("model_version").order_by("index")),
        Prefetch("labels", queryset=labels.only("comparison_id", "choice", "ranking", "updated_at").order_by("pk")),
    )
    for comparison in comparisons.iterator(chunk_size=EXPORT_CHUNK):
        outputs = list(comparison.outputs.all())
        given = list(comparison.labels.all())
        resolution = Vote(comparison.resolved_choice, comparison.resolved_ranking)
        pair = comparison_pair(len(outputs), [Vote(label.choice, label.ranking) for label in given], resolution)
        if pair is None or (pair.agreement < filters.min_agreement and not pair.resolved):
            continue
        chosen, rejected = outputs[pair.chosen], outputs[pair.rejected]
        yield {
            "prompt": comparison.prompt,
            "chosen": chosen.text,
            "rejected": rejected.text,
            "comparison_id": comparison.pk,
            "project_id": comparison.project_id,
            "origin": comparison.origin,
            "chosen_source": chosen.source,
            "rejected_source": rejected.source,
            "chosen_model_version": chosen.model_version.name if chosen.model_version else "",
            "rejected_model_version": rejected.model_version.name if rejected.model_version else "",
            "labels": pair.labels,
            "agreement": round(pair.agreement, 6),
            "strong_share": round(pair.strong, 6),
            "is_gold": comparison.is_gold,
            "resolved": pair.resolved,
            "labelled_at": max(label.updated_at for label in given).isoformat(),
        }


def labels_export_jsonl(filters: ExportFilters) -> Iterator[str]:
    """The pairs as JSON lines (TRL's preference columns first)."""
    for record in preference_records(filters):
        yield json.dumps(record, ensure_ascii=False) + "\n"


def labels_export_parquet(filters: ExportFilters, path: str | Path, *, chunk_size: int = PARQUET_ROW_GROUP) -> int:
    """Write the pairs to a Parquet file, one row group per chunk_size pairs; returns the number of rows.
    Load with datasets.load_dataset("parquet", data_files=str(path), split="train"). No pairs is
    an error (datasets cannot load an empty split), and then no file is left behind."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _export_schema()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written, chunk = 0, []
    with pq.ParquetWriter(str(path), schema) as writer:
        for record in preference_records(filters):
            chunk.append(record)
            if len(chunk) >= chunk_size:
                writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
                written, chunk = written + len(chunk), []
        if chunk:
            writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
            written += len(chunk)
    if not written:
        path.unlink(missing_ok=True)
        raise PreferenceError(
            "No labelled comparison with a single majority preference matches these filters; nothing was exported."
        )
    return written
