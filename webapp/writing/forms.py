"""Forms of the writing screens. They check the shape of the input; what the loop allows
(empty text, size limits, known instructions, verdicts) is the services' to say."""

from pathlib import PurePath

from django import forms
from django.conf import settings

from inference.instructions import DEFAULT_INSTRUCTION, INSTRUCTIONS

UPLOAD_SUFFIXES = (".txt", ".md")
# UTF-8 takes at most 4 bytes a character: a larger file is over the character limit for sure.
BYTES_PER_CHAR = 4


def upload_decode(upload) -> str:
    """The text of an uploaded .txt/.md file, decoded as strict UTF-8 (a leading BOM is
    dropped); ValidationError saying what is wrong otherwise."""
    name = upload.name or "the file"
    if PurePath(name).suffix.lower() not in UPLOAD_SUFFIXES:
        raise forms.ValidationError(f"“{name}” is not a .txt or .md file. Upload plain text or Markdown.")
    limit = settings.REDLINE_MAX_DOCUMENT_CHARS
    if upload.size > limit * BYTES_PER_CHAR:
        raise forms.ValidationError(
            f"“{name}” is {upload.size:,} bytes; documents are limited to {limit:,} characters. Nothing was saved."
        )
    data = upload.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise forms.ValidationError(
            f"“{name}” is not valid UTF-8 text (byte {exc.start:,} cannot be decoded). "
            "Save it as UTF-8 and upload it again. Nothing was saved."
        ) from None


class DocumentCreateForm(forms.Form):
    title = forms.CharField(required=False, max_length=300, help_text="Optional; the first line of the text otherwise.")
    text = forms.CharField(
        required=False,
        strip=False,
        label="Text",
        widget=forms.Textarea(attrs={"rows": 10, "placeholder": "Paste your text here…", "spellcheck": "false"}),
    )
    file = forms.FileField(
        required=False,
        label="Or upload a file",
        help_text=".txt or .md, UTF-8",
        widget=forms.ClearableFileInput(attrs={"accept": ".txt,.md,text/plain,text/markdown"}),
    )
    max_depth = forms.IntegerField(
        min_value=1, max_value=50, label="Maximum depth", help_text="How many rounds the model may revise."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["max_depth"].initial = settings.REDLINE_MAX_DEPTH

    def clean(self):
        data = super().clean()
        upload = data.get("file")
        if upload:
            if (data.get("text") or "").strip():
                raise forms.ValidationError("Paste text or upload a file, not both.")
            try:
                data["text"] = upload_decode(upload)
            except forms.ValidationError as exc:
                self.add_error("file", exc)
        return data


class ImportForm(forms.Form):
    file = forms.FileField(
        label="File to import",
        help_text="A Redline export or R3/IteraTeR revision records (.jsonl, .json), or plain text (.txt, .md).",
        widget=forms.ClearableFileInput(attrs={"accept": ".jsonl,.json,.txt,.md"}),
    )


class SuggestForm(forms.Form):
    # Any key is passed on: the service names the unknown instruction and the valid ones.
    instruction = forms.CharField(
        initial=DEFAULT_INSTRUCTION,
        widget=forms.Select(choices=[(key, i.label) for key, i in INSTRUCTIONS.items()]),
    )
    custom_text = forms.CharField(
        required=False,
        max_length=2000,
        label="Free instruction",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Make this sound friendlier", "autocomplete": "off"}),
    )


class TextEditForm(forms.Form):
    text = forms.CharField(
        required=False, strip=False, label="Text", widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "true"})
    )


_STALE_PAGE = "The page is out of date; reload it and decide again."


class DecisionForm(forms.Form):
    verdict = forms.CharField(max_length=20)
    based_on = forms.IntegerField(
        min_value=0, error_messages={"required": _STALE_PAGE, "invalid": _STALE_PAGE, "min_value": _STALE_PAGE}
    )


class VerdictForm(forms.Form):
    verdict = forms.CharField(max_length=20)


class ApplyForm(forms.Form):
    revise_again = forms.TypedChoiceField(
        choices=[("1", "Apply and revise again"), ("0", "Apply only")], coerce=lambda value: value == "1"
    )


def form_errors(form: forms.Form) -> str:
    """A form's errors as one sentence-per-error line, for fragments that show one message."""
    return " ".join(str(message) for messages in form.errors.values() for message in messages)
