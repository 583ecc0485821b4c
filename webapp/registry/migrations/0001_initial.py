# The registry's models were training's: this takes them over without touching the tables
# (state only); 0002 renames the tables once training has let go of them.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("training", "0003_active_per_kind"),
    ]

    state_operations = [
        migrations.CreateModel(
            name="ModelVersion",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=200, unique=True)),
                ("kind", models.CharField(choices=[("editor", "editor (proposes text edits)"), ("coder", "coder (proposes code and tests)"), ("reward", "reward model (scores proposals)")], default="editor", max_length=10)),
                ("base_model", models.CharField(help_text="Hugging Face id or local path", max_length=500)),
                ("adapter_path", models.CharField(blank=True, help_text="PEFT adapter directory, if any", max_length=500)),
                ("is_active", models.BooleanField(default=False)),
                ("reads_context", models.BooleanField(default=False, help_text="give this model the writer's past decisions on similar sentences in its prompt (for instruction-following models; every model's proposals are filtered by them either way)")),
                ("description", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("created_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                ("parent", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="children", to="registry.modelversion")),
            ],
            options={"ordering": ["-created_at", "-id"], "db_table": "training_modelversion"},
        ),
        migrations.CreateModel(
            name="VersionEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("action", models.CharField(choices=[("promote", "Promote"), ("rollback", "Rollback")], max_length=10)),
                ("reason", models.TextField(blank=True)),
                ("at", models.DateTimeField(auto_now_add=True)),
                ("by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                ("previous", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="registry.modelversion")),
                ("version", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="events", to="registry.modelversion")),
            ],
            options={"ordering": ["-at", "-id"], "db_table": "training_versionevent"},
        ),
        migrations.AddConstraint(
            model_name="modelversion",
            constraint=models.UniqueConstraint(condition=models.Q(("is_active", True)), fields=("kind",), name="one_active_model_version_per_kind"),
        ),
        migrations.AddConstraint(
            model_name="modelversion",
            constraint=models.CheckConstraint(condition=models.Q(("is_active", False), ("kind__in", ["editor", "coder"]), _connector="OR"), name="only_proposing_models_are_active"),
        ),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=state_operations)]
