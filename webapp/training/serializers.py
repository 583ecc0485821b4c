"""Shapes of the training JSON API: what each endpoint reads (…Input) and what it answers."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from webapp.accounts.models import Project
from webapp.core.serializers import JobProgressSerializer
from webapp.registry.models import ModelVersion, VersionEvent
from webapp.training.models import DatasetSnapshot, Evaluation, TrainingRun
from webapp.training.selectors import latest_metrics, run_series, version_run
from webapp.training.snapshots import MAX_HELD_OUT_PERCENT

# Output fields whose name another model uses with other choices (status, action, kind) are plain
# strings, so that the schema names each enum once (drf-spectacular warns on colliding enum names).

SERIES_SCHEMA = {
    "type": "object",
    "additionalProperties": {
        "type": "array",
        "items": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
    },
    "description": "every value the trainer logged, by name, as [step, value] in step order",
}


# ---------------------------------------------------------------------------------------------
# Answers


class TrainingRunSerializer(serializers.ModelSerializer):
    """Expects runs from selectors.runs_recent (`version`, `job`, `created_by` joined)."""

    status = serializers.CharField(read_only=True, help_text="queued, running, succeeded, failed or cancelled")
    percent = serializers.IntegerField(read_only=True)
    version = serializers.SerializerMethodField(help_text="the model version the run made; null until it succeeds")
    job = JobProgressSerializer(read_only=True, allow_null=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = TrainingRun
        fields = [
            "id",
            "method",
            "finetune",
            "status",
            "step",
            "total_steps",
            "percent",
            "eta_seconds",
            "error",
            "trigger",
            "promote_if_better",
            "base_version",
            "snapshot",
            "project",
            "version",
            "job",
            "device",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_version(self, run: TrainingRun):
        version = getattr(run, "version", None)  # a reverse one-to-one: missing raises, hence getattr
        return version.pk if version is not None else None


class TrainingRunDetailSerializer(TrainingRunSerializer):
    points = serializers.SerializerMethodField()

    class Meta(TrainingRunSerializer.Meta):
        fields = [*TrainingRunSerializer.Meta.fields, "hyperparameters", "metrics", "log", "points"]

    @extend_schema_field(SERIES_SCHEMA)
    def get_points(self, run: TrainingRun):
        return {name: [[step, value] for step, value in points] for name, points in run_series(run).items()}


class SnapshotSerializer(serializers.ModelSerializer):
    sources = serializers.ListField(child=serializers.CharField(), read_only=True)
    counts = serializers.JSONField(read_only=True, help_text="per source: train, held_out and pairs")
    train_count = serializers.IntegerField(read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = DatasetSnapshot
        fields = [
            "id",
            "created_by",
            "created_at",
            "sources",
            "project",
            "since",
            "cutoff",
            "held_out_percent",
            "counts",
            "row_count",
            "train_count",
            "held_out_count",
            "content_hash",
        ]


class SourceCountsSerializer(serializers.Serializer):
    train = serializers.IntegerField()
    held_out = serializers.IntegerField()
    pairs = serializers.IntegerField()


class SnapshotPreviewSerializer(serializers.Serializer):
    counts = serializers.DictField(child=SourceCountsSerializer(), help_text="per source")
    rows = serializers.IntegerField()
    pairs = serializers.IntegerField()


class EvaluationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Evaluation
        fields = ["id", "snapshot", "metrics", "samples", "seconds", "created_at"]


class ModelVersionSerializer(serializers.ModelSerializer):
    """Expects versions from selectors.versions_with_evaluations (`.evaluation_list`)."""

    kind = serializers.CharField(
        read_only=True,
        help_text="editor (proposes text edits), coder (proposes code and tests) or reward (scores proposals)",
    )
    latest_metrics = serializers.SerializerMethodField(help_text="the figures of its newest evaluation; {} if none")
    training_run = serializers.SerializerMethodField(help_text="the run that made it; null if none did")
    snapshot = serializers.SerializerMethodField(help_text="the snapshot that run trained on; null if none")

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "name",
            "kind",
            "base_model",
            "adapter_path",
            "is_active",
            "reads_context",
            "parent",
            "training_run",
            "snapshot",
            "description",
            "created_at",
            "latest_metrics",
        ]

    @extend_schema_field(serializers.DictField())
    def get_latest_metrics(self, version: ModelVersion):
        return latest_metrics(version)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_training_run(self, version: ModelVersion) -> int | None:
        run = version_run(version)
        return run.pk if run else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_snapshot(self, version: ModelVersion) -> int | None:
        run = version_run(version)
        return run.snapshot_id if run else None


class ModelVersionDetailSerializer(ModelVersionSerializer):
    evaluations = EvaluationSerializer(source="evaluation_list", many=True, read_only=True)

    class Meta(ModelVersionSerializer.Meta):
        fields = [*ModelVersionSerializer.Meta.fields, "evaluations"]


class VersionEventSerializer(serializers.ModelSerializer):
    action = serializers.CharField(read_only=True, help_text="promote or rollback")
    by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = VersionEvent
        fields = ["id", "action", "version", "previous", "by", "reason", "at"]


class VersionChangeSerializer(serializers.Serializer):
    event = VersionEventSerializer()
    active = ModelVersionDetailSerializer(help_text="the version active now")


# ---------------------------------------------------------------------------------------------
# Input


class SourcesInput(serializers.Serializer):
    """Which feedback a snapshot is made of. Unknown sources are the service's to refuse (400)."""

    sources = serializers.ListField(child=serializers.CharField(), allow_empty=False, default=["writing"])
    project = serializers.PrimaryKeyRelatedField(
        queryset=Project.objects.all(), required=False, allow_null=True, default=None
    )
    since = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="only feedback after this time"
    )
    held_out_percent = serializers.IntegerField(min_value=0, max_value=MAX_HELD_OUT_PERCENT, default=10)


class RunStartInput(SourcesInput):
    """A run to queue: its method and settings, and its data (a snapshot, or the feedback to freeze in a new one)."""

    method = serializers.ChoiceField(choices=TrainingRun.Method.choices)
    finetune = serializers.ChoiceField(choices=TrainingRun.Finetune.choices, default=TrainingRun.Finetune.LORA)
    settings = serializers.DictField(
        required=False,
        default=dict,
        help_text="the method's settings to change (learning_rate, num_epochs, max_steps, batch_size, lora_r, "
        "beta for DPO, ...); the rest keep the method's defaults. An unknown setting or a bad value is a 400.",
    )
    snapshot = serializers.PrimaryKeyRelatedField(
        queryset=DatasetSnapshot.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="train on this snapshot; without it a new one is made of sources/project/since",
    )
    promote_if_better = serializers.BooleanField(default=False)
    request_token = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="a retried request with the same token answers the run the first one started (200)",
    )

    def validate_settings(self, value: dict) -> dict:
        if "finetune" in value:
            raise serializers.ValidationError("Give finetune beside settings, not inside them.")
        return value


class PromoteInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class RollbackInput(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=ModelVersion.PROPOSING, default=ModelVersion.Kind.EDITOR, help_text="which active version to roll back"
    )
