"""Writes of the model registry: the active version of each kind, promotion and rollback.

Promotion and rollback change which version is active; each is a VersionEvent row, so the
history of what was active when is never lost.
"""

from django.conf import settings
from django.db import transaction

from webapp.registry.errors import RegistryError
from webapp.registry.models import ModelVersion, VersionEvent


def default_model(kind: str) -> str:
    """The model a new install starts with for `kind`: REDLINE_MODEL or REDLINE_CODE_MODEL."""
    return settings.REDLINE_CODE_MODEL if kind == ModelVersion.Kind.CODER else settings.REDLINE_DEFAULT_MODEL


@transaction.atomic
def model_version_active(kind: str = ModelVersion.Kind.EDITOR) -> ModelVersion:
    """The active version of `kind` (editor or coder); on a new install, one for the configured model."""
    active = ModelVersion.objects.filter(is_active=True, kind=kind).first()
    if active is not None:
        return active
    name = "default" if kind == ModelVersion.Kind.EDITOR else f"default {kind}"
    version, _ = ModelVersion.objects.get_or_create(
        name=name, defaults={"base_model": default_model(kind), "kind": kind}
    )
    ModelVersion.objects.filter(pk=version.pk).update(is_active=True)
    version.is_active = True
    return version


# A version made from REDLINE_MODEL / REDLINE_CODE_MODEL (model_version_configured) is named with this prefix.
CONFIGURED_PREFIX = "configured: "


@transaction.atomic
def model_version_configured(kind: str = ModelVersion.Kind.EDITOR) -> tuple[ModelVersion, str]:
    """Make the configured model of `kind` the active version, unless an admin (or a policy)
    promoted another one: then that one stays. Returns the active version and what happened.
    Existing versions are never changed in place."""
    configured = default_model(kind)
    active = model_version_active(kind)  # on a new install this creates the default from the setting
    if active.base_model == configured and not active.adapter_path:
        return active, "active"
    chosen_by_hand = not active.name.startswith(("default", CONFIGURED_PREFIX))
    if chosen_by_hand or VersionEvent.objects.filter(version=active).exists():
        return active, f"kept (promoted); the configured {configured} is not used"
    prefix = CONFIGURED_PREFIX if kind == ModelVersion.Kind.EDITOR else f"{CONFIGURED_PREFIX}{kind} "
    version, _ = ModelVersion.objects.get_or_create(
        name=(prefix + configured)[:200], defaults={"base_model": configured, "kind": kind}
    )
    return model_version_activate(version=version), "activated from the configuration"


@transaction.atomic
def model_version_activate(*, version: ModelVersion) -> ModelVersion:
    """Make `version` the one that new proposals of its kind come from (no event; see model_version_promote)."""
    if version.kind not in ModelVersion.PROPOSING:
        raise RegistryError("A reward model scores proposals; it cannot make them. Promote an editor or a coder.")
    ModelVersion.objects.select_for_update().filter(is_active=True, kind=version.kind).exclude(pk=version.pk).update(
        is_active=False
    )
    ModelVersion.objects.filter(pk=version.pk).update(is_active=True)
    version.is_active = True
    return version


@transaction.atomic
def model_version_promote(*, version: ModelVersion, user=None, reason: str = "") -> VersionEvent:
    """Make `version` active for its kind and record who did it and why (user None: a policy)."""
    previous = ModelVersion.objects.select_for_update().filter(is_active=True, kind=version.kind).first()
    if previous is not None and previous.pk == version.pk:
        raise RegistryError(f"{version.name} is already the active version.")
    model_version_activate(version=version)
    return VersionEvent.objects.create(
        action=VersionEvent.Action.PROMOTE, version=version, previous=previous, by=user, reason=reason
    )


@transaction.atomic
def model_version_rollback(*, user=None, kind: str = ModelVersion.Kind.EDITOR) -> VersionEvent:
    """Undo the promotion that made the active version of `kind` active: the version active
    before it becomes active again. Rolling back again goes one promotion further back."""
    active = ModelVersion.objects.select_for_update().filter(is_active=True, kind=kind).first()
    promotion = (
        VersionEvent.objects.filter(action=VersionEvent.Action.PROMOTE, version=active, previous__isnull=False)
        .select_related("previous")
        .order_by("-at", "-id")
        .first()
        if active is not None
        else None
    )
    if promotion is None:
        raise RegistryError("There is nothing to roll back to: the active version was never promoted over another.")
    model_version_activate(version=promotion.previous)
    return VersionEvent.objects.create(
        action=VersionEvent.Action.ROLLBACK,
        version=promotion.previous,
        previous=active,
        by=user,
        reason=f"rolled back from {active.name}",
    )
