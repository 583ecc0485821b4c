"""The model registry: every model that can make proposals or score them, and which is active.

A ModelVersion is a base (Hugging Face id or local path) and an optional PEFT adapter. Every
domain app records which version made what; training adds versions and says which run made
each. Nothing here is updated in place that a later reader needs: promotions and rollbacks are
VersionEvent rows.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class ModelVersion(models.Model):
    """A model: a base (Hugging Face id or local path) and an optional PEFT adapter. One editor
    (text revisions) and one coder (code and tests) are active; new proposals come from them and
    record which."""

    class Kind(models.TextChoices):
        EDITOR = "editor", "editor (proposes text edits)"
        CODER = "coder", "coder (proposes code and tests)"
        REWARD = "reward", "reward model (scores proposals)"

    PROPOSING = (Kind.EDITOR, Kind.CODER)

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.EDITOR)
    base_model = models.CharField(max_length=500, help_text="Hugging Face id or local path")
    adapter_path = models.CharField(max_length=500, blank=True, help_text="PEFT adapter directory, if any")
    is_active = models.BooleanField(default=False)
    reads_context = models.BooleanField(
        default=False,
        help_text="give this model the writer's past decisions on similar sentences in its prompt "
        "(for instruction-following models; every model's proposals are filtered by them either way)",
    )
    # Lineage: the version it was trained from; the run that made it (and so its snapshot) is
    # that run's `version`, kept by the training app (reverse accessor: training_run).
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=Q(is_active=True), name="one_active_model_version_per_kind"
            ),
            models.CheckConstraint(
                condition=Q(is_active=False) | Q(kind__in=["editor", "coder"]), name="only_proposing_models_are_active"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class VersionEvent(models.Model):
    """A change of the active version: a promotion or a rollback, by a person or by a project's policy."""

    class Action(models.TextChoices):
        PROMOTE = "promote"
        ROLLBACK = "rollback"

    action = models.CharField(max_length=10, choices=Action.choices)
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="events")
    previous = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.version}"
