"""From a comparison's labels to one preference pair (what exports and the dataset builder emit).

Pairs (two outputs): each label votes for a side, A (a_much_better, a_better), B (b_better,
b_much_better), "tie" or "both_bad". The majority side wins if it is the only most common one;
agreement is the share of labels on that side. A majority of tie or both_bad, or no single
majority, gives no pair: nothing to learn which output is better.

Rankings (three or more outputs): the majority vote is over each label's best output; chosen is
that output, rejected the output with the worst mean position over the labels (lowest index on
equal means). Agreement is the share of labels whose best output is the chosen one.

An admin's resolution of a disagreement (Comparison.resolved_choice / resolved_ranking) overrides
the majority: `comparison_pair` gives the pair it says (none for a resolved tie or both_bad), with
agreement the share of labels on the resolution's side (or best output) and `resolved` set.

Plain functions over plain values, so that the export, the builder and tests share them.
(Inter-annotator agreement and win rates proper live in webapp/preferences/agreement.py.)
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from webapp.preferences.models import STRONG, preferred_index


@dataclass(frozen=True)
class Vote:
    choice: str = ""
    ranking: Sequence[int] | None = None


@dataclass(frozen=True)
class Pair:
    chosen: int  # output index
    rejected: int
    agreement: float  # share of labels agreeing with the majority, 0..1
    labels: int
    strong: float  # share of the majority's labels that said "much better" (pairs only; 0 for rankings)
    resolved: bool = False  # an admin's resolution, not the majority, chose


def side(choice: str) -> int | str:
    """The side a pairwise choice takes: the output it prefers (0 or 1), else tie or both_bad."""
    index = preferred_index(choice)
    return choice if index is None else index


def _single_majority(counts: Counter):
    (top, n), *rest = counts.most_common()
    if rest and rest[0][1] == n:
        return None
    return top


def majority_pair(n_outputs: int, votes: Iterable[Vote]) -> Pair | None:
    votes = list(votes)
    if not votes or n_outputs < 2:
        return None
    if n_outputs == 2:
        sides = Counter(side(v.choice) for v in votes if v.choice)
        if not sides:
            return None
        top = _single_majority(sides)
        if top not in (0, 1):
            return None
        agreeing = [v for v in votes if side(v.choice) == top]
        chosen = top
        strong = sum(v.choice in STRONG for v in agreeing) / len(agreeing)
        return Pair(chosen, 1 - chosen, len(agreeing) / len(votes), len(votes), strong)
    rankings = [list(v.ranking) for v in votes if v.ranking]
    if not rankings:
        return None
    best = _single_majority(Counter(r[0] for r in rankings))
    if best is None:
        return None
    positions: dict[int, list[int]] = {}
    for ranking in rankings:
        for position, index in enumerate(ranking):
            positions.setdefault(index, []).append(position)
    others = [i for i in range(n_outputs) if i != best and i in positions]
    if not others:
        return None
    worst = max(others, key=lambda i: (sum(positions[i]) / len(positions[i]), -i))
    agreeing = sum(r[0] == best for r in rankings)
    return Pair(best, worst, agreeing / len(votes), len(votes), 0.0)


def resolved_pair(n_outputs: int, votes: Iterable[Vote], resolution: Vote) -> Pair | None:
    """The pair an admin's resolution says; None when it prefers neither output (tie, both bad)."""
    votes = list(votes)
    if n_outputs == 2:
        top = side(resolution.choice)
        if top not in (0, 1):
            return None
        chosen = top
        agreeing = [v for v in votes if side(v.choice) == top]
        strong = (
            sum(v.choice in STRONG for v in agreeing) / len(agreeing)
            if agreeing
            else float(resolution.choice in STRONG)
        )
        return Pair(chosen, 1 - chosen, len(agreeing) / len(votes) if votes else 1.0, len(votes), strong, resolved=True)
    ranking = list(resolution.ranking or [])
    if len(ranking) < 2:
        return None
    agreeing = sum(1 for v in votes if v.ranking and v.ranking[0] == ranking[0])
    return Pair(ranking[0], ranking[-1], agreeing / len(votes) if votes else 1.0, len(votes), 0.0, resolved=True)


def comparison_pair(n_outputs: int, votes: Iterable[Vote], resolution: Vote | None = None) -> Pair | None:
    """The resolution's pair when there is one, else the majority's."""
    if resolution is not None and (resolution.choice or resolution.ranking):
        return resolved_pair(n_outputs, votes, resolution)
    return majority_pair(n_outputs, votes)
