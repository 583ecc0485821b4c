"""Replaying people's decisions against a model: would it propose what they accepted, and
what they rejected?

Each case is a sentence the model revised before, with the edits people accepted and rejected
there. The model revises the sentence again (the same code as the app: model_input, generate,
diff into edits); each edit it proposes that people decided on before counts as a predicted
acceptance or rejection. Edits nobody decided on are counted apart (coverage).
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from inference.diffing import apply_edits
from inference.editor import GenerationSettings
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


def replay_decisions(
    editor: "Editor", cases: list[ReplayCase], settings: GenerationSettings = GenerationSettings()
) -> dict:
    """Figures for the model on `cases`:

    predicted_acceptance  share of its proposals with a known verdict that people accepted
    accepted_recall       share of the accepted edits it proposes again
    rejected_repeat       share of the rejected edits it proposes again
    coverage              share of its proposals that people had decided on
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
    samples = []
    for case, (output, edits) in zip(cases, outputs):
        proposed = {(e.start, e.end, e.before, e.after) for e in edits}
        accepted = {tuple(e) for e in case.accepted}
        rejected = {tuple(e) for e in case.rejected}
        hits_accepted += len(proposed & accepted)
        hits_rejected += len(proposed & rejected)
        proposed_total += len(proposed)
        if len(samples) < SAMPLES:
            samples.append({"sentence": case.sentence, "output": output})
    known = hits_accepted + hits_rejected
    n_accepted = sum(len(c.accepted) for c in cases)
    n_rejected = sum(len(c.rejected) for c in cases)
    return {
        "cases": len(cases),
        "proposed": proposed_total,
        "predicted_acceptance": round(hits_accepted / known, 4) if known else None,
        "accepted_recall": round(hits_accepted / n_accepted, 4) if n_accepted else None,
        "rejected_repeat": round(hits_rejected / n_rejected, 4) if n_rejected else None,
        "coverage": round(known / proposed_total, 4) if proposed_total else None,
        "samples": samples,
    }
