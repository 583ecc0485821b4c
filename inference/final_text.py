"""Judging a revision by the text the writer finally kept, not by how many edits they accepted.

Acceptance can be raised by proposing less; the text the writer ended with (after every round
and hand edit) cannot. For one document, with `source` the text the model revised, `output`
its revision and `final` what the writer kept:

  cost before   characters between source and final: the work a model that does nothing leaves;
  cost left     characters between final and the source with only the model's edits that move
                toward final applied (CIPHER's edit cost): what is still to fix by hand;
  helpful       edits that, applied alone, bring the source closer to final;
  harmful       the other edits: they move away from final, or change what the writer left as it
                was, and a writer has to reject each one.

A model that proposes nothing scores cost left = cost before and no help; one that proposes junk
scores many harmful edits and no help. Neither can look good on both (summarize).
"""

from dataclasses import dataclass
from typing import Iterable

from rapidfuzz.distance import Levenshtein

from inference.diffing import apply_edits, diff_words


@dataclass(frozen=True)
class FinalTextScore:
    cost_before: int
    cost_left: int
    helpful: int
    harmful: int

    @property
    def proposed(self) -> int:
        return self.helpful + self.harmful

    @property
    def untouched(self) -> bool:
        return self.proposed == 0


def final_text_score(source: str, output: str, final: str) -> FinalTextScore:
    """The figures of the module for one document."""
    cost_before = Levenshtein.distance(source, final)
    edits = diff_words(source, output)
    helpful = [e for e in edits if Levenshtein.distance(apply_edits(source, [e]), final) < cost_before]
    cost_left = Levenshtein.distance(apply_edits(source, helpful), final) if helpful else cost_before
    return FinalTextScore(cost_before, cost_left, len(helpful), len(edits) - len(helpful))


@dataclass(frozen=True)
class FinalTextSummary:
    documents: int
    cost_before: int
    cost_left: int
    helpful: int
    harmful: int
    untouched: int  # documents the model left as they were

    @property
    def cost_reduction(self) -> float:
        """The share of the writer's own fixing the model did: 0 for doing nothing, 1 for all of it."""
        return 1 - self.cost_left / self.cost_before if self.cost_before else 0.0

    @property
    def harmful_share(self) -> float:
        """The share of proposed edits that do not move toward the final text."""
        proposed = self.helpful + self.harmful
        return self.harmful / proposed if proposed else 0.0

    def as_dict(self) -> dict:
        return {
            "documents": self.documents,
            "edit_cost_before": self.cost_before,
            "edit_cost_left": self.cost_left,
            "edit_cost_reduction": round(self.cost_reduction, 4),
            "helpful_edits": self.helpful,
            "harmful_edits": self.harmful,
            "harmful_share": round(self.harmful_share, 4),
            "untouched_rate": round(self.untouched / self.documents, 4) if self.documents else 0.0,
        }


def summarize(scores: Iterable[FinalTextScore]) -> FinalTextSummary:
    scores = list(scores)
    return FinalTextSummary(
        documents=len(scores),
        cost_before=sum(s.cost_before for s in scores),
        cost_left=sum(s.cost_left for s in scores),
        helpful=sum(s.helpful for s in scores),
        harmful=sum(s.harmful for s in scores),
        untouched=sum(s.untouched for s in scores),
    )


def span_in_final(text: str, final: str, start: int, end: int) -> str:
    """What became of text[start:end] in `final`, a later version of `text` (after more rounds
    and hand edits): the span's ends carried through a character alignment of the two, with
    what was inserted at either end counted in, and the spaces around it left out. Empty when
    the writer deleted it."""
    return spans_in_final(text, final, [(start, end)])[0]


def spans_in_final(text: str, final: str, spans: list[tuple[int, int]]) -> list[str]:
    """span_in_final for each span, with one alignment of the two texts for them all."""
    for start, end in spans:
        if not 0 <= start <= end <= len(text):
            raise ValueError(f"span {start}..{end} is outside a text of {len(text)} characters")
    if text == final:
        return [final[start:end].strip() for start, end in spans]
    opcodes = Levenshtein.opcodes(text, final)
    return [_carried(opcodes, final, start, end) if start < end else "" for start, end in spans]


def _carried(opcodes, final: str, start: int, end: int) -> str:
    new_start = next(
        (j1 + (start - i1) if tag == "equal" else j1)
        for tag, i1, i2, j1, j2 in opcodes
        if i2 > start or i1 == i2 == start
    )
    new_end = next(
        (j1 + (end - i1) if tag == "equal" else j2)
        for tag, i1, i2, j1, j2 in reversed(opcodes)
        if i1 < end or i1 == i2 == end
    )
    return final[new_start : max(new_start, new_end)].strip()
