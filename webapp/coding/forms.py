"""Forms of the coding screens: the shape of the input. What the loop allows is the services' to say."""

from django import forms


class ProblemForm(forms.Form):
    title = forms.CharField(required=False, max_length=300, help_text="Optional; the statement's first line otherwise.")
    statement = forms.CharField(
        strip=False, widget=forms.Textarea(attrs={"rows": 6, "placeholder": "What should the function do?"})
    )
    entry_point = forms.CharField(required=False, max_length=100, label="Function name", help_text="e.g. is_palindrome")
    signature = forms.CharField(
        required=False, max_length=1000, help_text="Optional, e.g. def is_palindrome(text: str) -> bool:"
    )
    tests = forms.CharField(
        required=False,
        strip=False,
        label="Your tests",
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false", "placeholder": "assert is_palindrome('abba')"}),
        help_text="Optional: assert statements or test_ functions, one check each. They count as validated.",
    )


class RoundForm(forms.Form):
    critique = forms.CharField(
        required=False,
        strip=False,
        max_length=2000,
        label="What is wrong so far?",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Optional: tell the model what to do differently"}),
    )


class VerdictForm(forms.Form):
    verdict = forms.ChoiceField(choices=[("accept", "accept"), ("reject", "reject")])


class TestCodeForm(forms.Form):
    code = forms.CharField(strip=False, widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}))
