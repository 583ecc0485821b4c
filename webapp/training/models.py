from django.db import models
from django.db.models import Q


class ModelVersion(models.Model):
    """A model that can make proposals. Exactly one is active; proposals record which made them."""

    name = models.CharField(max_length=200, unique=True)
    base_model = models.CharField(max_length=500, help_text="Hugging Face id or local path")
    adapter_path = models.CharField(max_length=500, blank=True, help_text="PEFT adapter directory, if any")
    is_active = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=Q(is_active=True), name="one_active_model_version")
        ]

    def __str__(self) -> str:
        return self.name
