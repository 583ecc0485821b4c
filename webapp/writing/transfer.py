"""Import and export of documents: plain text files, and R3/IteraTeR revision records.

A record is one revision of one document (one JSON object; a .jsonl file holds one a line,
a .json file one record or a list of them)::

    {"doc_id": "paper-17", "revision_depth": 1,
     "before_revision": "Teh cat sat.", "after_revision": "The cat sat.",
     "edit_actions": [{"type": "R", "before": "Teh", "after": "The", "start_char_pos": 0,
                       "end_char_pos": 3, "major_intent": "fluency", "accept_or_reject": "accept"}]}

Import rules:

- A record becomes a model iteration whose text_before is `before_revision` and whose
  proposals are its `edit_actions`; offsets are Python character offsets into
  `before_revision` and must match `before` exactly (null reads as "") without overlapping.
- `accept_or_reject` ("accept"/"accepted"/"reject"/"rejected", any case; null or "undecided"
  for none) becomes the proposal's current Decision (via="import", by the importing user).
  A record with decisions is applied: text_after is `before_revision` with the accepted edits
  applied (undecided ones count as rejected, as in services.iteration_apply). A record
  without decisions stays open for review. An explicit `"status": "review"|"applied"` (what
  the export writes) overrides that. A record without edit actions is applied at once, as a
  model round that proposes nothing is.
- Records with the same `doc_id` continue one document, in file order, with strictly
  increasing `revision_depth` (missing: one more than the previous). Only the last of them may
  stay open for review. Where a record's `before_revision` differs from the text the previous
  one left, a writer iteration records the change between them.
- `"source": "writer"` records (the export's hand edits) become writer iterations from
  `before_revision` to `after_revision`.
- Intents: IteraTeR's five names map to themselves ("_" or " " for "-" and any case accepted);
  "other"/"others" or none map to "clarity", the intent this app already gives edits whose
  purpose it does not know (the free instruction's). Any other name is an error, so that a typo
  does not silently turn into clarity.
- A JSON object without `before_revision` is a plain document: {"title"?, "text"}.

Everything from one file is saved in one transaction or not at all; error messages name the
file and the line (.jsonl) or record (.json).
"""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from inference.diffing import EditAction, EditConflict, apply_edits, check_edits
from inference.instructions import DEFAULT_INSTRUCTION, INSTRUCTIONS
from webapp.core import json_input
from webapp.registry.models import ModelVersion
from webapp.writing.errors import WritingError
from webapp.writing.models import Decision, Document, EditProposal, Intent, Iteration
from webapp.writing.services import document_create, text_clean, writer_iteration_add

IMPORT_MAX_BYTES = 64 * 1024 * 1024
IMPORTED_MODEL_VERSION = "imported"
FALLBACK_INTENT = Intent.CLARITY
EXPORT_BATCH_SIZE = 50

_PLAIN_SUFFIXES = (".txt", ".md")
_UNSPECIFIED_INTENTS = ("", "other", "others")
_VERDICTS = {
    "accept": Decision.Verdict.ACCEPT,
    "accepted": Decision.Verdict.ACCEPT,
    "reject": Decision.Verdict.REJECT,
    "rejected": Decision.Verdict.REJECT,
    "undecided": None,
    "": None,
}


@dataclass
class ImportResult:
    documents: list[Document] = field(default_factory=list)
    decisions: int = 0


@dataclass(frozen=True)
class _Action:
    edit: EditAction
    intent: str
    verdict: str | None
    score: float | None


@dataclass(frozen=True)
class _Record:
    where: str
    doc_id: str | None
    title: str
    source: str
    depth: int | None
    status: str | None
    before: str
    after: str | None
    model_output: str | None
    instruction: str
    instruction_text: str
    model_version: str | None
    actions: list[_Action]


@dataclass(frozen=True)
class _Plain:
    where: str
    title: str
    text: str


def _fail(where: str, message: str) -> WritingError:
    return WritingError(f"{where}: {message} Nothing was imported.")


def _rewrap(where: str, exc: WritingError) -> WritingError:
    message = str(exc)
    if "Nothing was" not in message:
        message += " Nothing was imported."
    return WritingError(f"{where}: {message}")


# ---------------------------------------------------------------------------------------------
# Import


@transaction.atomic
def documents_import(*, owner, filename: str, data: bytes, project=None) -> ImportResult:
    """Create documents (and, for R3 records, their iterations, proposals and decisions) from
    one uploaded file. Raises WritingError naming the file and line; then nothing is saved."""
    name = PurePath(filename).name or "upload"
    if len(data) > IMPORT_MAX_BYTES:
        raise WritingError(
            f"{name} has {len(data):,} bytes; the limit for one import is {IMPORT_MAX_BYTES:,}. "
            "Split it into smaller files. Nothing was imported."
        )
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise WritingError(
            f"{name} is not valid UTF-8 text (line {line}: byte "
            f"0x{data[exc.start]:02x} at offset {exc.start} cannot be decoded). "
            "Save it as UTF-8 and upload it again. Nothing was imported."
        ) from None
    suffix = PurePath(name).suffix.lower()
    result = ImportResult()
    if suffix in _PLAIN_SUFFIXES:
        try:
            result.documents.append(
                document_create(owner=owner, text=content, title=PurePath(name).stem, project=project)
            )
        except WritingError as exc:
            raise _rewrap(name, exc) from None
        return result
    if suffix == ".jsonl":
        entries = _entries_jsonl(name, content)
    elif suffix == ".json":
        entries = _entries_json(name, content)
    else:
        raise WritingError(f"{name}: unsupported file type; upload a .txt, .md, .jsonl or .json file.")
    if not entries:
        raise WritingError(f"{name} contains no documents. Nothing was imported.")
    for unit in _units(entries):
        if isinstance(unit, _Plain):
            try:
                document = document_create(owner=owner, text=unit.text, title=unit.title, project=project)
            except WritingError as exc:
                raise _rewrap(unit.where, exc) from None
            result.documents.append(document)
        else:
            document, decisions = _document_from_records(owner=owner, project=project, records=unit, filename=name)
            result.documents.append(document)
            result.decisions += decisions
    return result


def _entries_jsonl(name: str, content: str) -> list[_Record | _Plain]:
    entries = []
    # Split on "\n" only: str.splitlines() would also split inside strings holding U+2028 or
    # U+0085, which JSON (and our export) writes unescaped.
    for number, line in enumerate(content.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{name}, line {number}"
        try:
            obj = json_input.loads(line)
        except json.JSONDecodeError as exc:
            raise _fail(where, f"not valid JSON ({exc.msg} at column {exc.colno}).") from None
        entries.append(_entry(where, obj))
    return entries


def _entries_json(name: str, content: str) -> list[_Record | _Plain]:
    try:
        obj = json_input.loads(content)
    except json.JSONDecodeError as exc:
        raise WritingError(
            f"{name}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}). Nothing was imported."
        ) from None
    if isinstance(obj, list):
        return [_entry(f"{name}, record {i}", item) for i, item in enumerate(obj, start=1)]
    return [_entry(name, obj)]


def _entry(where: str, obj) -> _Record | _Plain:
    if not isinstance(obj, dict):
        raise _fail(where, "expected a JSON object.")
    if "before_revision" in obj:
        return _record(where, obj)
    if "text" in obj:
        text, title = obj["text"], obj.get("title") or ""
        if not isinstance(text, str) or not isinstance(title, str):
            raise _fail(where, '"text" and "title" must be strings.')
        return _Plain(where, title, text)
    raise _fail(
        where, 'expected a document {"text": ...} or an R3 record {"before_revision": ..., "edit_actions": [...]}.'
    )


def _optional_str(where: str, obj: dict, key: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise _fail(where, f'"{key}" must be a string.')
    return value


def _record(where: str, obj: dict) -> _Record:
    doc_id = obj.get("doc_id")
    if doc_id is not None:
        if isinstance(doc_id, bool) or not isinstance(doc_id, (str, int)):
            raise _fail(where, '"doc_id" must be a string or a number.')
        doc_id = str(doc_id)
        where = f"{where} (doc_id {doc_id!r})"
    before = obj["before_revision"]
    if not isinstance(before, str):
        raise _fail(where, '"before_revision" must be a string.')
    _text_check(where, "before_revision", before)
    depth = obj.get("revision_depth")
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth < 1):
        raise _fail(where, '"revision_depth" must be a whole number of at least 1.')
    source = obj.get("source") or Iteration.Source.MODEL
    if source not in Iteration.Source.values:
        raise _fail(where, f'"source" must be "model" or "writer", not {source!r}.')
    status = obj.get("status")
    if status is not None and status not in (Iteration.Status.REVIEW, Iteration.Status.APPLIED):
        raise _fail(where, f'"status" must be "review" or "applied", not {status!r}.')
    raw_actions = obj.get("edit_actions", [])
    if not isinstance(raw_actions, list):
        raise _fail(where, '"edit_actions" must be a list.')
    after = _optional_str(where, obj, "after_revision")
    if source == Iteration.Source.WRITER:
        if after is None or raw_actions:
            raise _fail(where, 'a "writer" record needs "after_revision" and no edit actions.')
        _text_check(where, "after_revision", after)
    actions = [_action(f"{where}, edit_actions[{i}]", a, before) for i, a in enumerate(raw_actions)]
    try:
        ordered = check_edits(before, [a.edit for a in actions])
    except EditConflict as exc:
        raise _fail(where, f"the edit actions overlap: {exc}.") from None
    by_edit = {a.edit: a for a in actions}
    return _Record(
        where=where,
        doc_id=doc_id,
        title=_optional_str(where, obj, "title") or doc_id or "",
        source=source,
        depth=depth,
        status=status,
        before=before,
        after=after,
        model_output=_optional_str(where, obj, "model_output"),
        instruction=_optional_str(where, obj, "instruction") or "",
        instruction_text=_optional_str(where, obj, "instruction_text") or "",
        model_version=_optional_str(where, obj, "model_version"),
        actions=[by_edit[e] for e in ordered],
    )


def _text_check(where: str, key: str, text: str) -> None:
    try:
        cleaned = text_clean(text)
    except WritingError as exc:
        raise _rewrap(f"{where}, {key}", exc) from None
    if cleaned != text:
        raise _fail(where, f"{key} has carriage returns; use \\n line endings, which the offsets must count.")


def _action(where: str, obj, text: str) -> _Action:
    if not isinstance(obj, dict):
        raise _fail(where, "expected a JSON object.")
    kind = obj.get("type")
    kind = kind.upper() if isinstance(kind, str) else kind
    if kind not in EditProposal.Type.values:
        raise _fail(where, f'"type" must be "A", "R" or "D", not {obj.get("type")!r}.')
    before, after = obj.get("before") or "", obj.get("after") or ""
    if not isinstance(before, str) or not isinstance(after, str):
        raise _fail(where, '"before" and "after" must be strings or null.')
    start, end = obj.get("start_char_pos"), obj.get("end_char_pos")
    if any(isinstance(p, bool) or not isinstance(p, int) for p in (start, end)):
        raise _fail(where, '"start_char_pos" and "end_char_pos" must be whole numbers.')
    if not 0 <= start <= end <= len(text):
        raise _fail(where, f"span {start}:{end} is outside before_revision (length {len(text)}).")
    if text[start:end] != before:
        raise _fail(where, f"before_revision[{start}:{end}] is {text[start:end]!r}, not {before!r}.")
    expected = "A" if not before else "D" if not after else "R"
    if before == after or kind != expected:
        raise _fail(where, f"type {kind} does not match before {before!r} and after {after!r}.")
    score = obj.get("score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))):
        raise _fail(where, '"score" must be a number.')
    return _Action(
        edit=EditAction(kind, start, end, before, after),
        intent=_intent(where, obj.get("major_intent")),
        verdict=_verdict(where, obj.get("accept_or_reject")),
        score=score,
    )


def _intent(where: str, raw) -> str:
    if raw is not None and not isinstance(raw, str):
        raise _fail(where, '"major_intent" must be a string.')
    name = (raw or "").strip().lower().replace("_", "-").replace(" ", "-")
    if name in Intent.values:
        return name
    if name in _UNSPECIFIED_INTENTS:
        return FALLBACK_INTENT
    known = ", ".join(Intent.values)
    raise _fail(where, f'unknown "major_intent" {raw!r}; use one of {known} (or "other").')


def _verdict(where: str, raw) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or raw.strip().lower() not in _VERDICTS:
        raise _fail(where, f'"accept_or_reject" must be "accept" or "reject", not {raw!r}.')
    return _VERDICTS[raw.strip().lower()]


def _units(entries: list[_Record | _Plain]) -> list[_Plain | list[_Record]]:
    """Plain documents, and records grouped by doc_id, in order of first appearance."""
    units: list[_Plain | list[_Record]] = []
    groups: dict[str, list[_Record]] = {}
    for entry in entries:
        if isinstance(entry, _Plain) or entry.doc_id is None:
            units.append(entry if isinstance(entry, _Plain) else [entry])
        elif entry.doc_id in groups:
            groups[entry.doc_id].append(entry)
        else:
            groups[entry.doc_id] = [entry]
            units.append(groups[entry.doc_id])
    return units


def _imported_model_version() -> ModelVersion:
    """The version that imported model iterations are attributed to (never active)."""
    version, _ = ModelVersion.objects.get_or_create(
        name=IMPORTED_MODEL_VERSION, defaults={"base_model": IMPORTED_MODEL_VERSION}
    )
    return version


def _instruction(record: _Record) -> tuple[str, str]:
    """(key, prompt): a known key keeps its prompt, any other text is a free instruction. None
    given: the default, so that 'apply and revise again' can continue an imported document."""
    if not record.instruction:
        return DEFAULT_INSTRUCTION, INSTRUCTIONS[DEFAULT_INSTRUCTION].prompt
    known = INSTRUCTIONS.get(record.instruction)
    if known is None:
        return "custom", record.instruction
    if known.key == "custom":
        return "custom", record.instruction_text
    return known.key, record.instruction_text or known.prompt


def _document_from_records(*, owner, project, records: list[_Record], filename: str) -> tuple[Document, int]:
    depths = [r.depth for r in records if r.depth is not None]
    try:
        document = document_create(
            owner=owner,
            text=records[0].before,
            title=records[0].title,
            project=project,
            max_depth=max([settings.REDLINE_MAX_DEPTH, *depths]),
        )
    except WritingError as exc:
        raise _rewrap(records[0].where, exc) from None
    version = _imported_model_version() if any(r.source == Iteration.Source.MODEL for r in records) else None
    number = model_depth = decisions = 0
    for position, record in enumerate(records):
        if record.before != document.current_text:
            number += 1
            writer_iteration_add(document=document, user=owner, text=record.before, number=number, depth=model_depth)
        if record.source == Iteration.Source.WRITER:
            if record.after != document.current_text:
                number += 1
                writer_iteration_add(document=document, user=owner, text=record.after, number=number, depth=model_depth)
            continue
        depth = record.depth if record.depth is not None else model_depth + 1
        if depth <= model_depth:
            raise _fail(
                record.where,
                f"revision_depth {depth} does not follow {model_depth}; list the revisions of a document in order.",
            )
        has_verdicts = any(a.verdict for a in record.actions)
        status = record.status or (Iteration.Status.APPLIED if has_verdicts else Iteration.Status.REVIEW)
        if not record.actions:
            status = Iteration.Status.APPLIED
        if status == Iteration.Status.REVIEW and position < len(records) - 1:
            raise _fail(
                record.where,
                "this revision stays open for review (its edits carry no accept_or_reject, or its status "
                'is "review"), but a later revision of the same document follows; only the last one can '
                "be left open.",
            )
        number += 1
        model_depth = depth
        decisions += _model_iteration(document, owner, number, depth, status, record, filename, version)
    Document.objects.filter(pk=document.pk).update(current_text=document.current_text)
    return document, decisions


def _model_iteration(
    document: Document,
    owner,
    number: int,
    depth: int,
    status: str,
    record: _Record,
    filename: str,
    version: ModelVersion,
) -> int:
    """Store one record as a model iteration with its proposals and decisions; returns how many
    decisions it created. Updates document.current_text in memory when the round is applied."""
    instruction, prompt = _instruction(record)
    model_output = record.model_output
    if model_output is None:
        model_output = record.after
    if model_output is None:
        model_output = apply_edits(record.before, [a.edit for a in record.actions])
    provenance = {"imported_from": filename}
    if record.doc_id is not None:
        provenance["doc_id"] = record.doc_id
    if record.model_version:
        provenance["model_version"] = record.model_version
    iteration = Iteration.objects.create(
        document=document,
        number=number,
        depth=depth,
        source=Iteration.Source.MODEL,
        status=status,
        instruction=instruction,
        instruction_text=prompt,
        text_before=record.before,
        model_output=model_output,
        model_version=version,
        generation_settings=provenance,
        created_by=owner,
    )
    proposals = EditProposal.objects.bulk_create(
        EditProposal(
            iteration=iteration,
            index=i,
            action=a.edit.action,
            start_char=a.edit.start,
            end_char=a.edit.end,
            before=a.edit.before,
            after=a.edit.after,
            intent=a.intent,
            score=a.score,
        )
        for i, a in enumerate(record.actions)
    )
    decisions = Decision.objects.bulk_create(
        Decision(proposal=p, verdict=a.verdict, decided_by=owner, via="import")
        for p, a in zip(proposals, record.actions)
        if a.verdict
    )
    if status == Iteration.Status.APPLIED:
        accepted = [a.edit for a in record.actions if a.verdict == Decision.Verdict.ACCEPT]
        iteration.text_after = apply_edits(record.before, accepted)
        iteration.applied_at = timezone.now()
        iteration.save(update_fields=["text_after", "applied_at"])
        document.current_text = iteration.text_after
    return len(decisions)


# ---------------------------------------------------------------------------------------------
# Export


def _export_prefetch() -> Prefetch:
    decisions = Decision.objects.select_related("decided_by").order_by("decided_at", "pk")
    proposals = EditProposal.objects.order_by("index").prefetch_related(Prefetch("decisions", queryset=decisions))
    iterations = (
        Iteration.objects.filter(status__in=(Iteration.Status.REVIEW, Iteration.Status.APPLIED))
        .select_related("model_version")
        .order_by("number")
        .prefetch_related(Prefetch("proposals", queryset=proposals))
    )
    return Prefetch("iterations", queryset=iterations, to_attr="exported_iterations")


def documents_export_jsonl(
    documents: QuerySet[Document] | Iterable[Document], *, batch_size: int = EXPORT_BATCH_SIZE
) -> Iterator[str]:
    """One JSON line per reviewed or applied iteration (oldest first), in the import schema.
    Queued, generating and failed rounds are left out; a document without any other becomes a
    plain {"doc_id", "title", "text"} line. Documents are read in batches of `batch_size` by
    primary key, four queries a batch, so a large export streams in constant memory."""
    if not isinstance(documents, QuerySet):
        documents = Document.objects.filter(pk__in=[d.pk for d in documents])
    documents = documents.order_by("pk").prefetch_related(_export_prefetch())
    last_pk = 0
    while True:
        batch = list(documents.filter(pk__gt=last_pk)[:batch_size])
        for document in batch:
            for record in _document_records(document):
                yield json.dumps(record, ensure_ascii=False) + "\n"
        if len(batch) < batch_size:
            return
        last_pk = batch[-1].pk


def _document_records(document: Document) -> Iterator[dict]:
    iterations = document.exported_iterations
    if not iterations:
        yield {"doc_id": str(document.pk), "title": document.title, "text": document.current_text}
        return
    for iteration in iterations:
        applied = iteration.status == Iteration.Status.APPLIED
        yield {
            "doc_id": str(document.pk),
            "title": document.title,
            "revision_depth": iteration.depth,
            "iteration": iteration.number,
            "source": iteration.source,
            "status": iteration.status,
            "instruction": iteration.instruction,
            "instruction_text": iteration.instruction_text,
            "model_version": iteration.model_version.name if iteration.model_version else None,
            "before_revision": iteration.text_before,
            "after_revision": iteration.text_after if applied else iteration.model_output,
            "model_output": iteration.model_output,
            "edit_actions": [_action_record(p) for p in iteration.proposals.all()],
        }


def _action_record(proposal: EditProposal) -> dict:
    history = list(proposal.decisions.all())
    current = next((d for d in history if d.is_current), None)
    verdict = current.verdict if current and current.verdict != Decision.Verdict.UNDECIDED else None
    return {
        "type": proposal.action,
        "before": proposal.before or None,
        "after": proposal.after or None,
        "start_char_pos": proposal.start_char,
        "end_char_pos": proposal.end_char,
        "major_intent": proposal.intent,
        "score": proposal.score,
        "accept_or_reject": verdict,
        "decisions": [
            {
                "verdict": d.verdict,
                "decided_by": d.decided_by.get_username(),
                "decided_at": d.decided_at.isoformat(),
                "via": d.via,
            }
            for d in history
        ],
    }
