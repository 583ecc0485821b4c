"""What the JSON APIs of every app share."""

import json

from rest_framework import status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response
from rest_framework.views import APIView


class JSONLinesRenderer(BaseRenderer):
    media_type = "application/x-ndjson"
    format = "jsonl"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return (json.dumps(data, ensure_ascii=False) + "\n").encode()


def valid_input(serializer_class, request) -> dict:
    """The request body checked by `serializer_class`; a 400 with the field errors otherwise."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class RequiredPermission(BasePermission):
    """The permission the view's `required` names for the method (HEAD and OPTIONS as GET),
    checked before any lookup. A method the view lacks passes here, so that it answers 405."""

    def has_permission(self, request, view) -> bool:
        self.message = view.permission_message
        method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
        needed = view.required.get(method)
        return needed is None or request.user.has_perm(needed)


class AppAPIView(APIView):
    """An app's API view: authenticated, `required` permissions per method, and the app's
    `error_class` answered as {"detail": message} with its status_code (400 without one)."""

    permission_classes = [IsAuthenticated, RequiredPermission]
    required: dict[str, str] = {}
    permission_message = "You do not have permission to do this."
    error_class: type[Exception] | None = None

    def handle_exception(self, exc):
        if self.error_class and isinstance(exc, self.error_class):
            return Response({"detail": str(exc)}, status=getattr(exc, "status_code", status.HTTP_400_BAD_REQUEST))
        return super().handle_exception(exc)
