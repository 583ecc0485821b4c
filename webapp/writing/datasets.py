"""Training rows from writers' decisions (a dataset builder, see webapp.registry.datasets).

Per sentence of a model round that has decided edits: the prompt is the instruction and the
sentence as the model saw them; `chosen` is what the writer finally wanted: the sentence as it
stands in the document's text at the cutoff, after every later round and hand edit
(inference.final_text.spans_in_final; meta "final"), or, while the round is not applied yet or the
writer deleted the sentence, the sentence with the accepted edits applied. So a fix the model
missed and the writer made by hand is taught, not the error it left. `rejected` is the model's
revision as the writer saw it turned down (accepted and rejected edits applied), empty when the
writer rejected nothing there or it is what they finally wrote. A sentence of such a round with
no decided edit is a row too when the writer changed it by hand (an SFT row: the fix the model
missed). Undecided edits count for neither. A decision counts as it stood at the cutoff:
decisions and applied rounds are rows that stay, so the latest ones up to the cutoff are always
the same.
"""

from collections import defaultdict
from typing import Iterator

from inference.diffing import EditAction, apply_edits
from inference.final_text import spans_in_final
from inference.revision import model_input
from inference.sentences import sentence_spans
from webapp.registry.datasets import DatasetFilters, DatasetRow
from webapp.writing.models import Decision, Iteration

SOURCE = "writing"


def _decisions_at_cutoff(filters: DatasetFilters) -> list[Decision]:
    """The latest decision up to the cutoff on each proposal of a model round, accept or reject."""
    decisions = Decision.objects.filter(
        decided_at__lte=filters.cutoff, proposal__iteration__source=Iteration.Source.MODEL
    )
    if filters.project_id is not None:
        decisions = decisions.filter(proposal__iteration__document__project_id=filters.project_id)
    latest = (
        decisions.order_by("proposal_id", "-decided_at", "-id")
        .distinct("proposal_id")
        .select_related("proposal__iteration__document")
    )
    kept = [d for d in latest if d.verdict in (Decision.Verdict.ACCEPT, Decision.Verdict.REJECT)]
    if filters.since is not None:
        kept = [d for d in kept if d.decided_at > filters.since]
    return kept


def writing_rows(filters: DatasetFilters) -> Iterator[DatasetRow]:
    by_iteration: dict[int, list[Decision]] = defaultdict(list)
    iterations: dict[int, Iteration] = {}
    for decision in _decisions_at_cutoff(filters):
        iteration = decision.proposal.iteration
        iterations[iteration.pk] = iteration
        by_iteration[iteration.pk].append(decision)
    finals = _final_texts({i.document_id for i in iterations.values()}, filters)
    for iteration_id in sorted(by_iteration):
        iteration = iterations[iteration_id]
        final = finals.get(iteration.document_id) if _applied_by(iteration, filters) else None
        yield from _iteration_rows(iteration, by_iteration[iteration_id], final)


def _applied_by(iteration: Iteration, filters: DatasetFilters) -> bool:
    return iteration.applied_at is not None and iteration.applied_at <= filters.cutoff


def _final_texts(document_ids: set[int], filters: DatasetFilters) -> dict[int, str]:
    """Each document's text at the cutoff: what its last round applied by then left."""
    latest = (
        Iteration.objects.filter(document_id__in=document_ids, applied_at__lte=filters.cutoff)
        .order_by("document_id", "-number")
        .distinct("document_id")
        .values_list("document_id", "text_after")
    )
    return {document_id: text for document_id, text in latest if text is not None}


def _iteration_rows(iteration: Iteration, decisions: list[Decision], final_text: str | None) -> Iterator[DatasetRow]:
    text = iteration.text_before
    spans = sentence_spans(text)
    finals = spans_in_final(text, final_text, spans) if final_text is not None else [""] * len(spans)
    for (start, end), final in zip(spans, finals):
        here = sorted(
            (d for d in decisions if start <= d.proposal.start_char and d.proposal.end_char <= end),
            key=lambda d: (d.proposal.start_char, d.proposal.end_char, d.proposal.index),
        )
        sentence = text[start:end]
        if not here:
            # No edit decided here, but the writer changed it by hand: what the model missed.
            if final and final != sentence:
                yield _row(iteration, sentence, start, final, "", [], [], [])
            continue
        local = {d.pk: _local_edit(d, start) for d in here}
        accepted = [local[d.pk] for d in here if d.verdict == Decision.Verdict.ACCEPT]
        rejected = [local[d.pk] for d in here if d.verdict == Decision.Verdict.REJECT]
        decided = sorted(accepted + rejected, key=lambda e: (e.start, e.end))
        chosen = final or apply_edits(sentence, accepted)
        turned_down = apply_edits(sentence, decided) if rejected else ""
        yield _row(
            iteration, sentence, start, final, turned_down if turned_down != chosen else "", accepted, rejected, here
        )


def _row(
    iteration: Iteration,
    sentence: str,
    start: int,
    final: str,
    rejected_output: str,
    accepted: list[EditAction],
    rejected: list[EditAction],
    decisions: list[Decision],
) -> DatasetRow:
    return DatasetRow(
        source=SOURCE,
        prompt=model_input(iteration.instruction_text, sentence),
        chosen=final or apply_edits(sentence, accepted),
        rejected=rejected_output,
        meta={
            "iteration": iteration.pk,
            "document": iteration.document_id,
            "project": iteration.document.project_id,
            "model_version": iteration.model_version_id,
            "instruction": iteration.instruction,
            "instruction_text": iteration.instruction_text,
            "sentence": sentence,
            "sentence_start": start,
            "final": final,
            "accepted": [[e.start, e.end, e.before, e.after] for e in accepted],
            "rejected": [[e.start, e.end, e.before, e.after] for e in rejected],
            "decisions": [d.pk for d in decisions],
        },
    )


def _local_edit(decision: Decision, offset: int) -> EditAction:
    p = decision.proposal
    return EditAction(p.action, p.start_char - offset, p.end_char - offset, p.before, p.after)
