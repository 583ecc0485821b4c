"""Preference annotation: comparisons of two or more outputs for one prompt, the labels
annotators give them, the history of every label, and the queue that hands them out.

A label is one row per (comparison, annotator) that may change; every create, change and undo
is also a LabelChange row, so what a label said at any time can be rebuilt (the dataset
builder does, for its cutoff). Reservations are short-lived claims on a comparison by the
queue; an expired one counts as free.

Choices of a pairwise label are strings (`Choice`): a_much_better, a_better, tie, b_better,
b_much_better, both_bad. "A" is output index 0, "B" index 1. A comparison with more than two
outputs is labelled with a `ranking`: the output indices, best first.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from webapp.preferences.agreement import BOTH_BAD


class Choice(models.TextChoices):
    A_MUCH_BETTER = "a_much_better", "A is much better"
    A_BETTER = "a_better", "A is better"
    TIE = "tie", "Tie"
    B_BETTER = "b_better", "B is better"
    B_MUCH_BETTER = "b_much_better", "B is much better"
    BOTH_BAD = "both_bad", "Both are bad"


# The one encoding of a pairwise choice besides its name: its place on agreement's scale, from
# -2 (A much better) to 2 (B much better), BOTH_BAD off the scale. Which output it prefers, and
# how strongly, are read from it (preferred_index, STRONG).
CHOICE_VALUE = {
    Choice.A_MUCH_BETTER: -2,
    Choice.A_BETTER: -1,
    Choice.TIE: 0,
    Choice.B_BETTER: 1,
    Choice.B_MUCH_BETTER: 2,
    Choice.BOTH_BAD: BOTH_BAD,
}
STRONG = tuple(choice for choice, value in CHOICE_VALUE.items() if value in (-2, 2))


def preferred_index(choice: str) -> int | None:
    """The output a pairwise choice prefers (0 is A, 1 is B); None for a tie or both bad."""
    value = CHOICE_VALUE[choice]
    if value == BOTH_BAD or value == 0:
        return None
    return 0 if value < 0 else 1


class QueueSettings(models.Model):
    """How a project's queue hands out comparisons. A project without a row uses the defaults."""

    project = models.OneToOneField("accounts.Project", on_delete=models.CASCADE, related_name="preference_queue")
    labels_per_comparison = models.PositiveSmallIntegerField(
        default=1, help_text="k: how many annotators label each comparison"
    )
    gold_rate = models.FloatField(default=0.0, help_text="share of queue positions given to gold comparisons, 0..1")
    reservation_seconds = models.PositiveIntegerField(
        default=600, help_text="how long a pulled comparison stays reserved"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(gold_rate__gte=0) & Q(gold_rate__lte=1), name="preference_gold_rate_0_1"
            ),
            models.CheckConstraint(condition=Q(labels_per_comparison__gte=1), name="preference_k_at_least_1"),
            models.CheckConstraint(condition=Q(reservation_seconds__gte=1), name="preference_reservation_positive"),
        ]

    def __str__(self) -> str:
        return f"queue of {self.project}"


class Comparison(models.Model):
    class Origin(models.TextChoices):
        VERSIONS = "versions", "two model versions"
        SAMPLES = "samples", "samples of one version"
        IMPORT = "import", "imported"
        WRITING = "writing", "writing decisions"
        CODING = "coding", "coding results"

    project = models.ForeignKey("accounts.Project", on_delete=models.CASCADE, related_name="comparisons")
    prompt = models.TextField()
    origin = models.CharField(max_length=10, choices=Origin.choices)
    is_gold = models.BooleanField(
        default=False, help_text="a comparison with a known answer, mixed into queues to check annotators"
    )
    gold_choice = models.CharField(
        max_length=16, choices=Choice.choices, blank=True, help_text="the known answer of a gold pair"
    )
    gold_ranking = models.JSONField(
        null=True, blank=True, help_text="the known ranking of a gold comparison of 3+ outputs"
    )
    # Where a derived or generated comparison came from, so that deriving again adds nothing twice.
    source_key = models.CharField(max_length=200, blank=True)
    meta = models.JSONField(default=dict, blank=True)
    # An admin's resolution of annotators' disagreement: when set, it is the comparison's answer
    # in exports and datasets, whatever the majority says. Clearing it gives the majority back.
    resolved_choice = models.CharField(max_length=16, choices=Choice.choices, blank=True)
    resolved_ranking = models.JSONField(
        null=True, blank=True, help_text="an admin's ranking of a comparison of 3+ outputs"
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "source_key"], condition=~Q(source_key=""), name="comparison_source_key_unique"
            ),
            models.CheckConstraint(
                condition=Q(is_gold=True) | (Q(gold_choice="") & Q(gold_ranking__isnull=True)),
                name="only_gold_has_answer",
            ),
            models.CheckConstraint(
                condition=Q(resolved_choice="") | Q(resolved_ranking__isnull=True),
                name="resolution_is_choice_or_ranking",
            ),
        ]
        indexes = [models.Index(fields=["project", "is_gold", "id"])]

    def __str__(self) -> str:
        return f"comparison {self.pk}"

    @property
    def is_resolved(self) -> bool:
        return bool(self.resolved_choice) or self.resolved_ranking is not None


class ComparisonOutput(models.Model):
    """One of the outputs compared; `model_version` when a known version wrote it (win rates)."""

    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="outputs")
    index = models.PositiveSmallIntegerField(help_text="0 is A, 1 is B, ...")
    text = models.TextField()
    source = models.CharField(max_length=200, blank=True, help_text="where it came from, e.g. a model version's name")
    model_version = models.ForeignKey(
        "registry.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["comparison_id", "index"]
        constraints = [models.UniqueConstraint(fields=["comparison", "index"], name="comparison_output_index_unique")]

    @property
    def letter(self) -> str:
        return chr(ord("A") + self.index)


class PreferenceLabel(models.Model):
    """An annotator's current judgement of a comparison: `choice` for a pair, `ranking` otherwise."""

    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="labels")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="preference_labels")
    choice = models.CharField(max_length=16, choices=Choice.choices, blank=True)
    ranking = models.JSONField(null=True, blank=True, help_text="output indices, best first (3+ outputs)")
    rationale = models.TextField(blank=True)
    seconds_spent = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["comparison_id", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["comparison", "annotator"], name="one_label_per_annotator"),
            models.CheckConstraint(
                condition=(~Q(choice="") & Q(ranking__isnull=True)) | (Q(choice="") & Q(ranking__isnull=False)),
                name="label_has_choice_or_ranking",
            ),
        ]
        indexes = [models.Index(fields=["annotator", "updated_at"])]
        permissions = [("view_all_labels", "Can see every annotator's preference labels and export them")]


class Resolution(models.Model):
    """History of admins' resolutions: what the comparison's answer became at `at`; an empty
    choice and no ranking means the resolution was cleared. Comparison.resolved_* is the latest."""

    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="resolutions")
    admin = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    choice = models.CharField(max_length=16, choices=Choice.choices, blank=True)
    ranking = models.JSONField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["comparison", "at"])]


class LabelChange(models.Model):
    """History: what a label became at `at` (for an undo, what it was before it was removed)."""

    class Action(models.TextChoices):
        CREATED = "created"
        CHANGED = "changed"
        UNDONE = "undone"

    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="label_changes")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    label = models.ForeignKey(PreferenceLabel, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes")
    action = models.CharField(max_length=10, choices=Action.choices)
    choice = models.CharField(max_length=16, choices=Choice.choices, blank=True)
    ranking = models.JSONField(null=True, blank=True)
    rationale = models.TextField(blank=True)
    seconds_spent = models.FloatField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["comparison", "annotator", "at"])]


class Skip(models.Model):
    """The annotator passed on this comparison; the queue never offers it to them again."""

    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="skips")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["comparison", "annotator"], name="one_skip_per_annotator")]


class Reservation(models.Model):
    """A comparison handed to an annotator by the queue, held for them until `expires_at`."""

    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="reservations")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["comparison", "annotator"], name="one_reservation_per_annotator")
        ]
        indexes = [models.Index(fields=["annotator", "expires_at"]), models.Index(fields=["comparison", "expires_at"])]
