"""The JSON API: drive the writing loop from a script. Each view checks its input with a
serializer and calls one service or selector. Someone else's object is a 404; writes need the
writing.add_document permission (writers and admins); a WritingError becomes
{"detail": message} with its status code."""

from pathlib import PurePath

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from webapp.core.api import AppAPIView, JSONLinesRenderer, valid_input
from webapp.core.serializers import ErrorSerializer, VerdictInput
from webapp.writing import selectors, services, transfer
from webapp.writing.api_selectors import document_iterations, proposal_decisions
from webapp.writing.errors import DecisionConflict, WritingError
from webapp.writing.serializers import (
    ApplyInput,
    ApplyResultSerializer,
    DecideAllResultSerializer,
    DecisionConflictSerializer,
    DecisionInput,
    DecisionSerializer,
    DocumentCreateInput,
    DocumentDetailSerializer,
    DocumentSerializer,
    ImportInput,
    ImportResultSerializer,
    IterationDetailSerializer,
    IterationSerializer,
    ProposalSerializer,
    SuggestInput,
    TextEditInput,
    TextEditResultSerializer,
)

WRITE_PERMISSION = "writing.add_document"
ERRORS = {400: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


class WritingAPIView(AppAPIView):
    """Reads need no permission beyond seeing the document, which the selectors check (404);
    every write needs writing.add_document."""

    required = {method: WRITE_PERMISSION for method in ("POST", "PUT", "PATCH", "DELETE")}
    permission_message = "Only writers and admins can change documents."

    def error_body(self, exc) -> dict:
        if isinstance(exc, DecisionConflict):  # with the decision that won, to show instead
            return {"detail": str(exc), "current": DecisionSerializer(exc.current).data if exc.current else None}
        return super().error_body(exc)


def _jsonl_response(documents, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        transfer.documents_export_jsonl(documents), content_type=JSONLinesRenderer.media_type
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


_JSONL = {(200, JSONLinesRenderer.media_type): OpenApiResponse(OpenApiTypes.STR, description="R3 records, one a line")}


# ---------------------------------------------------------------------------------------------
# Documents


class DocumentListView(WritingAPIView, generics.ListAPIView):
    serializer_class = DocumentSerializer

    def get_queryset(self):
        return selectors.documents_for_user(self.request.user)

    @extend_schema(request=DocumentCreateInput, responses={201: DocumentDetailSerializer, **ERRORS})
    def post(self, request):
        document = services.document_create(owner=request.user, **valid_input(DocumentCreateInput, request))
        return Response(DocumentDetailSerializer(document).data, status=status.HTTP_201_CREATED)


class DocumentDetailView(WritingAPIView):
    @extend_schema(responses={200: DocumentDetailSerializer, 404: ErrorSerializer})
    def get(self, request, pk: int):
        return Response(DocumentDetailSerializer(selectors.document_for_user(request.user, pk)).data)


class DocumentSuggestView(WritingAPIView):
    @extend_schema(request=SuggestInput, responses={201: IterationDetailSerializer, **ERRORS})
    def post(self, request, pk: int):
        document = selectors.document_for_user(request.user, pk)
        iteration = services.iteration_start(document=document, user=request.user, **valid_input(SuggestInput, request))
        return Response(IterationDetailSerializer(iteration).data, status=status.HTTP_201_CREATED)


class DocumentTextEditView(WritingAPIView):
    @extend_schema(
        request=TextEditInput,
        responses={201: TextEditResultSerializer, 200: TextEditResultSerializer, **ERRORS},
        description="The writer's own edit between rounds: 201 with the writer iteration, 200 if unchanged.",
    )
    def post(self, request, pk: int):
        document = selectors.document_for_user(request.user, pk)
        iteration = services.document_text_edit(
            document=document, user=request.user, **valid_input(TextEditInput, request)
        )
        if iteration is None:
            return Response({"changed": False, "iteration": None})
        data = {"changed": True, "iteration": IterationSerializer(iteration).data}
        return Response(data, status=status.HTTP_201_CREATED)


class DocumentIterationsView(WritingAPIView):
    @extend_schema(responses={200: IterationSerializer(many=True), 404: ErrorSerializer})
    def get(self, request, pk: int):
        document = selectors.document_for_user(request.user, pk)
        return Response(IterationSerializer(document_iterations(document), many=True).data)


class DocumentExportView(WritingAPIView):
    renderer_classes = [JSONRenderer, JSONLinesRenderer]

    @extend_schema(operation_id="documents_export", responses={**_JSONL, 404: ErrorSerializer})
    def get(self, request, pk: int):
        document = selectors.document_for_user(request.user, pk)
        return _jsonl_response([document], f"document-{document.pk}.jsonl")


class DocumentExportAllView(WritingAPIView):
    renderer_classes = [JSONRenderer, JSONLinesRenderer]

    @extend_schema(
        operation_id="documents_export_all",
        responses=_JSONL,
        description="Every document the user can see, as R3 records.",
    )
    def get(self, request):
        return _jsonl_response(selectors.documents_for_user(request.user), "documents.jsonl")


class DocumentImportView(WritingAPIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request={"multipart/form-data": ImportInput}, responses={201: ImportResultSerializer, **ERRORS})
    def post(self, request):
        upload = valid_input(ImportInput, request)["file"]
        name = PurePath(upload.name or "upload").name
        if upload.size > transfer.IMPORT_MAX_BYTES:
            raise WritingError(
                f"{name} is larger than {transfer.IMPORT_MAX_BYTES:,} bytes; split it. Nothing was imported."
            )
        result = transfer.documents_import(owner=request.user, filename=name, data=upload.read())
        data = {"documents": DocumentSerializer(result.documents, many=True).data, "decisions": result.decisions}
        return Response(data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------------------------------------
# Iterations


class IterationDetailView(WritingAPIView):
    @extend_schema(responses={200: IterationDetailSerializer, 404: ErrorSerializer})
    def get(self, request, pk: int):
        return Response(IterationDetailSerializer(selectors.iteration_for_user(request.user, pk)).data)


class IterationProposalsView(WritingAPIView):
    @extend_schema(responses={200: ProposalSerializer(many=True), 404: ErrorSerializer})
    def get(self, request, pk: int):
        iteration = selectors.iteration_for_user(request.user, pk)
        return Response(ProposalSerializer(selectors.proposals_with_decisions(iteration), many=True).data)


class IterationDecideAllView(WritingAPIView):
    @extend_schema(request=VerdictInput, responses={200: DecideAllResultSerializer, **ERRORS})
    def post(self, request, pk: int):
        iteration = selectors.iteration_for_user(request.user, pk)
        verdict = valid_input(VerdictInput, request)["verdict"]
        changed = services.proposals_decide_all(iteration=iteration, user=request.user, verdict=verdict, via="api")
        return Response({"changed": changed})


class IterationUndoView(WritingAPIView):
    @extend_schema(
        request=None,
        responses={200: DecisionSerializer(many=True), **ERRORS},
        description="Revert your last decision (or accept/reject-all batch) in the round; "
        "answers the decisions that restore the earlier state.",
    )
    def post(self, request, pk: int):
        iteration = selectors.iteration_for_user(request.user, pk)
        restored = services.decision_undo(iteration=iteration, user=request.user)
        return Response(DecisionSerializer(restored, many=True).data)


class IterationApplyView(WritingAPIView):
    @extend_schema(request=ApplyInput, responses={200: ApplyResultSerializer, **ERRORS})
    def post(self, request, pk: int):
        iteration = selectors.iteration_for_user(request.user, pk)
        following = services.iteration_apply(iteration=iteration, user=request.user, **valid_input(ApplyInput, request))
        applied = selectors.iteration_for_user(request.user, pk)
        return Response(
            {
                "applied": IterationDetailSerializer(applied).data,
                "next": IterationSerializer(following).data if following else None,
            }
        )


# ---------------------------------------------------------------------------------------------
# Proposals


class ProposalDecisionView(WritingAPIView):
    @extend_schema(
        request=DecisionInput,
        responses={
            200: DecisionSerializer,
            400: ErrorSerializer,
            404: ErrorSerializer,
            409: DecisionConflictSerializer,
        },
        description="Accept or reject one edit. With based_on, a decision made meanwhile by someone else gives 409.",
    )
    def post(self, request, pk: int):
        proposal = selectors.proposal_for_user(request.user, pk)
        data = valid_input(DecisionInput, request)
        decision = services.proposal_decide(proposal=proposal, user=request.user, via="api", **data)
        return Response(DecisionSerializer(decision).data)


class ProposalDecisionsView(WritingAPIView):
    @extend_schema(responses={200: DecisionSerializer(many=True), 404: ErrorSerializer})
    def get(self, request, pk: int):
        proposal = selectors.proposal_for_user(request.user, pk)
        return Response(DecisionSerializer(proposal_decisions(proposal), many=True).data)
