import pytest
from django.contrib.auth.models import Group

from webapp.accounts.roles import ROLE_PERMISSIONS
from webapp.accounts.services import user_create, user_has_role


@pytest.mark.django_db
def test_migrate_creates_each_role_with_its_permissions():
    for role, perms in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        names = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert names == set(perms)


@pytest.mark.django_db
def test_writer_can_write_annotator_cannot_admin_is_staff():
    writer = user_create(username="w", password="pw-secret-1", role="writer")
    annotator = user_create(username="a", password="pw-secret-1", role="annotator")
    admin = user_create(username="ad", password="pw-secret-1", role="admin")
    assert writer.has_perm("writing.add_document") and not writer.is_staff
    assert not annotator.has_perm("writing.add_document")
    assert admin.is_staff and admin.has_perm("registry.change_modelversion")
    assert user_has_role(annotator, "annotator") and not user_has_role(annotator, "writer")


@pytest.mark.django_db
def test_unknown_role_is_refused():
    with pytest.raises(ValueError, match="unknown role"):
        user_create(username="x", password="pw-secret-1", role="superhero")
