"""Redline's own user model, on the tables Django's user had (webapp/accounts/models.py)."""

import importlib

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

from tests.factories import PASSWORD, UserFactory


def test_the_user_model_is_redlines_on_djangos_tables(db):
    User = get_user_model()
    assert User._meta.label == "accounts.User" and User._meta.db_table == "auth_user"
    assert User.groups.through._meta.db_table == "auth_user_groups"
    user = UserFactory(role="writer")
    assert user.check_password(PASSWORD) and user.has_perm("writing.add_document")


def test_the_data_migration_moves_the_content_type_of_djangos_user(db):
    migration = importlib.import_module("webapp.accounts.migrations.0002_user_content_type")
    user_type = ContentType.objects.get(app_label="accounts", model="user")
    ContentType.objects.filter(pk=user_type.pk).update(app_label="auth")  # as on a database made before
    migration.forwards(apps, None)
    moved = ContentType.objects.get(pk=user_type.pk)
    assert moved.app_label == "accounts"  # the same row: permissions and admin history keep pointing at it
    codenames = set(Permission.objects.filter(content_type=moved).values_list("codename", flat=True))
    assert {"add_user", "change_user", "view_user"} <= codenames
    migration.forwards(apps, None)  # running it again changes nothing
    assert ContentType.objects.filter(model="user").count() == 1
