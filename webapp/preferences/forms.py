"""Forms of the preference screens: the shape of the input. Whether a label fits its comparison
(a choice for a pair, a full ranking for more) is the services' to say."""

import math
import re

from django import forms

from webapp.preferences.models import Choice
from webapp.preferences.services import MAX_OUTPUTS, MAX_RATIONALE_CHARS

MAX_SECONDS = 24 * 3600
_RANK_TOKEN = re.compile(r"[\s,;>]+")


def parse_ranking(text: str) -> list[int] | None:
    """'C, A, B' or '3 1 2' (output letters or numbers, best first) as output indices; None
    when empty. ValidationError for anything else."""
    tokens = [t for t in _RANK_TOKEN.split(text.strip()) if t]
    if not tokens:
        return None
    indices = []
    for token in tokens:
        if len(token) == 1 and token.isalpha() and "a" <= token.lower() <= chr(ord("a") + MAX_OUTPUTS - 1):
            indices.append(ord(token.lower()) - ord("a"))
        elif token.isdecimal() and len(token) <= 3 and 1 <= int(token) <= MAX_OUTPUTS:
            indices.append(int(token) - 1)
        else:
            raise forms.ValidationError(f"“{token}” is not an output: use the outputs' letters or numbers, best first.")
    return indices


class RankingField(forms.CharField):
    def to_python(self, value):
        return parse_ranking(super().to_python(value) or "")


class LabelForm(forms.Form):
    choice = forms.ChoiceField(choices=[("", "")] + Choice.choices, required=False)
    ranking = RankingField(required=False, max_length=100)
    rationale = forms.CharField(
        required=False, max_length=MAX_RATIONALE_CHARS, widget=forms.Textarea(attrs={"rows": 2})
    )
    # Measured by the page from showing the comparison to submitting the label.
    seconds = forms.FloatField(required=False, min_value=0, max_value=MAX_SECONDS)

    def clean_seconds(self):
        seconds = self.cleaned_data.get("seconds")
        if seconds is not None and not math.isfinite(seconds):
            raise forms.ValidationError("The time spent must be a number of seconds.")
        return seconds

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("choice") and data.get("ranking") is None:
            raise forms.ValidationError("Choose which output is better, or rank the outputs.")
        return data


class ResolveForm(forms.Form):
    choice = forms.ChoiceField(choices=[("", "")] + Choice.choices, required=False)
    ranking = RankingField(required=False, max_length=100)
    clear = forms.BooleanField(required=False)

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("clear") and not data.get("choice") and data.get("ranking") is None:
            raise forms.ValidationError("Choose the answer that stands, or clear the resolution.")
        return data
