"""The training JSON API: drive retraining from a script as from the screens (webapp/training/views.py).

Each view checks its input with a serializer and calls one service or selector. Every endpoint
needs the training permission its method names (admins hold them; anyone else gets 403); an
unknown id is a 404; a TrainingRequestError becomes {"detail": message} with status 400.
"""

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from webapp.core.api import AppAPIView, JSONLinesRenderer, valid_input
from webapp.core.serializers import ErrorSerializer
from webapp.registry import services as registry_services
from webapp.training import runs, selectors, snapshots
from webapp.training.models import TrainingRun
from webapp.training.serializers import (
    ModelVersionDetailSerializer,
    ModelVersionSerializer,
    PromoteInput,
    RollbackInput,
    RunStartInput,
    SnapshotPreviewSerializer,
    SnapshotSerializer,
    SourcesInput,
    TrainingRunDetailSerializer,
    TrainingRunSerializer,
    VersionChangeSerializer,
)

ERRORS = {400: ErrorSerializer, 404: ErrorSerializer}
_JSONL = {
    (200, JSONLinesRenderer.media_type): OpenApiResponse(OpenApiTypes.STR, description="snapshot rows, one a line")
}


class TrainingAPIView(AppAPIView):
    permission_message = "Only admins can drive retraining."


def _version_change(event) -> dict:
    return VersionChangeSerializer({"event": event, "active": selectors.version_get(event.version_id)}).data


# ---------------------------------------------------------------------------------------------
# Runs


class RunListView(TrainingAPIView, generics.ListAPIView):
    required = {"GET": "training.view_trainingrun", "POST": "training.add_trainingrun"}
    serializer_class = TrainingRunSerializer

    def get_queryset(self):
        return selectors.runs_recent(limit=None)

    def paginate_queryset(self, queryset):
        return [runs.run_as_seen(run) for run in super().paginate_queryset(queryset)]

    @extend_schema(description="Every run, newest first. A run whose worker died reads as failed, never as running.")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=RunStartInput,
        responses={201: TrainingRunDetailSerializer, 200: TrainingRunDetailSerializer, **ERRORS},
        description="Freeze a snapshot (or take the one given) and queue a run on the gpu queue: 201. "
        "A request_token seen before answers the run it started: 200.",
    )
    def post(self, request):
        data = valid_input(RunStartInput, request)
        token = data["request_token"]
        earlier = TrainingRun.objects.filter(request_token=token).first() if token is not None else None
        if earlier is not None:  # a retried request: the run it started the first time
            return Response(TrainingRunDetailSerializer(earlier).data)
        run = runs.training_run_start(
            user=request.user,
            method=data["method"],
            finetune=data["finetune"],
            settings_overrides=data["settings"],
            snapshot=data["snapshot"],
            sources=data["sources"],
            project=data["project"],
            since=data["since"],
            held_out_percent=data["held_out_percent"],
            promote_if_better=data["promote_if_better"],
            request_token=token,
            trigger="api",
        )
        return Response(TrainingRunDetailSerializer(run).data, status=status.HTTP_201_CREATED)


class RunDetailView(TrainingAPIView):
    required = {"GET": "training.view_trainingrun"}

    @extend_schema(responses={200: TrainingRunDetailSerializer, 404: ErrorSerializer})
    def get(self, request, pk: int):
        return Response(TrainingRunDetailSerializer(runs.run_as_seen(selectors.run_get(pk))).data)


class RunCancelView(TrainingAPIView):
    required = {"POST": "training.change_trainingrun"}

    @extend_schema(
        request=None,
        responses={200: TrainingRunDetailSerializer, **ERRORS},
        description="A queued run is cancelled at once; a running one stops at its next step. A finished run is a 400.",
    )
    def post(self, request, pk: int):
        run = runs.training_run_cancel(run=selectors.run_get(pk), user=request.user)
        return Response(TrainingRunDetailSerializer(selectors.run_get(run.pk)).data)


# ---------------------------------------------------------------------------------------------
# Snapshots


class SnapshotDetailView(TrainingAPIView):
    required = {"GET": "training.view_datasetsnapshot"}

    @extend_schema(responses={200: SnapshotSerializer, 404: ErrorSerializer})
    def get(self, request, pk: int):
        return Response(SnapshotSerializer(selectors.snapshot_get(pk)).data)


class SnapshotExportView(TrainingAPIView):
    required = {"GET": "training.view_datasetsnapshot"}
    renderer_classes = [JSONRenderer, JSONLinesRenderer]

    @extend_schema(
        responses={**_JSONL, 404: ErrorSerializer},
        description="The snapshot's rows as JSON lines: position, split, source, prompt, chosen, rejected, meta.",
    )
    def get(self, request, pk: int):
        snapshot = selectors.snapshot_get(pk)
        response = StreamingHttpResponse(
            snapshots.snapshot_export_jsonl(snapshot), content_type=JSONLinesRenderer.media_type
        )
        response["Content-Disposition"] = f'attachment; filename="redline-snapshot-{snapshot.pk}.jsonl"'
        return response


class SnapshotPreviewView(TrainingAPIView):
    required = {"POST": "training.add_trainingrun"}

    @extend_schema(
        request=SourcesInput,
        responses={200: SnapshotPreviewSerializer, **ERRORS},
        description="What a snapshot made now would hold; nothing is saved.",
    )
    def post(self, request):
        return Response(snapshots.snapshot_preview(**valid_input(SourcesInput, request)))


# ---------------------------------------------------------------------------------------------
# Versions


class VersionListView(TrainingAPIView, generics.ListAPIView):
    required = {"GET": "registry.view_modelversion"}
    serializer_class = ModelVersionSerializer

    def get_queryset(self):
        return selectors.versions_with_evaluations()


class VersionDetailView(TrainingAPIView):
    required = {"GET": "registry.view_modelversion"}

    @extend_schema(responses={200: ModelVersionDetailSerializer, 404: ErrorSerializer})
    def get(self, request, pk: int):
        return Response(ModelVersionDetailSerializer(selectors.version_get(pk)).data)


class VersionPromoteView(TrainingAPIView):
    required = {"POST": "registry.change_modelversion"}

    @extend_schema(
        request=PromoteInput,
        responses={200: VersionChangeSerializer, **ERRORS},
        description="Make this editor the active version; new proposals come from it.",
    )
    def post(self, request, pk: int):
        version = selectors.version_get(pk)
        event = registry_services.model_version_promote(
            version=version, user=request.user, **valid_input(PromoteInput, request)
        )
        return Response(_version_change(event))


class VersionRollbackView(TrainingAPIView):
    required = {"POST": "registry.change_modelversion"}

    @extend_schema(
        request=RollbackInput,
        responses={200: VersionChangeSerializer, 400: ErrorSerializer},
        description="Undo the promotion that made the active version of this kind (editor by default) active.",
    )
    def post(self, request):
        event = registry_services.model_version_rollback(user=request.user, **valid_input(RollbackInput, request))
        return Response(_version_change(event))
