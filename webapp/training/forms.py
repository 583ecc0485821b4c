"""Forms of the training screens. They check the shape of the input; whether a run can start
(data to train on, pairs for DPO, settings in range) is the services' to say."""

import uuid

from django import forms

from webapp.accounts.models import Project
from webapp.registry.datasets import dataset_builders
from webapp.registry.models import ModelVersion
from webapp.training.models import DatasetSnapshot, TrainingRun
from webapp.training.snapshots import MAX_HELD_OUT_PERCENT

# Optional settings the form offers; left empty, the method's defaults apply (inference/training/*_config.py).
SETTING_FIELDS = (
    "learning_rate",
    "num_epochs",
    "max_steps",
    "batch_size",
    "lora_r",
    "beta",
    "loss_type",
    "anchor_share",
)


class SourcesForm(forms.Form):
    """What a snapshot is made of; the preview uses this part alone."""

    sources = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, label="Feedback to train on")
    project = forms.ModelChoiceField(Project.objects.order_by("name"), required=False, empty_label="All projects")
    since = forms.DateTimeField(
        required=False,
        label="Only feedback after",
        help_text="Optional, e.g. 2026-11-01 00:00 (UTC).",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    held_out_percent = forms.IntegerField(
        min_value=0,
        max_value=MAX_HELD_OUT_PERCENT,
        initial=10,
        label="Held out for evaluation (%)",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        builders = dataset_builders()
        self.fields["sources"].choices = list(builders.items())
        self.fields["sources"].initial = list(builders)[:1]


class RunForm(SourcesForm):
    base_version = forms.ModelChoiceField(
        ModelVersion.objects.filter(kind__in=ModelVersion.PROPOSING),
        required=False,
        empty_label="The active editor",
        label="Start from",
        help_text="Train the coder on coding feedback, the editor on writing feedback.",
    )
    method = forms.ChoiceField(choices=TrainingRun.Method.choices, initial=TrainingRun.Method.SFT)
    finetune = forms.ChoiceField(
        choices=TrainingRun.Finetune.choices, initial=TrainingRun.Finetune.LORA, label="Fine-tuning"
    )
    snapshot = forms.ModelChoiceField(
        DatasetSnapshot.objects.all(),
        required=False,
        empty_label="A new snapshot of the feedback above",
        label="Dataset",
        help_text="Or train again on an existing snapshot.",
    )
    learning_rate = forms.FloatField(
        required=False, min_value=1e-8, max_value=1.0, help_text="Empty: the method's default."
    )
    num_epochs = forms.IntegerField(required=False, min_value=1, max_value=100, label="Epochs")
    max_steps = forms.IntegerField(required=False, min_value=1, max_value=1_000_000, help_text="Overrides the epochs.")
    batch_size = forms.IntegerField(required=False, min_value=1, max_value=1024)
    lora_r = forms.IntegerField(required=False, min_value=1, max_value=512, label="LoRA rank")
    beta = forms.FloatField(required=False, min_value=0.001, max_value=100, label="DPO beta")
    loss_type = forms.CharField(
        required=False,
        max_length=80,
        label="DPO loss",
        help_text="One of TRL's losses (sigmoid, ipo, sppo_hard, apo_zero...) or several joined by + (sigmoid+sft).",
    )
    anchor_share = forms.FloatField(
        required=False,
        min_value=0,
        max_value=10,
        label="General-English rows per feedback row",
        help_text="Rehearsal that keeps the editor from drifting on everyone else's prose. Empty: 3.",
    )
    promote_if_better = forms.BooleanField(
        required=False,
        label=(
            "Promote the new version if it passes the promotion gate "
            "(less left to fix on held-out rows, no more harm to everyday prose)"
        ),
    )
    request_token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["request_token"].initial = uuid.uuid4()
        self.fields["snapshot"].label_from_instance = lambda s: (
            f"#{s.pk} · {s.row_count} rows · {s.created_at:%Y-%m-%d %H:%M}"
        )
        self.fields["base_version"].label_from_instance = lambda v: (
            f"{v.name} ({v.kind}{', active' if v.is_active else ''})"
        )

    def clean(self):
        data = super().clean()
        if data.get("snapshot") is not None:
            self.errors.pop("sources", None)  # the snapshot says where its rows came from
        return data

    def settings_overrides(self) -> dict:
        data = self.cleaned_data
        values = {name: data.get(name) for name in SETTING_FIELDS if data.get(name) not in (None, "")}
        if data["method"] != TrainingRun.Method.DPO:
            values.pop("beta", None)
            values.pop("loss_type", None)
        if data["finetune"] != TrainingRun.Finetune.LORA:
            values.pop("lora_r", None)
        return values


class PolicyForm(forms.Form):
    enabled = forms.BooleanField(required=False, label="Retrain automatically")
    after_decisions = forms.IntegerField(
        min_value=1, max_value=1_000_000, initial=200, label="After this many new decisions"
    )
    method = forms.ChoiceField(choices=TrainingRun.Method.choices[:2], initial=TrainingRun.Method.SFT)
    promote_if_better = forms.BooleanField(
        required=False, initial=True, label="Promote only if the new version passes the promotion gate"
    )


class CompareForm(forms.Form):
    """The two versions the compare page puts side by side (?a=&b=); an id that is not one is an error."""

    a = forms.ModelChoiceField(ModelVersion.objects.all(), required=False)
    b = forms.ModelChoiceField(ModelVersion.objects.all(), required=False)


class EvaluateForm(forms.Form):
    snapshot = forms.ModelChoiceField(DatasetSnapshot.objects.filter(held_out_count__gt=0))
