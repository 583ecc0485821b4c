"""Replaying people's decisions against a model: would it propose what they accepted, and
what they rejected?

Each case is a sentence the model revised before, with the edits people accepted and rejected
there. The model revises the sentence again (the same code as the app: model_input, generate,
diff into edits); each edit it proposes that people decided on before counts as a predicted
acceptance or rejection. Edits nobody decided on are counted apart (coverage). Where a case
knows what the writer finally kept of the sentence (`final`), the revision is also judged by
that (inference.final_text): the figures a version is promoted on, since proposing less cannot
raise them.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from inference.diffing import apply_edits
from inference.editor import GenerationSettings
from inference.final_text import final_text_score, summarize
from inference.instructions import is_grammar_fix
from inference.revision import model_input, revision_from_sentences, sentence_edits_to_propose

if TYPE_CHECKING:
    from inference.editor import Editor

SAMPLES = 20


@dataclass(frozen=True)
class ReplayCase:
    prompt: str  # the instruction as the model was given it
    sentence: str
    accepted: list[tuple[int, int, str, str]] = field(
        default_factory=list
    )  # (start, end, before, after) in the sentence
    rejected: list[tuple[int, int, str, str]] = field(default_factory=list)
    final: str = ""  # the sentence as the writer finally kept it; empty when not known


def replay_decisions(
    editor: "Editor", cases: list[ReplayCase], settings: GenerationSettings = GenerationSettings()
) -> dict:
    """Figures for the model on `cases`:

    predicted_acceptance  share of its proposals with a known verdict that people accepted
    accepted_recall       share of the accepted edits it proposes again
    rejected_repeat       share of the rejected edits it proposes again
    coverage              share of its proposals that people had decided on

    and over the cases with a final text, inference.final_text.FinalTextSummary.as_dict with
    "final_" before each name (final_edit_cost_left, final_edit_cost_reduction, ...).
    """
    prompts = [model_input(c.prompt, c.sentence) for c in cases]
    revisions = editor.generate(prompts, settings)
    outputs = [
        revision_from_sentences(c.sentence, [(0, len(c.sentence))], [g], intent="") for c, g in zip(cases, revisions)
    ]
    # What the app would propose (inference.revision.revise_document): the guard and the gain.
    items = [(p, c.sentence, edits) for p, c, (_, edits) in zip(prompts, cases, outputs)]
    kept = sentence_edits_to_propose(editor, items, settings, [is_grammar_fix(c.prompt) for c in cases])
    outputs = [(apply_edits(c.sentence, mine), mine) for c, mine in zip(cases, kept)]
    hits_accepted = hits_rejected = proposed_total = 0
    samples, scores = [], []
    for case, (output, edits) in zip(cases, outputs):
        if case.final:
            scores.append(final_text_score(case.sentence, output, case.final))
        proposed = {(e.start, e.end, e.before, e.after) for e in edits}
        accepted = {tuple(e) for e in case.accepted}
        rejected = {tuple(e) for e in case.rejected}
        hits_accepted += len(proposed & accepted)
        hits_rejected += len(proposed & rejected)
        proposed_total += len(proposed)
        if len(samples) < SAMPLES:
            samples.append(
                {"sentence": case.sentence, "output": output} | ({"final": case.final} if case.final else {})
            )
    known = hits_accepted + hits_rejected
    n_accepted = sum(len(c.accepted) for c in cases)
    n_rejected = sum(len(c.rejected) for c in cases)
    final = {f"final_{k}": v for k, v in summarize(scores).as_dict().items()} if scores else {}
    return final | {
        "cases": len(cases),
        "proposed": proposed_total,
        "predicted_acceptance": round(hits_accepted / known, 4) if known else None,
        "accepted_recall": round(hits_accepted / n_accepted, 4) if n_accepted else None,
        "rejected_repeat": round(hits_rejected / n_rejected, 4) if n_rejected else None,
        "coverage": round(known / proposed_total, 4) if proposed_total else None,
        "samples": samples,
        # Per case with a final text, in order: what the gate compares row by row (a paired test).
        "row_costs": [s.cost_left for s in scores],
    }
