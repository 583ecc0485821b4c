"""Shapes of the coding JSON API: what each endpoint reads (…Input) and what it answers."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from webapp.coding import services
from webapp.coding.models import (
    CandidateDecision,
    CodeTest,
    CodeTestDecision,
    CodingIteration,
    Execution,
    Problem,
)
from webapp.coding.selectors import (
    RankedCandidate,
    iteration_ranking,
    problem_tests,
    verdict_of,
)
from webapp.core.serializers import JobProgressSerializer

# Output fields whose name another model uses with other choices (status, verdict, source) are
# plain strings, so that the schema names each enum once (drf-spectacular warns on colliding enum names).

MATRIX_SCHEMA = {
    "type": "object",
    "additionalProperties": {"type": "string", "nullable": True},
    "description": "test id -> status of this candidate's execution in the iteration's latest run "
    "(passed, failed, error, timeout); null where it did not run (a test added since, or code that does not compile)",
}


# ---------------------------------------------------------------------------------------------
# Answers


class CodeTestSerializer(serializers.ModelSerializer):
    source = serializers.CharField(read_only=True, help_text="model or user")
    verdict = serializers.SerializerMethodField(help_text="accept (validated), reject, or undecided")

    class Meta:
        model = CodeTest
        fields = [
            "id",
            "problem",
            "iteration",
            "code",
            "syntax_error",
            "source",
            "replaces",
            "verdict",
            "created_by",
            "created_at",
        ]

    @extend_schema_field(serializers.CharField())
    def get_verdict(self, test: CodeTest) -> str:
        # Tests from selectors.problem_tests carry `.verdict`; others are looked up.
        return getattr(test, "verdict", None) or verdict_of(test)


class CodingIterationSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="queued, generating, executing, ready or failed")
    model_version = serializers.SlugRelatedField(slug_field="name", read_only=True)
    job = JobProgressSerializer(read_only=True, allow_null=True)

    class Meta:
        model = CodingIteration
        fields = [
            "id",
            "problem",
            "number",
            "status",
            "run",
            "candidates_wanted",
            "tests_wanted",
            "critique",
            "model_version",
            "job",
            "error",
            "created_at",
            "generation_seconds",
        ]


class RankedCandidateSerializer(serializers.Serializer):
    """A row of selectors.iteration_ranking: the candidate, its place and its row of the matrix."""

    id = serializers.IntegerField(source="candidate.pk")
    index = serializers.IntegerField(source="candidate.index")
    rank = serializers.IntegerField(help_text="1 for the best")
    score = serializers.IntegerField(help_text="candidates in its consensus set x counted tests they pass")
    consensus = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="ids of the candidates passing exactly the same counted tests, itself included",
    )
    reason = serializers.CharField()
    verdict = serializers.CharField(help_text="accept, reject, or undecided")
    code = serializers.CharField(source="candidate.code")
    syntax_error = serializers.CharField(source="candidate.syntax_error")
    source = serializers.CharField(source="candidate.source", help_text="model or user")
    confidence = serializers.FloatField(
        source="candidate.score", allow_null=True, help_text="the model's confidence in the sample, 0..1"
    )
    matrix = serializers.SerializerMethodField()

    @extend_schema_field(MATRIX_SCHEMA)
    def get_matrix(self, row: RankedCandidate) -> dict:
        return {str(test.pk): cell.status if cell else None for test, cell in zip(self.context["tests"], row.cells)}


class CodingIterationDetailSerializer(CodingIterationSerializer):
    """Expects iterations from selectors.iteration_for_user (`problem`, `job`, `model_version` joined)."""

    candidates = serializers.SerializerMethodField(help_text="best first, over the latest run; [] until generated")

    class Meta(CodingIterationSerializer.Meta):
        fields = [*CodingIterationSerializer.Meta.fields, "feedback", "generation_settings", "candidates"]

    @extend_schema_field(RankedCandidateSerializer(many=True))
    def get_candidates(self, iteration: CodingIteration):
        tests = problem_tests(iteration.problem)
        return RankedCandidateSerializer(iteration_ranking(iteration, tests), many=True, context={"tests": tests}).data


class ProblemSerializer(serializers.ModelSerializer):
    class Meta:
        model = Problem
        fields = ["id", "title", "owner", "project", "entry_point", "signature", "language", "solution", "created_at"]
        extra_kwargs = {"solution": {"help_text": "the accepted candidate; null until one is"}}


class ProblemDetailSerializer(ProblemSerializer):
    tests = serializers.SerializerMethodField(help_text="every test, oldest first, with its current verdict")
    iterations = serializers.SerializerMethodField(help_text="the rounds so far, oldest first")

    class Meta(ProblemSerializer.Meta):
        fields = [*ProblemSerializer.Meta.fields, "statement", "tests", "iterations"]

    @extend_schema_field(CodeTestSerializer(many=True))
    def get_tests(self, problem: Problem):
        return CodeTestSerializer(problem_tests(problem), many=True).data

    @extend_schema_field(CodingIterationSerializer(many=True))
    def get_iterations(self, problem: Problem):
        return CodingIterationSerializer(problem.iterations.select_related("job", "model_version"), many=True).data


class CandidateDecisionSerializer(serializers.ModelSerializer):
    verdict = serializers.CharField(read_only=True, help_text="accept or reject")
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CandidateDecision
        fields = ["id", "candidate", "verdict", "decided_by", "decided_at", "via", "is_current"]


class CodeTestDecisionSerializer(serializers.ModelSerializer):
    verdict = serializers.CharField(read_only=True, help_text="accept (validated) or reject")
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CodeTestDecision
        fields = ["id", "test", "verdict", "decided_by", "decided_at", "via", "is_current"]
        extra_kwargs = {"via": {"help_text": "api, web, written (with the test), or edit (replaced by an edited copy)"}}


class ExecutionSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True, help_text="passed, failed, error or timeout")

    class Meta:
        model = Execution
        fields = [
            "id",
            "candidate",
            "test",
            "run",
            "status",
            "output",
            "traceback",
            "duration_s",
            "isolation",
            "created_at",
        ]


# ---------------------------------------------------------------------------------------------
# Input


class ProblemCreateInput(serializers.Serializer):
    statement = serializers.CharField(trim_whitespace=False, allow_blank=True)
    title = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=300, help_text="the statement's first line when blank"
    )
    entry_point = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=100, help_text="the function the tests call"
    )
    signature = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=1000, trim_whitespace=False
    )
    tests = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text="assert statements or test_ functions, one check each; they count as validated",
    )


class IterationStartInput(serializers.Serializer):
    critique = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text="what the model should do differently",
    )
    candidates = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=services.MAX_PER_ITERATION,
        help_text="how many candidates to write; the configured number without it",
    )
    tests = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=services.MAX_PER_ITERATION,
        help_text="how many tests to write; the configured number without it",
    )


class TestCodeInput(serializers.Serializer):
    code = serializers.CharField(
        trim_whitespace=False,
        allow_blank=True,
        help_text="assert statements or test_ functions; each check becomes a test",
    )


class ExecutionFilterInput(serializers.Serializer):
    run = serializers.IntegerField(
        required=False, min_value=1, help_text="only this run (1 the first, then one more per Run again)"
    )
