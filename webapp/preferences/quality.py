"""The figures of the Quality screen: how far a project's annotators agree, how they do on gold
comparisons, how many labels come in a day, and which model version wins against which.

Selectors gather the rows, webapp.preferences.agreement does the arithmetic; this module puts
the two together into plain values for the page (and lays out the win-rate plot).
"""

from collections import Counter
from dataclasses import dataclass

from webapp.preferences import agreement, selectors

DEFAULT_MIN_COMMON = 10
N_BOOT = 2000


@dataclass(frozen=True)
class AnnotatorFigures:
    annotator_id: int
    username: str
    labels: int
    skips: int
    gold: agreement.GoldScore
    mean_seconds: float | None


@dataclass(frozen=True)
class KappaRow:
    first: str
    second: str
    kappa: float | None
    n: int


@dataclass(frozen=True)
class ProjectQuality:
    labels: int
    annotators: list[AnnotatorFigures]
    kappas: list[KappaRow]
    min_common: int
    alpha_ordinal: float | None  # over -2..2, both-bad and rankings left out
    alpha_nominal: float | None  # every value its own category, both-bad and rankings included
    items_with_several_labels: int


def project_quality(project, *, min_common: int = DEFAULT_MIN_COMMON) -> ProjectQuality:
    rows = selectors.project_label_rows(project)
    records = [(r.annotator_id, r.comparison_id, r.value) for r in rows]
    names = {r.annotator_id: r.annotator for r in rows}
    gold = agreement.gold_accuracy(records, selectors.project_gold_answers(project))
    skips = selectors.project_skips(project)
    counts = Counter(r.annotator_id for r in rows)
    seconds: dict[int, list[float]] = {}
    for r in rows:
        if r.seconds_spent is not None:
            seconds.setdefault(r.annotator_id, []).append(r.seconds_spent)
    annotators = [
        AnnotatorFigures(
            a,
            names[a],
            counts[a],
            skips.get(a, 0),
            gold[a],
            sum(seconds[a]) / len(seconds[a]) if seconds.get(a) else None,
        )
        for a in sorted(names, key=lambda a: names[a].lower())
    ]
    kappas = [
        KappaRow(names[p.first], names[p.second], p.kappa, p.n)
        for p in agreement.pairwise_kappa(records, min_common=min_common)
    ]
    ordinal_records = [(a, i, v) for a, i, v in records if isinstance(v, int)]
    units = agreement.units_from_labels(records)
    return ProjectQuality(
        labels=len(rows),
        annotators=annotators,
        kappas=kappas,
        min_common=min_common,
        alpha_ordinal=agreement.krippendorff_alpha(agreement.units_from_labels(ordinal_records), "ordinal"),
        alpha_nominal=agreement.krippendorff_alpha(units, "nominal"),
        items_with_several_labels=sum(len(u) >= 2 for u in units),
    )


# Model versions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionWinRate:
    x: object  # ModelVersion
    y: object
    result: agreement.WinRate
    wins: int
    ties: int
    losses: int
    both_bad: int


def _flip(o):
    return {agreement.WIN: agreement.LOSS, agreement.LOSS: agreement.WIN}.get(o, o)


def _win_rate(x, y, outcomes: list) -> VersionWinRate:
    counts = Counter(outcomes)
    return VersionWinRate(
        x,
        y,
        agreement.win_rate(outcomes, n_boot=N_BOOT, seed=0),
        counts[agreement.WIN],
        counts[agreement.TIE],
        counts[agreement.LOSS],
        counts[None],
    )


def version_win_rates(project) -> tuple[list, list[VersionWinRate]]:
    """The project's versions, and the win rate of every pair compared at least once (x the
    version with the lower id)."""
    versions = {v.pk: v for v in selectors.project_versions(project)}
    outcomes = selectors.version_outcomes(project)
    rates = [
        _win_rate(versions[x], versions[y], found)
        for (x, y), found in sorted(outcomes.items())
        if x in versions and y in versions
    ]
    return list(versions.values()), rates


def version_win_rate(project, x, y) -> VersionWinRate:
    """X's win rate against Y (either order), from the labels of comparisons of the two."""
    low, high = sorted((x.pk, y.pk))
    found = selectors.version_outcomes(project).get((low, high), [])
    if x.pk != low:
        found = [_flip(o) for o in found]
    return _win_rate(x, y, found)


@dataclass(frozen=True)
class WinRateRow:
    label: str
    y: float
    y_top: float  # the interval's end ticks
    y_bottom: float
    point: float | None
    low: float | None
    high: float | None
    tip: str
    selected: bool


@dataclass(frozen=True)
class WinRatePlot:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    middle: float  # x of 0.5
    ticks: list[tuple[float, str]]
    rows: list[WinRateRow]


def _short(name: str, limit: int = 18) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def win_rate_plot(rates: list[VersionWinRate], selected: VersionWinRate | None = None) -> WinRatePlot | None:
    """One row per pair of versions: a point at X's win rate over Y and a bar over its 95%
    bootstrap interval, on a 0..100% axis with a line at 50% (level). The selected pair first."""
    shown = list(rates)
    if selected is not None:
        key = {selected.x.pk, selected.y.pk}
        shown = [selected] + [r for r in shown if {r.x.pk, r.y.pk} != key]
    if not shown:
        return None
    width, left, right, top, row_height = 640, 250, 620, 12, 30
    bottom = top + row_height * len(shown)

    def px(value: float) -> float:
        return round(left + value * (right - left), 1)

    rows = []
    for i, r in enumerate(shown):
        w = r.result
        tip = (
            f"{r.x.name} vs {r.y.name}: no comparison counted"
            if w.rate is None
            else f"{r.x.name} vs {r.y.name}: {w.rate:.1%} of {w.n} (95% interval {w.low:.1%} to {w.high:.1%})"
        )
        middle = top + row_height * i + row_height / 2
        rows.append(
            WinRateRow(
                label=f"{_short(r.x.name)} vs {_short(r.y.name)}",
                y=middle,
                y_top=middle - 5,
                y_bottom=middle + 5,
                point=px(w.rate) if w.rate is not None else None,
                low=px(w.low) if w.low is not None else None,
                high=px(w.high) if w.high is not None else None,
                tip=tip,
                selected=selected is not None and i == 0,
            )
        )
    ticks = [(px(v), f"{round(v * 100)}%") for v in (0, 0.25, 0.5, 0.75, 1)]
    return WinRatePlot(width, bottom + 26, left, right, top, bottom, px(0.5), ticks, rows)
