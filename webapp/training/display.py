"""What the training screens draw: the loss curve of a run, and per version its evaluation
figures and the writers' acceptance over time (webapp.core.charts lays them out)."""

from webapp.core.charts import LineChart, Series, day_axis, line_chart, percent_axis
from webapp.registry import feedback
from webapp.registry.models import ModelVersion
from webapp.training import selectors

EVALUATION_FIGURES = (
    ("final_edit_cost_reduction", "Writers' fixing done (final text)"),
    ("everyday_untouched", "Everyday prose left alone when correct"),
    ("everyday_harm", "Everyday sentences harmed"),
    ("preference_accuracy", "Preference accuracy (diagnostic)"),
    ("reward_accuracy", "Reward accuracy"),
)


def loss_chart(loss: list[tuple[int, float]]) -> LineChart | None:
    """The run's loss per step, or None before its first logged step."""
    return line_chart([Series("loss", loss)]) if loss else None


def figures_chart(versions: list[ModelVersion]):
    """Evaluation figures per version, oldest version first (x = its place in that order)."""
    ordered = sorted(versions, key=lambda v: (v.created_at, v.pk))
    series = []
    for key, label in EVALUATION_FIGURES:
        points = [
            (i, selectors.latest_metrics(v)[key])
            for i, v in enumerate(ordered)
            if isinstance(selectors.latest_metrics(v).get(key), (int, float))
        ]
        if points:
            series.append(Series(label, points))
    if not series:
        return None
    ticks = [(i, f"#{v.pk}") for i, v in enumerate(ordered)]
    return line_chart(series, y_range=(0, 1), x_ticks=ticks, y_format=percent_axis)


def acceptance_chart(versions: list[ModelVersion]):
    """Writers' acceptance rate of each version's proposals, per day (at most 8 versions)."""
    shown = [v for v in versions if v.kind == ModelVersion.Kind.EDITOR][:8]
    daily = feedback.acceptance_by_version_and_day([v.pk for v in shown])
    series = [
        Series(
            v.name if len(v.name) <= 40 else v.name[:39] + "…",
            [(d.day.toordinal(), d.rate) for d in daily[v.pk] if d.rate is not None],
        )
        for v in shown
        if v.pk in daily
    ]
    series = [s for s in series if s.points]
    if not series:
        return None
    return line_chart(series, y_range=(0, 1), x_format=day_axis, y_format=percent_axis)
