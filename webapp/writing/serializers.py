"""Shapes of the JSON API: what each endpoint reads (…Input) and what it answers."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inference.instructions import DEFAULT_INSTRUCTION, INSTRUCTIONS
from webapp.core.serializers import ErrorSerializer, JobProgressSerializer
from webapp.writing.display import document_loop_state
from webapp.writing.models import Decision, Document, EditProposal, Iteration
from webapp.writing.selectors import (
    decision_counts,
    document_last_iteration,
    proposals_with_decisions,
)

VERDICT_CHOICES = [Decision.Verdict.ACCEPT, Decision.Verdict.REJECT]


# ---------------------------------------------------------------------------------------------
# Answers


# Output fields that share a name with another choice set are plain strings, so that the schema
# names each enum once (drf-spectacular warns on colliding enum names).


class DecisionSerializer(serializers.ModelSerializer):
    verdict = serializers.CharField(read_only=True, help_text="accept, reject, or undecided (restored by an undo)")
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Decision
        fields = ["id", "proposal", "verdict", "decided_by", "decided_at", "via", "is_current", "batch"]


class ProposalSerializer(serializers.ModelSerializer):
    """Expects proposals from selectors.proposals_with_decisions (`.current_decisions`)."""

    decision = serializers.SerializerMethodField(help_text="the current decision; null while undecided")

    class Meta:
        model = EditProposal
        fields = ["id", "index", "action", "start_char", "end_char", "before", "after", "intent", "score", "decision"]

    @extend_schema_field(DecisionSerializer(allow_null=True))
    def get_decision(self, proposal: EditProposal):
        current = proposal.current_decisions[0] if proposal.current_decisions else None
        return DecisionSerializer(current).data if current else None


class DecisionCountsSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    rejected = serializers.IntegerField()
    undecided = serializers.IntegerField()
    total = serializers.IntegerField()


class IterationSerializer(serializers.ModelSerializer):
    model_version = serializers.SlugRelatedField(slug_field="name", read_only=True)
    job = JobProgressSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Iteration
        fields = [
            "id",
            "document",
            "number",
            "depth",
            "source",
            "status",
            "instruction",
            "instruction_text",
            "model_version",
            "job",
            "error",
            "created_at",
            "generation_seconds",
            "applied_at",
        ]


class IterationDetailSerializer(IterationSerializer):
    proposals = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField()

    class Meta(IterationSerializer.Meta):
        fields = [*IterationSerializer.Meta.fields, "text_before", "model_output", "text_after", "counts", "proposals"]

    @extend_schema_field(ProposalSerializer(many=True))
    def get_proposals(self, iteration: Iteration):
        return ProposalSerializer(proposals_with_decisions(iteration), many=True).data

    @extend_schema_field(DecisionCountsSerializer)
    def get_counts(self, iteration: Iteration):
        counts = decision_counts(iteration)
        return {
            "accepted": counts.accepted,
            "rejected": counts.rejected,
            "undecided": counts.undecided,
            "total": counts.total,
        }


class LoopStateSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=["idle", "running", "review", "converged", "max_depth", "failed"])
    message = serializers.CharField()
    depth = serializers.IntegerField()
    can_suggest = serializers.BooleanField()


class DocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Document
        fields = ["id", "title", "owner", "project", "max_depth", "created_at"]


class DocumentDetailSerializer(DocumentSerializer):
    loop = serializers.SerializerMethodField(help_text="where the R3 loop stands")
    last_iteration = serializers.SerializerMethodField()

    class Meta(DocumentSerializer.Meta):
        fields = [*DocumentSerializer.Meta.fields, "original_text", "current_text", "loop", "last_iteration"]

    @staticmethod
    def _last(document: Document) -> Iteration | None:
        if not hasattr(document, "_api_last_iteration"):
            document._api_last_iteration = document_last_iteration(document)
        return document._api_last_iteration

    @extend_schema_field(LoopStateSerializer)
    def get_loop(self, document: Document):
        return LoopStateSerializer(document_loop_state(document, self._last(document))).data

    @extend_schema_field(IterationSerializer(allow_null=True))
    def get_last_iteration(self, document: Document):
        last = self._last(document)
        return IterationSerializer(last).data if last else None


class TextEditResultSerializer(serializers.Serializer):
    changed = serializers.BooleanField()
    iteration = IterationSerializer(allow_null=True, help_text="the writer iteration; null if the text is unchanged")


class DecideAllResultSerializer(serializers.Serializer):
    changed = serializers.IntegerField(help_text="how many decisions changed")


class ApplyResultSerializer(serializers.Serializer):
    applied = IterationDetailSerializer(help_text="the closed round")
    next = IterationSerializer(
        allow_null=True, help_text="the next round, queued, if revise_again was asked and the depth allows"
    )


class ImportResultSerializer(serializers.Serializer):
    documents = DocumentSerializer(many=True)
    decisions = serializers.IntegerField(help_text="decisions imported with R3 records")


class DecisionConflictSerializer(ErrorSerializer):
    current = DecisionSerializer(allow_null=True, help_text="the decision someone else made meanwhile")


# ---------------------------------------------------------------------------------------------
# Input


class DocumentCreateInput(serializers.Serializer):
    text = serializers.CharField(trim_whitespace=False, allow_blank=True)
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    max_depth = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=50)


class SuggestInput(serializers.Serializer):
    instruction = serializers.ChoiceField(
        choices=[(key, i.label) for key, i in INSTRUCTIONS.items()], default=DEFAULT_INSTRUCTION
    )
    custom_text = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="the free instruction, for instruction=custom"
    )


class TextEditInput(serializers.Serializer):
    text = serializers.CharField(trim_whitespace=False, allow_blank=True)


class DecisionInput(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=VERDICT_CHOICES)
    based_on = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        help_text="id of the current decision the client saw (0: none); a newer one gives 409",
    )


class ApplyInput(serializers.Serializer):
    revise_again = serializers.BooleanField(default=False)


class ImportInput(serializers.Serializer):
    file = serializers.FileField(help_text=".txt, .md, .jsonl (documents or R3 records) or .json (R3 records), UTF-8")
