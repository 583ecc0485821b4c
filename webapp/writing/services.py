"""Writes of the writing loop: documents, iterations, decisions. Views and tasks call these.

Locks. A write that locks rows takes them in this order, and only in it, so that two writes
never wait for each other in a circle (a deadlock):

    document -> iteration -> proposal (by id) -> job

A write may skip a level but never goes back up one. Deciding one proposal locks its round
FOR SHARE, then the proposal: people deciding different edits of a round go on side by side,
while apply, accept/reject all and undo, which lock the round itself (FOR NO KEY UPDATE), wait
for every decision in flight and each decision for them. Each re-checks, holding the lock, that
the round is still in review; so a decision is either in the text that apply writes, or refused
with LoopConflict, never current on a round applied without it. Decisions are not locked
themselves: they are written only holding their proposal (one decision) or their round (all,
undo). The row locks are FOR NO KEY UPDATE (`select_for_update(no_key=True)`) or FOR SHARE,
which the foreign-key check of an insert (a KEY SHARE lock on the row it references) never
waits for, so inserts stay out of the order.
"""

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from inference.diffing import EditAction, apply_edits, edit_context_key
from inference.instructions import (
    DEFAULT_INSTRUCTION,
    UnknownInstruction,
    instruction_resolve,
)
from webapp.core.queue import send_on_commit
from webapp.core.services import job_create, job_finish, job_progress, job_start
from webapp.core.worker import claimed_job_run, error_text
from webapp.registry.feedback import decisions_closed
from webapp.registry.services import model_version_active
from webapp.writing import selectors
from webapp.writing.errors import DecisionConflict, LoopConflict, WritingError
from webapp.writing.models import Decision, Document, EditProposal, Iteration

logger = logging.getLogger(__name__)

TITLE_CHARS = 80


def text_clean(text: str) -> str:
    """Normalised document text, or WritingError saying what is wrong with it."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        raise WritingError("The text contains NUL characters; is it a binary file? Nothing was saved.")
    if not text.strip():
        raise WritingError("The document is empty. Paste or upload some text.")
    limit = settings.REDLINE_MAX_DOCUMENT_CHARS
    if len(text) > limit:
        raise WritingError(
            f"The document has {len(text):,} characters; the limit is {limit:,} "
            "(REDLINE_MAX_DOCUMENT_CHARS). Split it into smaller documents. Nothing was saved."
        )
    return text


def _title_from(text: str) -> str:
    first = next(line.strip() for line in text.splitlines() if line.strip())
    first = first.lstrip("#").strip() or "Untitled"
    return first if len(first) <= TITLE_CHARS else first[: TITLE_CHARS - 1] + "…"


def document_create(*, owner, text: str, title: str = "", project=None, max_depth: int | None = None) -> Document:
    text = text_clean(text)
    max_depth = settings.REDLINE_MAX_DEPTH if max_depth is None else max_depth
    if not 1 <= max_depth <= 50:
        raise WritingError("The maximum depth must be between 1 and 50.")
    if project is not None and not project.members.filter(pk=owner.pk).exists():
        raise WritingError("You are not a member of that project.")
    return Document.objects.create(
        owner=owner,
        project=project,
        title=(title.strip() or _title_from(text))[:300],
        original_text=text,
        current_text=text,
        max_depth=max_depth,
    )


def _last_iteration(document: Document) -> Iteration | None:
    return document.iterations.order_by("-number").first()


def _model_depth(document: Document) -> int:
    last_model = (
        document.iterations.filter(source=Iteration.Source.MODEL)
        .exclude(status=Iteration.Status.FAILED)
        .order_by("-number")
        .first()
    )
    return last_model.depth if last_model else 0


def _require_no_open_iteration(document: Document) -> None:
    if document.iterations.filter(status__in=Iteration.OPEN).exists():
        raise LoopConflict("A round of suggestions is already open for this document; finish it first.")


@transaction.atomic
def iteration_start(
    *, document: Document, user, instruction: str = DEFAULT_INSTRUCTION, custom_text: str = ""
) -> Iteration:
    """Queue a model round on the document's current text. The generation task is sent on commit."""
    document = Document.objects.select_for_update(no_key=True).get(pk=document.pk)
    try:
        chosen, prompt = instruction_resolve(instruction, custom_text)
    except UnknownInstruction as exc:
        raise WritingError(str(exc)) from None
    _require_no_open_iteration(document)
    depth = _model_depth(document) + 1
    if depth > document.max_depth:
        raise LoopConflict(f"The maximum depth ({document.max_depth}) is reached; the model will not revise again.")
    last = _last_iteration(document)
    job = job_create(kind="generate", user=user, message="Waiting for a worker")
    iteration = Iteration.objects.create(
        document=document,
        number=(last.number + 1) if last else 1,
        depth=depth,
        source=Iteration.Source.MODEL,
        instruction=chosen.key,
        instruction_text=prompt,
        text_before=document.current_text,
        model_version=model_version_active(),
        job=job,
        created_by=user,
    )
    from webapp.writing.tasks import generate_iteration

    send_on_commit(generate_iteration, iteration.pk)
    return iteration


def _rejected_keys(document: Document) -> set[tuple]:
    """Context keys of every edit the writer rejected in earlier rounds of this document."""
    rejected = EditProposal.objects.filter(
        iteration__document=document, decisions__is_current=True, decisions__verdict=Decision.Verdict.REJECT
    ).select_related("iteration")
    return {
        edit_context_key(p.iteration.text_before, EditAction(p.action, p.start_char, p.end_char, p.before, p.after))
        for p in rejected
    }


def iteration_generate(*, iteration_id: int) -> None:
    """Run the model for a queued iteration (worker side). Idempotent: a round that another
    live worker holds, or that is finished, is left alone; a round left "generating" by a
    worker that died is taken over. Failures are recorded on the iteration and its job."""
    claimed_job_run(
        lock="writing.iteration",
        key=iteration_id,
        claim=_iteration_claim,
        work=_iteration_revise,
        fail=lambda iteration, exc: _iteration_fail(iteration, error_text(exc)),
        store=lambda iteration, result: _iteration_store_revision(iteration, *result),
    )


def _iteration_revise(iteration: Iteration) -> tuple:
    memory = _writer_memory(iteration)
    revision, settings_used = _run_model(iteration, memory)
    return revision, settings_used, memory


@transaction.atomic
def _iteration_claim(iteration_id: int) -> Iteration | None:
    """Mark the round as generating. Call while holding its advisory lock: then a round
    already marked generating was left by a dead worker and is claimed again."""
    iteration = (
        Iteration.objects.select_for_update(of=("self",), no_key=True)
        .filter(pk=iteration_id, status__in=(Iteration.Status.QUEUED, Iteration.Status.GENERATING))
        .select_related("model_version", "document")
        .first()
    )
    if iteration is None:
        return None
    iteration.status = Iteration.Status.GENERATING
    iteration.generation_started_at = timezone.now()
    iteration.save(update_fields=["status", "generation_started_at"])
    if iteration.job_id:
        job_start(job_id=iteration.job_id, message="Loading the model")
    return iteration


@dataclass
class WriterMemory:
    """What the round knows of the writer's past decisions: per sentence of its text, the
    decisions on the most similar sentences they decided on before (inference.memory)."""

    matches: list = field(default_factory=list)  # per sentence: list[inference.memory.Match]
    error: str = ""
    preference: Any = None  # inference.preference_model.PreferenceModel of the writer, or None
    corrections: Any = None  # inference.corrections.CorrectionMemory of the writer, or None

    def keeps(self, sentence: str, start: int, end: int, after: str) -> bool:
        """Whether the writer's preference model would propose the edit (offsets in the sentence)."""
        if self.preference is None:
            return True
        return self.preference.keeps(sentence, start, end, after, settings.REDLINE_PREFERENCE_THRESHOLD)

    def decision_ids(self) -> list[int]:
        return sorted({m.decision.decision_id for per in self.matches for m in per})

    def avoid_for(self, sentence_index: int) -> set[tuple[str, str]]:
        from inference.memory import edits_to_avoid

        return edits_to_avoid(self.matches[sentence_index]) if sentence_index < len(self.matches) else set()


def _writer_memory(iteration: Iteration) -> WriterMemory:
    """The writer's past decisions on sentences like this round's. A failure here (the encoder
    cannot load, say) only costs the round its memory: it is recorded and generation goes on."""
    from inference.memory import retrieve
    from inference.sentences import sentence_spans

    user = iteration.created_by
    past = selectors.writer_past_decisions(user=user, exclude_iteration_id=iteration.pk)
    corrections = _writer_corrections(user, past)
    if not past:
        return WriterMemory(corrections=corrections)
    text = iteration.text_before
    preference = _writer_preference(past)
    try:
        matches = retrieve(past, [text[s:e] for s, e in sentence_spans(text)])
        return WriterMemory(matches, preference=preference, corrections=corrections)
    except Exception as exc:
        logger.warning("the writer's memory is unavailable for iteration %s: %s", iteration.pk, exc)
        return WriterMemory(error=f"{exc.__class__.__name__}: {exc}", preference=preference, corrections=corrections)


def _writer_corrections(user, past: list):
    """The respellings the writer typed by hand or accepted, less those they rejected
    (inference.corrections); None when switched off (REDLINE_WRITER_CORRECTIONS=0)."""
    if not settings.REDLINE_WRITER_CORRECTIONS:
        return None
    from inference.corrections import CorrectionMemory

    return CorrectionMemory.learn(
        selectors.writer_own_edits(user=user),
        accepted=[(d.before, d.after) for d in past if d.verdict == "accept"],
        rejected=[(d.before, d.after) for d in past if d.verdict == "reject"],
    )


def _writer_preference(past: list):
    """The writer's preference model (inference.preference_model), trained on their decisions
    now; None when switched off (REDLINE_PREFERENCE_MODEL=0)."""
    if not settings.REDLINE_PREFERENCE_MODEL:
        return None
    from inference.preference_model import DecidedEdit, PreferenceModel

    decided = [
        DecidedEdit(d.sentence, d.start, d.start + len(d.before), d.after, d.verdict == "accept")
        for d in past
        if d.start >= 0
    ]
    if settings.REDLINE_PREFERENCE_EMBEDDING:
        from inference.memory import minilm_embed

        try:
            return PreferenceModel.fit(decided, embed=minilm_embed)
        except Exception as exc:  # the encoder cannot load: the edit's own features still work
            logger.warning("the preference model goes without sentence embeddings: %s", exc)
    return PreferenceModel.fit(decided)


def _run_model(iteration: Iteration, memory: WriterMemory):
    from inference.editor import GenerationSettings, load_editor_cached
    from inference.instructions import INSTRUCTIONS
    from inference.memory import context_text
    from inference.revision import revise_document

    version = iteration.model_version
    editor = load_editor_cached(version.base_model, version.adapter_path or None)
    generation = GenerationSettings(
        batch_size=settings.REDLINE_GENERATION_BATCH_SIZE,
        lexicon_guard=settings.REDLINE_LEXICON_GUARD,
        word_list_fixes=settings.REDLINE_WORD_LIST_FIXES,
    )
    job_id = iteration.job_id

    def on_progress(done: int, total: int) -> None:
        if job_id:
            job_progress(job_id=job_id, done=done, total=total, message=f"Revised {done} of {total} sentences")

    intent = INSTRUCTIONS[iteration.instruction].intent
    prefixes = [context_text(m) for m in memory.matches] if version.reads_context and memory.matches else None
    revision = revise_document(
        editor,
        iteration.text_before,
        iteration.instruction_text,
        intent,
        generation,
        on_progress,
        prompt_prefixes=prefixes,
    )
    settings_used = generation.as_dict() | {
        "device": str(editor.device),
        "dtype": str(editor.dtype),
        "model": version.base_model,
        "memory": {"decisions": memory.decision_ids(), "in_prompt": prefixes is not None, "error": memory.error},
    }
    return revision, settings_used


def _sentence_index(spans: list[tuple[int, int]], start: int, end: int) -> int:
    return next((i for i, (s, e) in enumerate(spans) if s <= start and end <= e), -1)


HELD_BACK_SHOWN = 50


def _writer_would_want(text: str, spans: list[tuple[int, int]], edit, memory: WriterMemory) -> bool:
    i = _sentence_index(spans, edit.start, edit.end)
    if i < 0:
        return True
    start = spans[i][0]
    return memory.keeps(text[start : spans[i][1]], edit.start - start, edit.end - start, edit.after)


def edits_with_corrections(text: str, edits: list, memory: WriterMemory) -> list:
    """A revision's edits of `text` with the writer's own respellings added (inference.corrections)."""
    if not memory.corrections:
        return list(edits)
    from inference.corrections import with_corrections

    return with_corrections(list(edits), memory.corrections.corrections(text))


def edits_split_by_preference(text: str, edits: list, memory: WriterMemory) -> tuple[list, list]:
    """The edits of a revision of `text` that the writer's preference model would propose, and
    those it holds back; the writer's own respellings are always proposed."""
    from inference.corrections import CorrectionEdit
    from inference.sentences import sentence_spans

    spans = sentence_spans(text)
    kept, held_back = [], []
    for e in edits:
        wanted = isinstance(e, CorrectionEdit) or _writer_would_want(text, spans, e, memory)
        (kept if wanted else held_back).append(e)
    return kept, held_back


def writer_preference_memory(*, user) -> WriterMemory:
    """The writer's preference model and respellings from every decision and edit they made, for
    proposing to them outside a round (the flywheel's probe); no similar-sentence matches."""
    past = selectors.writer_past_decisions(user=user, exclude_iteration_id=None)
    preference = _writer_preference(past) if past else None
    return WriterMemory(preference=preference, corrections=_writer_corrections(user, past))


@transaction.atomic
def _iteration_store_revision(iteration: Iteration, revision, settings_used: dict, memory: WriterMemory) -> None:
    """Store the proposals, with the writer's own respellings, leaving out edits the writer
    rejected at the same place of this document before, and edits they rejected on similar
    sentences (and accepted on none)."""
    from inference.corrections import CorrectionEdit
    from inference.sentences import sentence_spans

    iteration = Iteration.objects.select_for_update(no_key=True).get(pk=iteration.pk)
    if iteration.status != Iteration.Status.GENERATING:
        return
    rejected = _rejected_keys(iteration.document)
    spans = sentence_spans(iteration.text_before)
    edits = edits_with_corrections(iteration.text_before, revision.edits, memory)
    not_rejected_here = [
        e
        for e in edits
        if edit_context_key(iteration.text_before, EditAction(e.action, e.start, e.end, e.before, e.after))
        not in rejected
    ]
    not_rejected_on_similar = [
        e
        for e in not_rejected_here
        if (e.before.strip(), e.after.strip()) not in memory.avoid_for(_sentence_index(spans, e.start, e.end))
    ]
    kept, held_back = edits_split_by_preference(iteration.text_before, not_rejected_on_similar, memory)
    settings_used = settings_used | {
        "dropped_as_rejected_on_similar": len(not_rejected_here) - len(not_rejected_on_similar),
        "held_back_by_preference": len(held_back),
        # Shown folded on the review page, so the writer sees what was not proposed to them.
        "held_back": [
            {"start": e.start, "end": e.end, "before": e.before, "after": e.after} for e in held_back[:HELD_BACK_SHOWN]
        ],
        "preference_decisions": memory.preference.decisions if memory.preference is not None else 0,
        "writer_corrections": sum(1 for e in kept if isinstance(e, CorrectionEdit)),
    }
    EditProposal.objects.bulk_create(
        EditProposal(
            iteration=iteration,
            index=i,
            action=e.action,
            start_char=e.start,
            end_char=e.end,
            before=e.before,
            after=e.after,
            intent=e.intent,
            score=e.score,
        )
        for i, e in enumerate(kept)
    )
    now = timezone.now()
    iteration.model_output = revision.model_output
    iteration.generation_settings = settings_used | {"dropped_as_rejected_before": len(edits) - len(not_rejected_here)}
    iteration.generation_finished_at = now
    iteration.generation_seconds = revision.seconds
    if kept:
        iteration.status = Iteration.Status.REVIEW
    else:
        # Nothing to decide: the round closes at once and the loop stops here.
        iteration.status = Iteration.Status.APPLIED
        iteration.text_after = iteration.text_before
        iteration.applied_at = now
    iteration.save()
    if iteration.job_id:
        job_finish(job_id=iteration.job_id, message=f"{len(kept)} edits proposed")


def _iteration_fail(iteration: Iteration, reason: str) -> None:
    with transaction.atomic():
        Iteration.objects.filter(pk=iteration.pk, status=Iteration.Status.GENERATING).update(
            status=Iteration.Status.FAILED, error=reason, generation_finished_at=timezone.now()
        )
        if iteration.job_id:
            job_finish(job_id=iteration.job_id, error=reason)


def _iteration_status_shared(proposal_id: int) -> str:
    """Lock the proposal's round FOR SHARE (the ORM has no shared row lock) and return its
    status as it stands once the lock is held: after an apply that held the round, "applied"."""
    iterations, proposals = (connection.ops.quote_name(m._meta.db_table) for m in (Iteration, EditProposal))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT i.status FROM {iterations} i JOIN {proposals} p ON p.iteration_id = i.id "
            "WHERE p.id = %s FOR SHARE OF i",
            [proposal_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise EditProposal.DoesNotExist(f"No proposal {proposal_id}.")
    return row[0]


def _locked_proposal(proposal_id: int) -> EditProposal:
    """The proposal, locked after its round (the order above), if the round is still in review."""
    if _iteration_status_shared(proposal_id) != Iteration.Status.REVIEW:
        raise LoopConflict("This round is closed; its decisions can no longer change.")
    return (
        EditProposal.objects.select_for_update(of=("self",), no_key=True)
        .select_related("iteration")
        .get(pk=proposal_id)
    )


def _verdict_check(verdict: str) -> None:
    if verdict not in (Decision.Verdict.ACCEPT, Decision.Verdict.REJECT):
        raise WritingError(f"Unknown decision {verdict!r}; use 'accept' or 'reject'.")


@transaction.atomic
def proposal_decide(
    *, proposal: EditProposal, user, verdict: str, based_on: int | None = None, via: str = "web"
) -> Decision:
    """Record a verdict on one proposal. Locks its round FOR SHARE, then the proposal row: two
    people deciding one edit at once are serialised, and a round being applied (or decided all
    at once, or undone) is waited for and then refused if closed. Asking for the verdict that
    is already current records nothing new. Otherwise `based_on` is the decision id the person
    saw (0 for none): if someone else has decided since, DecisionConflict is raised and nothing
    changes."""
    _verdict_check(verdict)
    proposal = _locked_proposal(proposal.pk)
    current = proposal.decisions.filter(is_current=True).select_related("decided_by").first()
    if current is not None and current.verdict == verdict:
        return current  # a double submit, or someone else wanted the same: nothing to change
    if based_on is not None and (current.pk if current else 0) != based_on:
        who = current.decided_by.get_username() if current else "someone"
        state = current.verdict if current else "undecided"
        raise DecisionConflict(f"{who} changed this edit meanwhile; it is now {state}.", current)
    if current is not None:
        Decision.objects.filter(pk=current.pk).update(is_current=False)
    return Decision.objects.create(proposal=proposal, verdict=verdict, decided_by=user, via=via)


@transaction.atomic
def proposals_decide_all(*, iteration: Iteration, user, verdict: str, via: str = "web") -> int:
    """Give every proposal of the round the same verdict (one batch, undone together).
    Returns how many decisions changed."""
    _verdict_check(verdict)
    iteration = Iteration.objects.select_for_update(no_key=True).get(pk=iteration.pk)
    if iteration.status != Iteration.Status.REVIEW:
        raise LoopConflict("This round is closed; its decisions can no longer change.")
    proposal_ids = list(
        EditProposal.objects.select_for_update(no_key=True)
        .filter(iteration=iteration)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    unchanged = set(
        Decision.objects.filter(proposal_id__in=proposal_ids, is_current=True, verdict=verdict).values_list(
            "proposal_id", flat=True
        )
    )
    to_change = [pk for pk in proposal_ids if pk not in unchanged]
    Decision.objects.filter(proposal_id__in=to_change, is_current=True).update(is_current=False)
    batch = uuid.uuid4()
    Decision.objects.bulk_create(
        Decision(proposal_id=pk, verdict=verdict, decided_by=user, via=via, batch=batch) for pk in to_change
    )
    return len(to_change)


@transaction.atomic
def decision_undo(*, iteration: Iteration, user) -> list[Decision]:
    """Revert this person's last decision in the round (a whole batch for accept/reject all).
    Each reverted proposal gets a new row restoring its earlier state; history is kept."""
    iteration = Iteration.objects.select_for_update(no_key=True).get(pk=iteration.pk)
    if iteration.status != Iteration.Status.REVIEW:
        raise LoopConflict("This round is closed; its decisions can no longer change.")
    last = (
        Decision.objects.filter(proposal__iteration=iteration, decided_by=user, is_current=True)
        .exclude(via="undo")
        .order_by("-decided_at", "-pk")
        .first()
    )
    if last is None:
        raise LoopConflict("There is no decision of yours to undo in this round.")
    undone = [last] if last.batch is None else list(Decision.objects.filter(batch=last.batch, is_current=True))
    restored = []
    for decision in undone:
        earlier = Decision.objects.filter(proposal_id=decision.proposal_id, pk__lt=decision.pk).order_by("-pk").first()
        Decision.objects.filter(pk=decision.pk).update(is_current=False)
        restored.append(
            Decision.objects.create(
                proposal_id=decision.proposal_id,
                verdict=earlier.verdict if earlier else Decision.Verdict.UNDECIDED,
                decided_by=user,
                via="undo",
            )
        )
    return restored


def _custom_text(iteration: Iteration) -> str:
    return iteration.instruction_text if iteration.instruction == "custom" else ""


def _accepted_edits(iteration: Iteration) -> list[EditAction]:
    accepted = EditProposal.objects.filter(
        iteration=iteration, decisions__is_current=True, decisions__verdict=Decision.Verdict.ACCEPT
    )
    return [EditAction(p.action, p.start_char, p.end_char, p.before, p.after) for p in accepted]


@transaction.atomic
def iteration_apply(*, iteration: Iteration, user, revise_again: bool = False) -> Iteration | None:
    """Apply the accepted edits (undecided ones count as rejected), close the round and, if
    asked and the depth allows, start the next round with the same instruction. Returns the
    next iteration, or None."""
    document = Document.objects.select_for_update(no_key=True).get(pk=iteration.document_id)
    iteration = Iteration.objects.select_for_update(no_key=True).get(pk=iteration.pk)
    if iteration.status != Iteration.Status.REVIEW:
        raise LoopConflict("This round is not open for review; it was applied already or has no proposals.")
    iteration.text_after = apply_edits(iteration.text_before, _accepted_edits(iteration))
    iteration.status = Iteration.Status.APPLIED
    iteration.applied_at = timezone.now()
    iteration.save(update_fields=["text_after", "status", "applied_at"])
    document.current_text = iteration.text_after
    document.save(update_fields=["current_text"])
    if document.project_id is not None:
        # The project's retraining policy counts decisions once a round is closed (training listens).
        project_id = document.project_id
        transaction.on_commit(lambda: decisions_closed.send(sender="writing", project_id=project_id))
    if revise_again and iteration.depth < document.max_depth:
        return iteration_start(
            document=document, user=user, instruction=iteration.instruction, custom_text=_custom_text(iteration)
        )
    return None


@transaction.atomic
def document_text_edit(*, document: Document, user, text: str) -> Iteration | None:
    """The writer's own edit between rounds, stored as a writer iteration. None if unchanged."""
    document = Document.objects.select_for_update(no_key=True).get(pk=document.pk)
    text = text_clean(text)
    _require_no_open_iteration(document)
    if text == document.current_text:
        return None
    last = _last_iteration(document)
    iteration = writer_iteration_add(
        document=document, user=user, text=text, number=(last.number + 1) if last else 1, depth=_model_depth(document)
    )
    document.save(update_fields=["current_text"])
    return iteration


def writer_iteration_add(*, document: Document, user, text: str, number: int, depth: int) -> Iteration:
    """Store a writer's change of the text as an applied iteration and move
    `document.current_text` on (not saved). Call inside a transaction holding the document."""
    iteration = Iteration.objects.create(
        document=document,
        number=number,
        depth=depth,
        source=Iteration.Source.WRITER,
        status=Iteration.Status.APPLIED,
        text_before=document.current_text,
        text_after=text,
        created_by=user,
        applied_at=timezone.now(),
    )
    document.current_text = text
    return iteration


@transaction.atomic
def iteration_retry(*, iteration: Iteration, user) -> Iteration:
    """Start a failed round again on the same text and instruction."""
    if iteration.status != Iteration.Status.FAILED:
        raise LoopConflict("Only a failed round can be retried.")
    return iteration_start(
        document=iteration.document, user=user, instruction=iteration.instruction, custom_text=_custom_text(iteration)
    )
