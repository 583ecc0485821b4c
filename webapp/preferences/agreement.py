"""How far annotators agree on preference labels, and what the labels say about model versions.

Plain data in, plain data out: no Django, so selectors gather the rows and these functions do the
arithmetic. Everything here is a figure shown to people who decide whether to trust a batch of
labels or a model version, so each docstring says what the figure means and what happens when
data are missing.

A label on a pairwise comparison of outputs A and B is one of
    -2 (A much better), -1 (A better), 0 (tie), 1 (B better), 2 (B much better), or BOTH_BAD;
a label on N > 2 outputs is a ranking: a tuple of output ids, best first.

Label records are `(annotator, item, value)` triples with any hashable ids. An annotator labels
an item once: when the records hold several labels by one annotator on one item, the last one
replaces the earlier ones (a revised label), in every function here.

"Undefined" figures (nothing to compare, or no variation to tell agreement from chance) are None,
never a crash and never a made-up number.
"""

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from numbers import Real

BOTH_BAD = "both_bad"
PAIRWISE_VALUES = (-2, -1, 0, 1, 2, BOTH_BAD)

# Outcomes of a comparison seen from one version (X) against another (Y).
WIN, LOSS, TIE = "win", "loss", "tie"

LabelRecord = tuple[Hashable, Hashable, Hashable]  # (annotator, item, value)


def side(value: Hashable) -> Hashable:
    """What a label prefers: "A", "B", "tie", BOTH_BAD, or, for a ranking, the ranking itself.

    "A better" and "A much better" prefer the same side; strength is not part of the choice.
    """
    if value == BOTH_BAD:
        return BOTH_BAD
    if isinstance(value, tuple):
        return value
    if value in (-2, -1):
        return "A"
    if value == 0:
        return "tie"
    if value in (1, 2):
        return "B"
    raise ValueError(f"not a preference label: {value!r}")


def _latest(labels: Iterable[LabelRecord]) -> dict[tuple[Hashable, Hashable], Hashable]:
    """{(annotator, item): value}, a later label by the same annotator on the same item winning."""
    return {(annotator, item): value for annotator, item, value in labels}


# Gold accuracy


@dataclass(frozen=True)
class GoldScore:
    correct: int
    total: int  # gold items the annotator labelled
    accuracy: float | None  # correct / total; None when total is 0


def gold_accuracy(labels: Iterable[LabelRecord], gold: dict[Hashable, Hashable]) -> dict[Hashable, GoldScore]:
    """Per annotator, the share of their labels on gold items that agree with the gold answer.

    A label agrees when it prefers the same side (`side`): "A better" matches gold "A much better"
    and the other way round, a tie matches only a tie, BOTH_BAD only BOTH_BAD, and a ranking only
    the identical ranking. Labels on items without a gold answer are not counted. Every annotator
    in `labels` gets a score; one who labelled no gold item has total 0 and accuracy None.
    """
    correct: Counter = Counter()
    total: Counter = Counter()
    annotators = {}
    for (annotator, item), value in _latest(labels).items():
        annotators[annotator] = None
        if item in gold:
            total[annotator] += 1
            correct[annotator] += side(value) == side(gold[item])
    return {a: GoldScore(correct[a], total[a], correct[a] / total[a] if total[a] else None) for a in annotators}


# Cohen's kappa


def cohen_kappa(pairs: Iterable[tuple[Hashable, Hashable]]) -> float | None:
    """Cohen's kappa of two annotators from `(label_of_first, label_of_second)` on the items both labelled.

    Nominal: every distinct value is its own category ("A better" and "A much better" disagree).
    kappa = (p_o - p_e) / (1 - p_e), p_o the share of items where they agree and p_e the share
    expected by chance from each annotator's own category frequencies. 1 is perfect agreement,
    0 what chance gives, below 0 worse than chance.

    None when there are no pairs, or when p_e is 1 (both used one and the same category
    throughout): with no variation, agreement cannot be told from chance.
    """
    pairs = list(pairs)
    n = len(pairs)
    first = Counter(a for a, _ in pairs)
    second = Counter(b for _, b in pairs)
    agree = sum(a == b for a, b in pairs)
    by_chance = sum(first[c] * second[c] for c in first)  # n^2 * p_e, in integers
    if n == 0 or by_chance == n * n:
        return None
    return (n * agree - by_chance) / (n * n - by_chance)


@dataclass(frozen=True)
class PairKappa:
    first: Hashable
    second: Hashable
    kappa: float | None
    n: int  # items both labelled


def pairwise_kappa(labels: Iterable[LabelRecord], min_common: int = 10) -> list[PairKappa]:
    """Cohen's kappa for every pair of annotators who labelled at least `min_common` items in common.

    Pairs with fewer common items are left out (a kappa from a handful of items says little).
    Pairs come sorted with `first < second` (annotator ids must be comparable). `kappa` can be
    None even with enough items; see `cohen_kappa`.
    """
    by_annotator: dict[Hashable, dict[Hashable, Hashable]] = defaultdict(dict)
    for (annotator, item), value in _latest(labels).items():
        by_annotator[annotator][item] = value
    annotators = sorted(by_annotator)
    result = []
    for i, first in enumerate(annotators):
        for second in annotators[i + 1 :]:
            mine, theirs = by_annotator[first], by_annotator[second]
            common = mine.keys() & theirs.keys()
            if len(common) >= min_common:
                kappa = cohen_kappa((mine[item], theirs[item]) for item in common)
                result.append(PairKappa(first, second, kappa, len(common)))
    return result


# Krippendorff's alpha


def units_from_labels(labels: Iterable[LabelRecord]) -> list[list[Hashable]]:
    """The values given to each item, one list per item, in the shape `krippendorff_alpha` takes."""
    units: dict[Hashable, list[Hashable]] = defaultdict(list)
    for (_, item), value in _latest(labels).items():
        units[item].append(value)
    return list(units.values())


def krippendorff_alpha(units: Iterable[Iterable[Hashable]], level: str = "nominal") -> float | None:
    """Krippendorff's alpha over all annotators and items: 1 - observed / expected disagreement.

    `units` holds, per item, the values its annotators gave; an annotator who did not label the
    item is simply absent (a None in the list counts as absent too). Items with fewer than two
    values cannot be paired and are dropped, so annotators need not label the same items.
    Computed from the coincidence matrix as in Krippendorff (2011), "Computing Krippendorff's
    Alpha-Reliability": each item with m values adds 1/(m - 1) to o[c, k] for every ordered pair of
    its values (c, k), and alpha = 1 - (n - 1) * sum(o[c, k] * d(c, k)) / sum(n_c * n_k * d(c, k)),
    n_c the pairable values in category c and n their total.

    `level` picks the distance d between values:
      "nominal": 0 when equal, else 1; any hashable values (BOTH_BAD, rankings).
      "ordinal": (sum of n_g for g from c to k - (n_c + n_k) / 2) ** 2, over the values that occur in
        sorted order; numbers only, so leave BOTH_BAD out or use nominal.
      "interval": (c - k) ** 2; numbers only.
    1 is perfect agreement, 0 what chance gives, below 0 systematic disagreement.

    None when no item has two values, and when all pairable values are the same single value:
    then expected disagreement is 0 and alpha is 0/0 (the data show no variation, so they cannot
    show reliability), even though every annotator agreed.
    """
    if level not in ("nominal", "ordinal", "interval"):
        raise ValueError(f"unknown level of measurement: {level!r}")
    pairable = []
    for unit in units:
        values = [v for v in unit if v is not None]
        if len(values) >= 2:
            pairable.append(Counter(values))
    totals: Counter = Counter()
    for counts in pairable:
        totals.update(counts)
    if len(totals) < 2:
        return None
    if level != "nominal" and not all(isinstance(v, Real) and not isinstance(v, bool) for v in totals):
        raise ValueError(f"{level} alpha needs numeric values, got {sorted(map(repr, totals))}")

    coincidences: Counter = Counter()
    for counts in pairable:
        m = sum(counts.values())
        for c, n_c in counts.items():
            for k, n_k in counts.items():
                coincidences[c, k] += n_c * (n_k - (c == k)) / (m - 1)

    distance = _distance(level, totals)
    n = sum(totals.values())
    observed = sum(o * distance(c, k) for (c, k), o in coincidences.items())
    expected = sum(totals[c] * totals[k] * distance(c, k) for c in totals for k in totals)
    return 1 - (n - 1) * observed / expected


def _distance(level: str, totals: Counter):
    if level == "nominal":
        return lambda c, k: float(c != k)
    if level == "interval":
        return lambda c, k: float(c - k) ** 2
    ordered = sorted(totals)
    rank = {value: i for i, value in enumerate(ordered)}
    cumulative = [0]
    for value in ordered:
        cumulative.append(cumulative[-1] + totals[value])

    def ordinal(c, k):
        low, high = sorted((rank[c], rank[k]))
        between = cumulative[high + 1] - cumulative[low]
        return (between - (totals[c] + totals[k]) / 2) ** 2

    return ordinal


# Which version wins


def outcome(value: Hashable, x_side: str) -> str | None:
    """The outcome for version X of a pairwise label, X's output shown on `x_side` ("A" or "B").

    WIN, LOSS or TIE (strength ignored); None for BOTH_BAD, which says nothing about which is better.
    """
    if x_side not in ("A", "B"):
        raise ValueError(f"x_side must be 'A' or 'B', got {x_side!r}")
    preferred = side(value)
    if preferred == BOTH_BAD:
        return None
    if preferred == "tie":
        return TIE
    if isinstance(preferred, tuple):
        raise ValueError("a ranking is not a pairwise label; see ranking_comparisons")
    return WIN if preferred == x_side else LOSS


def ranking_comparisons(ranking: Sequence[Hashable]) -> list[tuple[Hashable, Hashable, str]]:
    """A ranking (best first) as the pairwise comparisons it implies: (x, y, WIN) for x above y."""
    return [(x, y, WIN) for i, x in enumerate(ranking) for y in ranking[i + 1 :]]


@dataclass(frozen=True)
class WinRate:
    rate: float | None  # (wins + ties / 2) / n
    low: float | None  # 95% percentile bootstrap interval
    high: float | None
    n: int  # comparisons counted: wins, losses and ties


def win_rate(outcomes: Iterable[str | None], n_boot: int = 2000, seed: int = 0) -> WinRate:
    """How often version X beats version Y, from X's outcomes (WIN, LOSS, TIE) against Y.

    A tie counts as half a win; BOTH_BAD (or None) is left out of the rate and of n. 0.5 means
    the two are level. The interval is the 2.5th to 97.5th percentile of the rate over `n_boot`
    resamples of the outcomes with replacement, the same for the same `seed`. With few outcomes,
    or all of one kind, the interval is narrow or collapses to the rate: it shows resampling
    spread, not the uncertainty of a tiny sample. All None when nothing is counted.
    """
    import numpy as np

    counts = Counter()
    for o in outcomes:
        if o is None or o == BOTH_BAD:
            continue
        if o not in (WIN, LOSS, TIE):
            raise ValueError(f"not an outcome: {o!r}")
        counts[o] += 1
    n = sum(counts.values())
    if n == 0:
        return WinRate(None, None, None, 0)
    rate = (counts[WIN] + counts[TIE] / 2) / n
    # Resampling n outcomes with replacement draws the counts of each kind from a multinomial.
    rng = np.random.default_rng(seed)
    drawn = rng.multinomial(n, [counts[WIN] / n, counts[TIE] / n, counts[LOSS] / n], size=n_boot)
    rates = (drawn[:, 0] + drawn[:, 1] / 2) / n
    low, high = np.quantile(rates, [0.025, 0.975])
    return WinRate(rate, float(low), float(high), n)


@dataclass(frozen=True)
class BradleyTerry:
    strengths: dict[Hashable, float]  # sum to 1
    n: int  # comparisons counted
    iterations: int

    def p_beats(self, x: Hashable, y: Hashable) -> float:
        """The fitted probability that x is preferred to y: s_x / (s_x + s_y)."""
        return self.strengths[x] / (self.strengths[x] + self.strengths[y])


def bradley_terry(
    comparisons: Iterable[tuple[Hashable, Hashable, str | None]], tol: float = 1e-12, max_iter: int = 100_000
) -> BradleyTerry | None:
    """Bradley-Terry strengths of several versions from comparisons `(x, y, outcome for x)`.

    The model says P(x beats y) = s_x / (s_x + s_y). Strengths are the maximum-likelihood fit by
    the MM algorithm of Hunter (2004), s_i <- W_i / sum_j(n_ij / (s_i + s_j)), W_i the wins of i
    and n_ij the comparisons of i with j; a tie is half a win each way, BOTH_BAD (None) is left
    out. Strengths are normalised to sum to 1, so each reads as a share of "quality"; only their
    ratios mean anything. Versions never compared do not appear.

    None when there is nothing to fit or no finite fit exists: that is when the versions cannot be
    ordered by chains of wins both ways (a version that never lost, one that never won, or two
    groups never compared), where the maximum-likelihood strengths run off to 0 or infinity.
    """
    wins: dict[Hashable, float] = defaultdict(float)
    games: dict[Hashable, Counter] = defaultdict(Counter)  # games[i][j] = n_ij
    beat: dict[Hashable, set] = defaultdict(set)  # beat[i]: the versions i won (or tied) against
    n = 0
    for x, y, result in comparisons:
        if result is None or result == BOTH_BAD:
            continue
        if result not in (WIN, LOSS, TIE) or x == y:
            raise ValueError(f"not a comparison: {(x, y, result)!r}")
        n += 1
        games[x][y] += 1
        games[y][x] += 1
        share = {WIN: 1.0, TIE: 0.5, LOSS: 0.0}[result]
        wins[x] += share
        wins[y] += 1 - share
        if share > 0:
            beat[x].add(y)
        if share < 1:
            beat[y].add(x)
    versions = list(games)
    if not versions or not _strongly_connected(versions, beat):
        return None

    strengths = {v: 1 / len(versions) for v in versions}
    for iteration in range(1, max_iter + 1):
        updated = {
            i: wins[i] / sum(n_ij / (strengths[i] + strengths[j]) for j, n_ij in games[i].items()) for i in versions
        }
        total = sum(updated.values())
        updated = {v: s / total for v, s in updated.items()}
        change = max(abs(updated[v] - strengths[v]) for v in versions)
        strengths = updated
        if change < tol:
            break
    return BradleyTerry(strengths, n, iteration)


def _strongly_connected(nodes: list[Hashable], edges: dict[Hashable, set]) -> bool:
    """Whether every node reaches every other along `edges` (and along them reversed)."""
    reverse: dict[Hashable, set] = defaultdict(set)
    for a, targets in edges.items():
        for b in targets:
            reverse[b].add(a)
    for graph in (edges, reverse):
        seen, stack = {nodes[0]}, [nodes[0]]
        while stack:
            for nxt in graph[stack.pop()] - seen:
                seen.add(nxt)
                stack.append(nxt)
        if len(seen) != len(nodes):
            return False
    return True


# Export filter


def majority_agreement(labels_of_item: Iterable[Hashable]) -> float | None:
    """The share of an item's labels that agree with its most common choice.

    Labels are compared by the side they prefer (`side`): "A better" and "A much better" agree.
    With a tied majority (two say A, two say B) the share is that of either, 0.5 here, so a filter
    asking for more than half drops the item. None when the item has no labels.
    """
    choices = Counter(side(v) for v in labels_of_item)
    if not choices:
        return None
    return max(choices.values()) / sum(choices.values())
