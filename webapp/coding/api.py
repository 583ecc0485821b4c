"""The coding JSON API: drive the coding loop from a script as from the screens (webapp/coding/views.py).

Each view checks its input with a serializer and calls one service or selector. Reads need the
person to see the problem (its owner or a member of its project): anything else is a 404. A
write needs the coding permission the screen's form needs (developers and admins hold them;
anyone else gets 403). A CodingError becomes {"detail": message} with its status code (400, or
409 for a round in the way).
"""

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from webapp.coding import selectors, services, transfer
from webapp.coding.models import CodeTest, CodingIteration, Execution
from webapp.coding.serializers import (
    CandidateDecisionSerializer,
    CodeTestDecisionSerializer,
    CodeTestSerializer,
    CodingIterationDetailSerializer,
    CodingIterationSerializer,
    ExecutionFilterInput,
    ExecutionSerializer,
    IterationStartInput,
    ProblemCreateInput,
    ProblemDetailSerializer,
    ProblemSerializer,
    TestCodeInput,
)
from webapp.core.api import AppAPIView, JSONLinesRenderer, valid_input
from webapp.core.serializers import ErrorSerializer, VerdictInput

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
CONFLICT = {**ERRORS, 409: ErrorSerializer}
_JSONL = {
    (200, JSONLinesRenderer.media_type): OpenApiResponse(
        OpenApiTypes.STR, description="training rows, one a line: prompt, chosen, rejected, meta"
    )
}


class CodingAPIView(AppAPIView):
    """Reads need no permission beyond seeing the problem, which the selectors check (404)."""

    permission_message = "Only developers and admins can work on code."


# Reads that selectors.py does not have (yet): the rounds of a problem, a test's decision history,
# a round's executions.


def _problem_iterations(problem):
    return problem.iterations.select_related("job", "model_version").order_by("number")


def _test_history(test: CodeTest):
    return test.decisions.select_related("decided_by").order_by("decided_at", "pk")


def _iteration_executions(iteration: CodingIteration, run: int | None):
    executions = Execution.objects.filter(candidate__iteration=iteration).order_by("run", "candidate__index", "test_id")
    return executions.filter(run=run) if run is not None else executions


# ---------------------------------------------------------------------------------------------
# Problems


class ProblemListView(CodingAPIView, generics.ListAPIView):
    required = {"POST": "coding.add_problem"}
    serializer_class = ProblemSerializer

    def get_queryset(self):
        return selectors.problems_for_user(self.request.user)

    @extend_schema(
        request=ProblemCreateInput,
        responses={201: ProblemDetailSerializer, **ERRORS},
        description="A problem, with the tests written with it (split into checks, validated).",
    )
    def post(self, request):
        problem = services.problem_create(owner=request.user, **valid_input(ProblemCreateInput, request))
        return Response(ProblemDetailSerializer(problem).data, status=status.HTTP_201_CREATED)


class ProblemDetailView(CodingAPIView):
    @extend_schema(responses={200: ProblemDetailSerializer, 404: ErrorSerializer})
    def get(self, request, pk: int):
        return Response(ProblemDetailSerializer(selectors.problem_for_user(request.user, pk)).data)


class ProblemIterationsView(CodingAPIView):
    required = {"POST": "coding.add_codingiteration"}

    @extend_schema(responses={200: CodingIterationSerializer(many=True), 404: ErrorSerializer})
    def get(self, request, pk: int):
        problem = selectors.problem_for_user(request.user, pk)
        return Response(CodingIterationSerializer(_problem_iterations(problem), many=True).data)

    @extend_schema(
        request=IterationStartInput,
        responses={201: CodingIterationDetailSerializer, **CONFLICT},
        description="Queue a round of candidates and tests; from the second round (or with a critique) the "
        "prompt carries the feedback: failing tests, rejected tests and candidates. 409 while a round is open.",
    )
    def post(self, request, pk: int):
        problem = selectors.problem_for_user(request.user, pk)
        iteration = services.iteration_start(
            problem=problem, user=request.user, **valid_input(IterationStartInput, request)
        )
        return Response(CodingIterationDetailSerializer(iteration).data, status=status.HTTP_201_CREATED)


class ProblemTestsView(CodingAPIView):
    required = {"POST": "coding.add_codetest"}

    @extend_schema(
        request=TestCodeInput,
        responses={201: CodeTestSerializer(many=True), **ERRORS},
        description="Tests the person writes, one per check, validated; the latest finished round runs again.",
    )
    def post(self, request, pk: int):
        problem = selectors.problem_for_user(request.user, pk)
        added = services.test_add(problem=problem, user=request.user, **valid_input(TestCodeInput, request))
        return Response(CodeTestSerializer(added, many=True).data, status=status.HTTP_201_CREATED)


class FeedbackExportView(CodingAPIView):
    renderer_classes = [JSONRenderer, JSONLinesRenderer]

    @extend_schema(
        operation_id="coding_feedback_export",
        responses=_JSONL,
        description="The coding feedback of every problem the user can see, as training rows (TRL's columns).",
    )
    def get(self, request):
        rows = transfer.feedback_export_jsonl(selectors.problems_for_user(request.user))
        response = StreamingHttpResponse(rows, content_type=JSONLinesRenderer.media_type)
        response["Content-Disposition"] = 'attachment; filename="redline-coding-feedback.jsonl"'
        return response


# ---------------------------------------------------------------------------------------------
# Iterations


class IterationDetailView(CodingAPIView):
    @extend_schema(
        responses={200: CodingIterationDetailSerializer, 404: ErrorSerializer},
        description="The round, its job's progress, and its candidates ranked over the latest run "
        "with their row of the matrix.",
    )
    def get(self, request, pk: int):
        return Response(CodingIterationDetailSerializer(selectors.iteration_for_user(request.user, pk)).data)


class IterationRunAgainView(CodingAPIView):
    required = {"POST": "coding.add_codingiteration"}

    @extend_schema(
        request=None,
        responses={200: CodingIterationSerializer, **CONFLICT},
        description="Run the round's candidates against the problem's tests again, as a new run. "
        "409 unless the round is ready.",
    )
    def post(self, request, pk: int):
        iteration = services.executions_rerun(
            iteration=selectors.iteration_for_user(request.user, pk), user=request.user
        )
        return Response(CodingIterationSerializer(iteration).data)


class IterationExecutionsView(CodingAPIView):
    @extend_schema(
        parameters=[OpenApiParameter("run", int, description="only this run")],
        responses={200: ExecutionSerializer(many=True), 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def get(self, request, pk: int):
        iteration = selectors.iteration_for_user(request.user, pk)
        query = ExecutionFilterInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(
            ExecutionSerializer(_iteration_executions(iteration, query.validated_data.get("run")), many=True).data
        )


# ---------------------------------------------------------------------------------------------
# Candidates


class CandidateDecisionView(CodingAPIView):
    required = {"POST": "coding.add_candidatedecision"}

    @extend_schema(
        request=VerdictInput,
        responses={200: CandidateDecisionSerializer, **ERRORS},
        description="Accept or reject a candidate; rejecting the solution clears it. "
        "The same verdict again records nothing.",
    )
    def post(self, request, pk: int):
        candidate = selectors.candidate_for_user(request.user, pk)
        verdict = valid_input(VerdictInput, request)["verdict"]
        decision = services.candidate_decide(candidate=candidate, user=request.user, verdict=verdict, via="api")
        return Response(CandidateDecisionSerializer(decision).data)


class CandidateSolutionView(CodingAPIView):
    required = {"POST": "coding.add_candidatedecision"}

    @extend_schema(
        request=None,
        responses={200: ProblemSerializer, **ERRORS},
        description="Make the candidate the problem's solution (an accept, kept in its history); "
        "400 if it does not compile.",
    )
    def post(self, request, pk: int):
        problem = services.solution_accept(candidate=selectors.candidate_for_user(request.user, pk), user=request.user)
        return Response(ProblemSerializer(problem).data)


class CandidateDecisionsView(CodingAPIView):
    @extend_schema(responses={200: CandidateDecisionSerializer(many=True), 404: ErrorSerializer})
    def get(self, request, pk: int):
        candidate = selectors.candidate_for_user(request.user, pk)
        return Response(CandidateDecisionSerializer(selectors.candidate_history(candidate), many=True).data)


# ---------------------------------------------------------------------------------------------
# Tests


class TestDecisionView(CodingAPIView):
    required = {"POST": "coding.add_codetestdecision"}

    @extend_schema(
        request=VerdictInput,
        responses={200: CodeTestDecisionSerializer, **ERRORS},
        description="Validate (accept) or reject a test. Once any test is validated only validated tests count "
        "in the ranking; a rejected test never counts.",
    )
    def post(self, request, pk: int):
        test = selectors.test_for_user(request.user, pk)
        verdict = valid_input(VerdictInput, request)["verdict"]
        return Response(
            CodeTestDecisionSerializer(
                services.test_decide(test=test, user=request.user, verdict=verdict, via="api")
            ).data
        )


class TestEditView(CodingAPIView):
    required = {"POST": "coding.add_codetest"}

    @extend_schema(
        request=TestCodeInput,
        responses={201: CodeTestSerializer(many=True), **ERRORS},
        description="Replace the test by a corrected copy: new validated test(s) that point to it, the old one "
        "rejected (via edit); the latest finished round runs again. 400 if unchanged.",
    )
    def post(self, request, pk: int):
        test = selectors.test_for_user(request.user, pk)
        new = services.test_edit(test=test, user=request.user, **valid_input(TestCodeInput, request))
        return Response(CodeTestSerializer(new, many=True).data, status=status.HTTP_201_CREATED)


class TestDecisionsView(CodingAPIView):
    @extend_schema(responses={200: CodeTestDecisionSerializer(many=True), 404: ErrorSerializer})
    def get(self, request, pk: int):
        test = selectors.test_for_user(request.user, pk)
        return Response(CodeTestDecisionSerializer(_test_history(test), many=True).data)


# ---------------------------------------------------------------------------------------------
# Executions


class ExecutionDetailView(CodingAPIView):
    @extend_schema(responses={200: ExecutionSerializer, 404: ErrorSerializer})
    def get(self, request, pk: int):
        return Response(ExecutionSerializer(selectors.execution_for_user(request.user, pk)).data)
