"""How preference labels read on the screens."""

from django import template

from webapp.preferences.models import Choice

register = template.Library()


def _letters(ranking) -> str:
    return " > ".join(chr(ord("A") + int(i)) for i in ranking)


@register.filter
def label_text(label) -> str:
    """A label (or anything with choice and ranking) in words: "A is better", "B > A > C"."""
    if getattr(label, "ranking", None) is not None:
        return _letters(label.ranking)
    choice = getattr(label, "choice", "")
    return Choice(choice).label if choice in Choice.values else "–"


@register.filter
def resolution_text(comparison) -> str:
    if comparison.resolved_ranking is not None:
        return _letters(comparison.resolved_ranking)
    return Choice(comparison.resolved_choice).label if comparison.resolved_choice else ""


@register.filter
def percent(value, digits: int = 1) -> str:
    """0.625 -> "62.5%"; None -> "–"."""
    if value is None:
        return "–"
    return f"{value * 100:.{int(digits)}f}%"


@register.filter
def figure(value, digits: int = 3) -> str:
    """A kappa or an alpha to `digits` places; None -> "undefined"."""
    if value is None:
        return "undefined"
    return f"{value:.{int(digits)}f}"
