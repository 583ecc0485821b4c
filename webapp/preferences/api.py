"""The preference JSON API: comparisons (list, create, import, derive, generate, detail), the
queue (next, skip, label, undo), labels (one's own; admins all), queue settings and the export.

Each view checks its input with a serializer and calls one service or selector. A project or
comparison the user may not see is a 404 (annotators see only the comparisons the queue gave
them); a label on a comparison not reserved to the user answers 409, the same for all of them;
a request the user's role does not allow is a 403 (annotators and admins label; admins create
comparisons, change settings and export). A PreferenceError becomes {"detail": message} with
its status code (400, 403, or 409).
"""

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from webapp.core.api import AppAPIView, JSONLinesRenderer, valid_input
from webapp.core.models import Job
from webapp.core.serializers import ErrorSerializer, JobProgressSerializer
from webapp.preferences import selectors, services, transfer
from webapp.preferences.errors import PreferenceError
from webapp.preferences.serializers import (
    ComparisonCreateInput,
    ComparisonFilterInput,
    ComparisonImportInput,
    ComparisonSerializer,
    DeriveInput,
    ExportInput,
    GenerateInput,
    LabelFilterInput,
    LabelInput,
    LabelSerializer,
    QueueItemSerializer,
    QueueSettingsSerializer,
    ResolveInput,
)
from webapp.registry.models import ModelVersion

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
CONFLICT = {**ERRORS, 409: ErrorSerializer}
VIEW = "preferences.view_comparison"


class PreferenceAPIView(AppAPIView):
    permission_message = "Only annotators and admins can work on comparisons."

    def get_serializer_context(self) -> dict:
        return {"sees_all": selectors.sees_all(self.request.user)}


def _query(serializer_class, request) -> dict:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data


def _version(pk: int | None) -> ModelVersion | None:
    if pk is None:
        return None
    version = ModelVersion.objects.filter(pk=pk).first()
    if version is None:
        raise PreferenceError(f"There is no model version {pk}.")
    return version


def _queue_item(request, project, reservation) -> dict:
    comparison = None
    if reservation is not None:
        comparison = selectors.comparison_for_user(request.user, reservation.comparison_id)
    return {
        "comparison": comparison,
        "expires_at": reservation.expires_at if reservation else None,
        "label": selectors.label_of(request.user, comparison) if comparison else None,
        "progress": selectors.annotator_progress(request.user, project),
    }


# ---------------------------------------------------------------------------------------------
# Comparisons


class ComparisonListView(PreferenceAPIView, generics.ListAPIView):
    required = {"GET": VIEW, "POST": selectors.MANAGE}
    serializer_class = ComparisonSerializer

    @extend_schema(
        parameters=[ComparisonFilterInput], responses={200: ComparisonSerializer(many=True), 403: ErrorSerializer}
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.comparisons_for_user(
            self.request.user, _query(ComparisonFilterInput, self.request).get("project")
        )

    @extend_schema(
        request=ComparisonCreateInput,
        responses={201: ComparisonSerializer, **ERRORS},
        description="One comparison of 2 or more outputs; with gold_choice or gold_ranking it is gold.",
    )
    def post(self, request):
        data = valid_input(ComparisonCreateInput, request)
        project = selectors.project_for_user(request.user, data["project"])
        spec = services.ComparisonSpec(
            data["prompt"],
            [
                services.OutputSpec(o["text"], o["source"], _version(o["model_version"]) and o["model_version"])
                for o in data["outputs"]
            ],
            gold_choice=data["gold_choice"],
            gold_ranking=data["gold_ranking"],
        )
        comparison = services.comparison_create(project=project, user=request.user, spec=spec)
        comparison = selectors.comparison_for_user(request.user, comparison.pk)
        return Response(
            ComparisonSerializer(comparison, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )


class ComparisonImportView(PreferenceAPIView):
    required = {"POST": selectors.MANAGE}
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": ComparisonImportInput},
        responses={201: ComparisonSerializer(many=True), **ERRORS},
        description="Every comparison of the file, or none: a bad row refuses the file with its line and problem.",
    )
    def post(self, request):
        data = valid_input(ComparisonImportInput, request)
        project = selectors.project_for_user(request.user, data["project"])
        upload = data["file"]
        if upload.size > transfer.IMPORT_MAX_BYTES:
            raise PreferenceError(
                f"{upload.name} is larger than {transfer.IMPORT_MAX_BYTES:,} bytes; split it. Nothing was imported."
            )
        created = transfer.comparisons_import(
            project=project,
            user=request.user,
            filename=upload.name or "upload",
            data=upload.read(),
            as_gold=data["as_gold"],
        )
        comparisons = selectors.comparisons_for_user(request.user).filter(pk__in=[c.pk for c in created])
        return Response(
            ComparisonSerializer(comparisons, many=True, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


class ComparisonDeriveView(PreferenceAPIView):
    required = {"POST": selectors.MANAGE}

    @extend_schema(
        request=DeriveInput,
        responses={201: ComparisonSerializer(many=True), **ERRORS},
        description="Comparisons from the project's writing decisions or coding results; only new pairs are added.",
    )
    def post(self, request):
        data = valid_input(DeriveInput, request)
        project = selectors.project_for_user(request.user, data["project"])
        created = services.comparisons_derive(project=project, user=request.user, source=data["derive_from"])
        comparisons = selectors.comparisons_for_user(request.user).filter(pk__in=[c.pk for c in created])
        return Response(
            ComparisonSerializer(comparisons, many=True, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


class ComparisonGenerateView(PreferenceAPIView):
    required = {"POST": selectors.MANAGE}

    @extend_schema(
        request=GenerateInput,
        responses={202: JobProgressSerializer, **ERRORS},
        description="Sample outputs for the prompts on the gpu queue: one from each of two versions, or several "
        "from one. Poll the job; its comparisons appear when it succeeds.",
    )
    def post(self, request):
        data = valid_input(GenerateInput, request)
        project = selectors.project_for_user(request.user, data["project"])
        job = services.comparisons_generate(
            project=project,
            user=request.user,
            prompts=data["prompts"],
            version_a=_version(data["version_a"]),
            version_b=_version(data["version_b"]),
            samples=data["samples"],
        )
        return Response(JobProgressSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ComparisonDetailView(PreferenceAPIView):
    required = {"GET": VIEW}

    @extend_schema(responses={200: ComparisonSerializer, 403: ErrorSerializer, 404: ErrorSerializer})
    def get(self, request, pk: int):
        comparison = selectors.comparison_for_user(request.user, pk)
        return Response(ComparisonSerializer(comparison, context=self.get_serializer_context()).data)


class ComparisonLabelView(PreferenceAPIView):
    required = {"POST": selectors.LABEL}

    @extend_schema(
        request=LabelInput,
        responses={200: LabelSerializer, 201: LabelSerializer, **CONFLICT},
        description="Create (201) or change (200) your label: a choice for a pair, a ranking for 3+ outputs. "
        "A new label needs your live reservation of the comparison (the queue's next item); the same label "
        "posted again answers 200 with the label there is. Releases your reservation. 409 when the comparison "
        "is not reserved to you (one answer for every such comparison) or already has all its labels.",
    )
    def post(self, request, pk: int):
        comparison = selectors.comparison_to_label(request.user, pk)
        label, created = services.label_record(
            user=request.user, comparison=comparison, **valid_input(LabelInput, request)
        )
        return Response(LabelSerializer(label).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ComparisonSkipView(PreferenceAPIView):
    required = {"POST": selectors.LABEL}

    @extend_schema(
        request=None,
        responses={204: None, **CONFLICT},
        description="Pass on the comparison: the queue never offers it to you again. 409 if you labelled it.",
    )
    def post(self, request, pk: int):
        services.comparison_skip(user=request.user, comparison=selectors.comparison_for_user(request.user, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ComparisonResolveView(PreferenceAPIView):
    required = {"POST": selectors.RESOLVE}

    @extend_schema(
        request=ResolveInput,
        responses={200: ComparisonSerializer, 400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
        description="Settle a disagreement (admins): the choice for a pair or the ranking of 3+ outputs becomes the "
        "comparison's answer in exports and datasets; neither clears it. Every resolution is kept in the history.",
    )
    def post(self, request, pk: int):
        comparison = selectors.comparison_for_user(request.user, pk)
        services.comparison_resolve(user=request.user, comparison=comparison, **valid_input(ResolveInput, request))
        comparison = selectors.comparison_for_user(request.user, pk)
        return Response(ComparisonSerializer(comparison, context=self.get_serializer_context()).data)


class GenerationJobView(PreferenceAPIView):
    required = {"GET": selectors.MANAGE}

    @extend_schema(
        responses={200: JobProgressSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
        description="Progress of a comparison generation that you started: done of total prompts; "
        "succeeded when its comparisons are in the project.",
    )
    def get(self, request, pk: int):
        job = Job.objects.filter(pk=pk, kind=services.GENERATE_JOB_KIND, created_by=request.user).first()
        if job is None:
            raise NotFound("No such generation job of yours.")
        return Response(JobProgressSerializer(job).data)


# ---------------------------------------------------------------------------------------------
# Queue


class QueueNextView(PreferenceAPIView):
    required = {"POST": selectors.LABEL}

    @extend_schema(
        request=None,
        responses={200: QueueItemSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
        description="The comparison to label now, reserved for you (the same one until you label, skip or it "
        "expires); comparison is null when nothing is left for you.",
    )
    def post(self, request, pk: int):
        project = selectors.project_for_user(request.user, pk)
        reservation = services.comparison_reserve_next(user=request.user, project=project)
        return Response(
            QueueItemSerializer(_queue_item(request, project, reservation), context=self.get_serializer_context()).data
        )


class QueueUndoView(PreferenceAPIView):
    required = {"POST": selectors.LABEL}

    @extend_schema(
        request=None,
        responses={200: QueueItemSerializer, **CONFLICT},
        description="Remove your last label in the project (its history stays) and get that comparison back. "
        "409 when you have none.",
    )
    def post(self, request, pk: int):
        project = selectors.project_for_user(request.user, pk)
        reservation = services.label_undo(user=request.user, project=project)
        return Response(
            QueueItemSerializer(_queue_item(request, project, reservation), context=self.get_serializer_context()).data
        )


class QueueSettingsView(PreferenceAPIView):
    required = {"GET": VIEW, "PUT": "preferences.change_queuesettings"}

    @extend_schema(responses={200: QueueSettingsSerializer, 403: ErrorSerializer, 404: ErrorSerializer})
    def get(self, request, pk: int):
        return Response(
            QueueSettingsSerializer(selectors.queue_settings(selectors.project_for_user(request.user, pk))).data
        )

    @extend_schema(request=QueueSettingsSerializer, responses={200: QueueSettingsSerializer, **ERRORS})
    def put(self, request, pk: int):
        project = selectors.project_for_user(request.user, pk)
        conf = services.queue_settings_save(
            project=project, user=request.user, **valid_input(QueueSettingsSerializer, request)
        )
        return Response(QueueSettingsSerializer(conf).data)


# ---------------------------------------------------------------------------------------------
# Labels and export


class LabelListView(PreferenceAPIView, generics.ListAPIView):
    required = {"GET": VIEW}
    serializer_class = LabelSerializer

    @extend_schema(
        parameters=[LabelFilterInput],
        responses={200: LabelSerializer(many=True), 403: ErrorSerializer},
        description="Your labels, latest first; an admin sees everyone's.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = _query(LabelFilterInput, self.request)
        return selectors.labels_for_user(
            self.request.user, project_id=query.get("project"), comparison_id=query.get("comparison")
        )


class ExportView(PreferenceAPIView):
    required = {"GET": selectors.VIEW_ALL}
    renderer_classes = [JSONRenderer, JSONLinesRenderer]

    @extend_schema(
        operation_id="preferences_export",
        parameters=[ExportInput],
        responses={
            (200, JSONLinesRenderer.media_type): OpenApiResponse(
                OpenApiTypes.STR, description="preference pairs, one a line: prompt, chosen, rejected and metadata"
            ),
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
        description="The project's labelled comparisons with a single majority preference as TRL pairs (admins).",
    )
    def get(self, request):
        query = _query(ExportInput, request)
        project = selectors.project_for_user(request.user, query["project"])
        filters = transfer.ExportFilters(
            project_id=project.pk,
            since=query["since"],
            until=query["until"],
            min_agreement=query["min_agreement"],
            exclude_gold=query["exclude_gold"],
        )
        response = StreamingHttpResponse(
            transfer.labels_export_jsonl(filters), content_type=JSONLinesRenderer.media_type
        )
        response["Content-Disposition"] = f'attachment; filename="redline-preferences-{project.pk}.jsonl"'
        return response
