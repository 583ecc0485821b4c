"""Figures for an editor on the everyday-prose suite (inference.editor_data.everyday), through the
app's own path: the suite's sentences are joined into one document, one per paragraph, and
revised by inference.revision.revise_document under "Fix grammar"; the proposed edits are split
back to their sentences.

Definitions (the word distance is the Levenshtein distance between the sequences of words and
punctuation marks, spaces ignored):
  precision  share of proposed edits that are right: applied alone, the edit brings its sentence
             closer to the correction;
  recall     share of the corrections' word changes that are made: for each edit of the
             correction (diff_words(source, target)), the word distance to the target that the
             proposed edits overlapping it remove (at most what it removes itself), over the
             distance all of them remove;
  harm       share of sentences whose output, every proposed edit applied, is farther from the
             correction than the sentence was (for a correct sentence: any edit at all);
  untouched  share of correct sentences with no edit proposed;
  improved   share of sentences with mistakes whose output is closer to the correction;
  recall by kind  recall over the correction's edits of each kind (inference.edit_kinds), to see
             which mistakes an editor misses;
  sentences/s  the sentences over revise_document's time, the model loaded and warmed up.
Targets: precision >= 0.80, harm <= 0.03, untouched >= 0.97, recall >= 0.40, 40 sentences/s.
"""

import re
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from inference.diffing import EditAction, apply_edits, diff_words
from inference.edit_kinds import classify_edit, document_word_counts
from inference.editor import GenerationSettings
from inference.editor_data.everyday import REGISTERS, EverydaySentence
from inference.instructions import DEFAULT_INSTRUCTION, INSTRUCTIONS

if TYPE_CHECKING:
    from inference.editor import Editor

TARGETS = {"precision": 0.80, "harm": 0.03, "untouched": 0.97, "recall": 0.40, "sentences_per_s": 40.0}
SEPARATOR = "\n\n"
_WORD_OR_MARK = re.compile(r"\w+|[^\w\s]")  # inference.diffing's tokens, spaces left out
_SAMPLES = 12


def _words(text: str) -> list[str]:
    return _WORD_OR_MARK.findall(text)


def word_distance(a: str, b: str) -> int:
    """Levenshtein distance between the word-and-punctuation sequences of a and b."""
    x, y = _words(a), _words(b)
    previous = list(range(len(y) + 1))
    for i, wx in enumerate(x, 1):
        current = [i] + [0] * len(y)
        for j, wy in enumerate(y, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (wx != wy))
        previous = current
    return previous[len(y)]


def _overlaps(a: EditAction, b: EditAction) -> bool:
    """Spans that share a character, or an insertion at the other's edge."""
    return (
        a.start < b.end
        and b.start < a.end
        or a.start == b.start
        or (a.start == a.end or b.start == b.end)
        and (a.start in (b.start, b.end) or b.start in (a.start, a.end))
    )


@dataclass(frozen=True)
class EverydayOutcome:
    sentence: EverydaySentence
    proposed: list[EditAction]  # offsets in the sentence's source

    @cached_property
    def output(self) -> str:
        return apply_edits(self.sentence.source, self.proposed)

    @cached_property
    def start_distance(self) -> int:
        return word_distance(self.sentence.source, self.sentence.target)

    @cached_property
    def right(self) -> list[bool]:
        s = self.sentence
        return [word_distance(apply_edits(s.source, [e]), s.target) < self.start_distance for e in self.proposed]

    @cached_property
    def gold(self) -> list[EditAction]:
        return diff_words(self.sentence.source, self.sentence.target)

    @cached_property
    def corrections(self) -> list[tuple[int, int]]:
        """(word changes made, word changes it needs) for each edit of the correction."""
        s, d0 = self.sentence, self.start_distance
        made = []
        for g in self.gold:
            needs = d0 - word_distance(apply_edits(s.source, [g]), s.target)
            near = [p for p in self.proposed if _overlaps(p, g)]
            done = d0 - word_distance(apply_edits(s.source, near), s.target) if near else 0
            made.append((min(max(done, 0), needs), needs))
        return made

    @cached_property
    def gold_kinds(self) -> list[str]:
        """The kind of each edit of the correction (inference.edit_kinds.classify_edit)."""
        source = self.sentence.source
        counts = document_word_counts(source)
        return [classify_edit(source, g.start, g.end, g.after, counts).kind for g in self.gold]

    @property
    def found(self) -> list[bool]:
        """Each edit of the correction made in full."""
        return [done == needs for done, needs in self.corrections]

    @property
    def harmed(self) -> bool:
        return word_distance(self.output, self.sentence.target) > self.start_distance

    @property
    def improved(self) -> bool:
        return word_distance(self.output, self.sentence.target) < self.start_distance


def run_everyday(
    editor: "Editor", sentences: list[EverydaySentence], settings: GenerationSettings = GenerationSettings()
) -> tuple[list[EverydayOutcome], float]:
    """Revises the sentences as one document under "Fix grammar"; the outcomes and the seconds."""
    from inference.revision import revise_document

    if not sentences:
        return [], 0.0
    text = SEPARATOR.join(s.source for s in sentences)
    starts, position = [], 0
    for s in sentences:
        starts.append(position)
        position += len(s.source) + len(SEPARATOR)
    instruction = INSTRUCTIONS[DEFAULT_INSTRUCTION]
    revision = revise_document(editor, text, instruction.prompt, instruction.intent, settings)
    outcomes = []
    for s, start in zip(sentences, starts):
        end = start + len(s.source)
        local = [
            EditAction(e.action, e.start - start, e.end - start, e.before, e.after)
            for e in revision.edits
            if start <= e.start and e.end <= end
        ]
        outcomes.append(EverydayOutcome(s, local))
    return outcomes, revision.seconds


def figures(outcomes: list[EverydayOutcome], seconds: float | None = None) -> dict[str, Any]:
    """The suite's figures (module docstring) for these outcomes."""
    with_errors = [o for o in outcomes if not o.sentence.correct]
    correct = [o for o in outcomes if o.sentence.correct]
    right = [r for o in outcomes for r in o.right]
    made = sum(done for o in with_errors for done, _ in o.corrections)
    needed = sum(needs for o in with_errors for _, needs in o.corrections)

    def share(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    row: dict[str, Any] = {
        "sentences": len(outcomes),
        "with_errors": len(with_errors),
        "correct": len(correct),
        "proposed": len(right),
        "precision": share(sum(right), len(right)),
        "recall": share(made, needed),
        "harm": share(sum(o.harmed for o in outcomes), len(outcomes)),
        "harm_with_errors": share(sum(o.harmed for o in with_errors), len(with_errors)),
        "untouched": share(sum(not o.proposed for o in correct), len(correct)),
        "improved": share(sum(o.improved for o in with_errors), len(with_errors)),
    }
    by_kind: dict[str, list[int]] = {}
    for o in with_errors:
        for kind, (done, needs) in zip(o.gold_kinds, o.corrections):
            tally = by_kind.setdefault(kind, [0, 0])
            tally[0] += done
            tally[1] += needs
    row["recall_by_kind"] = {k: share(done, needs) for k, (done, needs) in sorted(by_kind.items())}
    if seconds is not None:
        row["seconds"] = round(seconds, 2)
        row["sentences_per_s"] = round(len(outcomes) / seconds, 2) if seconds else None
    return row


def meets_targets(row: dict[str, Any]) -> bool:
    def at_least(key: str) -> bool:
        return row.get(key) is not None and row[key] >= TARGETS[key]

    return (
        at_least("precision")
        and at_least("recall")
        and at_least("untouched")
        and at_least("sentences_per_s")
        and row.get("harm") is not None
        and row["harm"] <= TARGETS["harm"]
    )


def samples(outcomes: list[EverydayOutcome]) -> dict[str, list[dict[str, str]]]:
    """A few wrong edits and missed corrections, to read."""
    wrong, missed = [], []
    for o in outcomes:
        s = o.sentence
        for e, ok in zip(o.proposed, o.right):
            if not ok and len(wrong) < _SAMPLES:
                wrong.append({"sentence": s.source, "edit": f"{e.before!r} -> {e.after!r}", "target": s.target})
        for g, ok in zip(o.gold, o.found):
            if not ok and len(missed) < _SAMPLES:
                missed.append({"sentence": s.source, "correction": f"{g.before!r} -> {g.after!r}", "output": o.output})
    return {"wrong_edits": wrong, "missed_corrections": missed}


def evaluate_everyday(
    editor: "Editor", sentences: list[EverydaySentence], settings: GenerationSettings = GenerationSettings()
) -> dict[str, Any]:
    """Figures for the whole set and per register, samples, and whether the targets are met.
    Sentences/s is the steady rate of a loaded model, as a worker keeps it: one batch goes
    through first, untimed, so that torch's first-call setup is not counted."""
    run_everyday(editor, sentences[: settings.batch_size], settings)
    outcomes, seconds = run_everyday(editor, sentences, settings)
    overall = figures(outcomes, seconds)
    per_register = {r: figures([o for o in outcomes if o.sentence.register == r]) for r in REGISTERS}
    return {
        "overall": overall,
        "registers": per_register,
        "samples": samples(outcomes),
        "meets_targets": meets_targets(overall),
    }


def format_everyday(results: dict[str, Any]) -> str:
    def pct(v: float | None) -> str:
        return "    -" if v is None else f"{100 * v:5.1f}%"

    head = (
        f"{'register':<13} {'n':>4} {'edits':>5} {'precision':>9} {'recall':>7} {'harm':>6} "
        f"{'untouched':>9} {'improved':>8}"
    )
    lines = [head]
    for name, r in [("all", results["overall"])] + list(results["registers"].items()):
        lines.append(
            f"{name:<13} {r['sentences']:>4} {r['proposed']:>5} {pct(r['precision']):>9} {pct(r['recall']):>7} "
            f"{pct(r['harm']):>6} {pct(r['untouched']):>9} {pct(r['improved']):>8}"
        )
    o = results["overall"]
    lines.append("recall by kind: " + ", ".join(f"{k} {pct(v).strip()}" for k, v in o["recall_by_kind"].items()))
    lines.append(
        f"{o.get('sentences_per_s')} sentences/s; targets: precision >= 80%, recall >= 40%, harm <= 3%, "
        f"untouched >= 97%, 40 sentences/s: {'met' if results['meets_targets'] else 'missed'}"
    )
    return "\n".join(lines)
