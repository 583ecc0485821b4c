"""What the JSON APIs of every app share."""

import json

from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.core.errors import DomainError


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
    """An app's API view: authenticated, `required` permissions per method, and a DomainError
    (webapp.core.errors) answered as {"detail": message} with its status_code."""

    permission_classes = [IsAuthenticated, RequiredPermission]
    required: dict[str, str] = {}
    permission_message = "You do not have permission to do this."

    def handle_exception(self, exc):
        if isinstance(exc, DomainError):
            return Response(self.error_body(exc), status=exc.status_code)
        return super().handle_exception(exc)

    def error_body(self, exc: DomainError) -> dict:
        return {"detail": str(exc)}
