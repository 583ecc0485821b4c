import pytest
from django.db import IntegrityError

from tests.factories import ModelVersionFactory
from webapp.registry.errors import RegistryError
from webapp.registry.models import ModelVersion, VersionEvent
from webapp.registry.services import (
    model_version_activate,
    model_version_active,
    model_version_promote,
    model_version_rollback,
)


@pytest.mark.django_db
def test_fresh_install_activates_the_configured_default_model(settings):
    settings.REDLINE_DEFAULT_MODEL = "/models/editor"
    version = model_version_active()
    assert (version.name, version.base_model, version.is_active) == ("default", "/models/editor", True)
    assert model_version_active().pk == version.pk


@pytest.mark.django_db
def test_activating_one_deactivates_the_other():
    a, b = ModelVersionFactory(), ModelVersionFactory()
    model_version_activate(version=a)
    model_version_activate(version=b)
    assert list(ModelVersion.objects.filter(is_active=True)) == [b]
    assert model_version_active() == b


@pytest.mark.django_db
def test_the_database_refuses_two_active_versions():
    ModelVersionFactory(is_active=True)
    with pytest.raises(IntegrityError):
        ModelVersionFactory(is_active=True)


@pytest.mark.django_db
def test_promotions_are_events_and_rollback_walks_them_back(admin_user):
    a, b, c = ModelVersionFactory(), ModelVersionFactory(), ModelVersionFactory()
    model_version_activate(version=a)
    first = model_version_promote(version=b, user=admin_user, reason="better")
    model_version_promote(version=c, user=None)
    assert (first.action, first.version, first.previous, first.by) == ("promote", b, a, admin_user)
    assert model_version_active() == c
    event = model_version_rollback(user=admin_user)
    assert (event.action, event.version, event.previous) == ("rollback", b, c)
    assert model_version_active() == b
    model_version_rollback(user=admin_user)
    assert model_version_active() == a
    with pytest.raises(RegistryError, match="nothing to roll back"):
        model_version_rollback(user=admin_user)
    assert VersionEvent.objects.count() == 4


@pytest.mark.django_db
def test_promoting_the_active_version_or_a_reward_model_is_refused(admin_user):
    editor = model_version_activate(version=ModelVersionFactory())
    reward = ModelVersionFactory(kind=ModelVersion.Kind.REWARD)
    with pytest.raises(RegistryError, match="already the active version"):
        model_version_promote(version=editor, user=admin_user)
    with pytest.raises(RegistryError, match="cannot make them"):
        model_version_promote(version=reward, user=admin_user)
    assert model_version_active() == editor
    with pytest.raises(IntegrityError):  # the database says the same
        ModelVersion.objects.filter(pk=reward.pk).update(is_active=True, kind="reward")


@pytest.mark.django_db
def test_the_editor_and_the_coder_are_active_and_promoted_independently(admin_user, settings):
    settings.REDLINE_CODE_MODEL = "/models/coder"
    editor, coder = model_version_active(), model_version_active(ModelVersion.Kind.CODER)
    assert (editor.kind, coder.kind, coder.base_model) == ("editor", "coder", "/models/coder")
    better_coder = ModelVersionFactory(kind=ModelVersion.Kind.CODER)
    model_version_promote(version=better_coder, user=admin_user)
    assert model_version_active(ModelVersion.Kind.CODER) == better_coder and model_version_active() == editor
    with pytest.raises(RegistryError, match="nothing to roll back"):
        model_version_rollback(user=admin_user)  # the editor was never promoted
    model_version_rollback(user=admin_user, kind=ModelVersion.Kind.CODER)
    assert model_version_active(ModelVersion.Kind.CODER) == coder
