"""Reads of the model registry; they never write (model_version_active creates the first
version on a new install, from a write path)."""

from webapp.registry.models import ModelVersion


def version_active(kind: str = ModelVersion.Kind.EDITOR) -> ModelVersion | None:
    """The active version of `kind`, or None before anything was proposed on a new install."""
    return ModelVersion.objects.filter(is_active=True, kind=kind).first()
