"""Shapes of the preference JSON API: what each endpoint reads (…Input) and what it answers.

Annotators label blind: for them a comparison shows neither where its outputs came from
(source, model version) nor whether it is gold; admins see everything.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from webapp.preferences import services
from webapp.preferences.models import (
    Choice,
    Comparison,
    ComparisonOutput,
    PreferenceLabel,
    QueueSettings,
)

ADMIN_ONLY = "(admins only; left out for annotators, who label blind)"

# Output fields with choices are plain strings, so that the schema names each enum once.


class ComparisonOutputSerializer(serializers.ModelSerializer):
    letter = serializers.CharField(read_only=True, help_text="A for index 0, B for 1, ...")
    model_version = serializers.SlugRelatedField(
        slug_field="name", read_only=True, allow_null=True, help_text=f"the version that wrote it {ADMIN_ONLY}"
    )

    class Meta:
        model = ComparisonOutput
        fields = ["index", "letter", "text", "source", "model_version"]
        extra_kwargs = {"source": {"help_text": f"where it came from {ADMIN_ONLY}"}}


class ComparisonSerializer(serializers.ModelSerializer):
    """Expects comparisons from selectors (outputs prefetched) and context["sees_all"]."""

    origin = serializers.CharField(read_only=True, help_text="versions, samples, import, writing or coding")
    outputs = ComparisonOutputSerializer(many=True, read_only=True)
    gold_choice = serializers.CharField(read_only=True, help_text=f"the known answer of a gold pair {ADMIN_ONLY}")
    gold_ranking = serializers.ListField(
        child=serializers.IntegerField(),
        read_only=True,
        allow_null=True,
        help_text=f"the known ranking of a gold comparison {ADMIN_ONLY}",
    )

    resolved_choice = serializers.CharField(
        read_only=True, help_text=f"an admin's answer to a disagreement; '' if none {ADMIN_ONLY}"
    )
    resolved_ranking = serializers.ListField(
        child=serializers.IntegerField(),
        read_only=True,
        allow_null=True,
        help_text=f"an admin's ranking of 3+ outputs {ADMIN_ONLY}",
    )
    resolved_by = serializers.SlugRelatedField(slug_field="username", read_only=True, help_text=ADMIN_ONLY)

    HIDDEN = (
        "is_gold",
        "gold_choice",
        "gold_ranking",
        "meta",
        "source_key",
        "created_by",
        "job",
        "resolved_choice",
        "resolved_ranking",
        "resolved_by",
        "resolved_at",
    )

    class Meta:
        model = Comparison
        fields = [
            "id",
            "project",
            "prompt",
            "origin",
            "outputs",
            "created_at",
            "is_gold",
            "gold_choice",
            "gold_ranking",
            "meta",
            "source_key",
            "created_by",
            "job",
            "resolved_choice",
            "resolved_ranking",
            "resolved_by",
            "resolved_at",
        ]
        extra_kwargs = {
            "is_gold": {"help_text": f"mixed into queues to check annotators {ADMIN_ONLY}"},
            "meta": {"help_text": ADMIN_ONLY},
            "source_key": {"help_text": ADMIN_ONLY},
        }

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("sees_all"):
            for name in self.HIDDEN:
                data.pop(name, None)
            for output in data["outputs"]:
                output.pop("source", None)
                output.pop("model_version", None)
        return data


class LabelSerializer(serializers.ModelSerializer):
    annotator = serializers.SlugRelatedField(slug_field="username", read_only=True)
    choice = serializers.CharField(
        read_only=True, help_text="a_much_better, a_better, tie, b_better, b_much_better or both_bad; '' with a ranking"
    )
    ranking = serializers.ListField(
        child=serializers.IntegerField(),
        read_only=True,
        allow_null=True,
        help_text="output indices, best first (3+ outputs)",
    )

    class Meta:
        model = PreferenceLabel
        fields = [
            "id",
            "comparison",
            "annotator",
            "choice",
            "ranking",
            "rationale",
            "seconds_spent",
            "created_at",
            "updated_at",
        ]


class ProgressSerializer(serializers.Serializer):
    labelled = serializers.IntegerField()
    skipped = serializers.IntegerField()
    total = serializers.IntegerField(help_text="comparisons in the project")


class QueueItemSerializer(serializers.Serializer):
    comparison = serializers.SerializerMethodField(
        help_text="the comparison to label now; null when nothing is left for you"
    )
    expires_at = serializers.DateTimeField(allow_null=True, help_text="until when it is reserved for you")
    label = serializers.SerializerMethodField(help_text="your label on it, if any (after an undo: none)")
    progress = ProgressSerializer()

    @extend_schema_field(ComparisonSerializer(allow_null=True))
    def get_comparison(self, item):
        return ComparisonSerializer(item["comparison"], context=self.context).data if item["comparison"] else None

    @extend_schema_field(LabelSerializer(allow_null=True))
    def get_label(self, item):
        return LabelSerializer(item["label"]).data if item.get("label") else None


class QueueSettingsSerializer(serializers.ModelSerializer):
    """All three settings, each required: a PUT replaces them together."""

    class Meta:
        model = QueueSettings
        fields = ["labels_per_comparison", "gold_rate", "reservation_seconds"]
        extra_kwargs = {
            "labels_per_comparison": {"min_value": 1, "max_value": 100, "required": True},
            "gold_rate": {"min_value": 0.0, "max_value": 1.0, "required": True},
            "reservation_seconds": {"min_value": 1, "max_value": services.MAX_RESERVATION_SECONDS, "required": True},
        }


# ---------------------------------------------------------------------------------------------
# Input


class OutputInput(serializers.Serializer):
    text = serializers.CharField(trim_whitespace=False, allow_blank=True)
    source = serializers.CharField(required=False, allow_blank=True, default="", max_length=services.MAX_SOURCE_CHARS)
    model_version = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="id of the version that wrote it"
    )


class ComparisonCreateInput(serializers.Serializer):
    project = serializers.IntegerField()
    prompt = serializers.CharField(trim_whitespace=False, allow_blank=True)
    outputs = OutputInput(many=True, help_text=f"2 to {services.MAX_OUTPUTS} outputs; the first is A")
    gold_choice = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="makes it a gold pair with this answer"
    )
    gold_ranking = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        allow_null=True,
        default=None,
        help_text="makes it a gold comparison of 3+ outputs with this ranking",
    )


class ComparisonImportInput(serializers.Serializer):
    file = serializers.FileField(
        help_text=".jsonl (prompt + responses, or TRL's prompt/chosen/rejected) "
        "or .csv (prompt, response_a, response_b, ...), UTF-8"
    )
    project = serializers.IntegerField()
    as_gold = serializers.BooleanField(
        default=False, help_text="TRL rows become gold comparisons whose answer is `chosen`"
    )


class DeriveInput(serializers.Serializer):
    project = serializers.IntegerField()
    derive_from = serializers.ChoiceField(
        choices=["writing", "coding"], help_text="writing decisions or coding results"
    )


class GenerateInput(serializers.Serializer):
    project = serializers.IntegerField()
    prompts = serializers.ListField(
        child=serializers.CharField(trim_whitespace=False, allow_blank=True), max_length=services.MAX_GENERATE_PROMPTS
    )
    version_a = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="the version to sample; the active editor without it"
    )
    version_b = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="a second version: one output from each"
    )
    samples = serializers.IntegerField(
        required=False,
        default=2,
        min_value=2,
        max_value=services.MAX_OUTPUTS,
        help_text="outputs per prompt from one version (without version_b)",
    )


class LabelInput(serializers.Serializer):
    choice = serializers.ChoiceField(
        choices=Choice.choices, required=False, allow_blank=True, default="", help_text="for a pair"
    )
    ranking = serializers.ListField(
        child=serializers.IntegerField(min_value=0),
        required=False,
        allow_null=True,
        default=None,
        help_text="for 3+ outputs: every output index once, best first",
    )
    rationale = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=services.MAX_RATIONALE_CHARS
    )
    seconds_spent = serializers.FloatField(required=False, allow_null=True, default=None, min_value=0)


class ResolveInput(serializers.Serializer):
    choice = serializers.ChoiceField(
        choices=Choice.choices, required=False, allow_blank=True, default="", help_text="for a pair"
    )
    ranking = serializers.ListField(
        child=serializers.IntegerField(min_value=0),
        required=False,
        allow_null=True,
        default=None,
        help_text="for 3+ outputs: every output index once, best first",
    )


class LabelFilterInput(serializers.Serializer):
    project = serializers.IntegerField(required=False)
    comparison = serializers.IntegerField(required=False)


class ComparisonFilterInput(serializers.Serializer):
    project = serializers.IntegerField(required=False)


class ExportInput(serializers.Serializer):
    project = serializers.IntegerField()
    since = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="labels given or changed from then on"
    )
    until = serializers.DateTimeField(required=False, allow_null=True, default=None, help_text="... and before then")
    min_agreement = serializers.FloatField(
        required=False,
        default=0.0,
        min_value=0.0,
        max_value=1.0,
        help_text="least share of labels agreeing with the majority",
    )
    exclude_gold = serializers.BooleanField(required=False, default=False)
