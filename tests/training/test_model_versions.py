import pytest
from django.db import IntegrityError

from tests.factories import ModelVersionFactory
from webapp.training.models import ModelVersion
from webapp.training.services import model_version_activate, model_version_active


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
