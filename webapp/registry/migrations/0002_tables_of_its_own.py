# Now that no app's state holds training.ModelVersion, the tables take the registry's names.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0001_initial"),
        ("training", "0005_registry_owns_versions"),
    ]

    operations = [
        migrations.AlterModelTable(name="modelversion", table=None),
        migrations.AlterModelTable(name="versionevent", table=None),
    ]
