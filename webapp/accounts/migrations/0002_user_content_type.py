# The data half of taking over Django's user (see 0001): the content type auth.user becomes
# accounts.user, keeping its id, so the permissions on users and the admin's history of them
# carry on. On a new database there is none yet (content types are made after migrating).

from django.db import migrations


def _move(apps, schema_editor, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label=new, model="user").exists():
        ContentType.objects.filter(app_label=old, model="user").update(app_label=new)


def forwards(apps, schema_editor):
    _move(apps, schema_editor, "auth", "accounts")


def backwards(apps, schema_editor):
    _move(apps, schema_editor, "accounts", "auth")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
