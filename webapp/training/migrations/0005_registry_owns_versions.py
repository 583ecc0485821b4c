# Every app's foreign keys now name registry.ModelVersion: training lets go of the models
# (state only; the tables are the registry's, renamed in registry 0002).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0004_run_keeps_its_version"),
        ("writing", "0002_model_version_in_registry"),
        ("coding", "0002_model_version_in_registry"),
        ("preferences", "0003_model_version_in_registry"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="VersionEvent"),
                migrations.DeleteModel(name="ModelVersion"),
            ],
        ),
    ]
