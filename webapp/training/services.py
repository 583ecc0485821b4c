from django.conf import settings
from django.db import transaction

from webapp.training.models import ModelVersion


@transaction.atomic
def model_version_active() -> ModelVersion:
    """The active model version; on a new install, one for the configured default model."""
    active = ModelVersion.objects.filter(is_active=True).first()
    if active is not None:
        return active
    version, _ = ModelVersion.objects.get_or_create(
        name="default", defaults={"base_model": settings.REDLINE_DEFAULT_MODEL}
    )
    ModelVersion.objects.filter(pk=version.pk).update(is_active=True)
    version.is_active = True
    return version


@transaction.atomic
def model_version_activate(*, version: ModelVersion) -> ModelVersion:
    """Make `version` the one that new proposals come from."""
    ModelVersion.objects.select_for_update().filter(is_active=True).exclude(pk=version.pk).update(is_active=False)
    ModelVersion.objects.filter(pk=version.pk).update(is_active=True)
    version.is_active = True
    return version
