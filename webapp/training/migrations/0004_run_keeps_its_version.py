# The registry (webapp.registry) takes over ModelVersion and VersionEvent. The lineage a version
# kept of training (its run, its snapshot) becomes the run's: TrainingRun.version, copied from
# ModelVersion.training_run; a version's snapshot is its run's.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0003_active_per_kind"),
        ("registry", "0001_initial"),
    ]

    operations = [
        # Free the name `version` on TrainingRun (the reverse accessor of the old field).
        migrations.AlterField(
            model_name="modelversion",
            name="training_run",
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="training.trainingrun"),
        ),
        migrations.AddField(
            model_name="trainingrun",
            name="version",
            field=models.OneToOneField(blank=True, help_text="the version the run made, once it succeeded", null=True, on_delete=django.db.models.deletion.PROTECT, related_name="training_run", to="registry.modelversion"),
        ),
        migrations.RunSQL(
            "UPDATE training_trainingrun AS run SET version_id = version.id "
            "FROM training_modelversion AS version WHERE version.training_run_id = run.id",
            reverse_sql="UPDATE training_modelversion AS version SET training_run_id = run.id, snapshot_id = run.snapshot_id "
            "FROM training_trainingrun AS run WHERE run.version_id = version.id",
        ),
        migrations.RemoveField(model_name="modelversion", name="training_run"),
        migrations.RemoveField(model_name="modelversion", name="snapshot"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="trainingrun",
                    name="base_version",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="runs", to="registry.modelversion"),
                ),
                migrations.AlterField(
                    model_name="evaluation",
                    name="version",
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="evaluations", to="registry.modelversion"),
                ),
            ],
        ),
    ]
