import sys

from django.contrib.auth.decorators import login_required
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import get_object_or_404, render

from webapp.core.models import Job

HTMX_STOP_POLLING = 286


@login_required
def job_status(request, pk: int):
    """A job's progress. The fragment polls itself and is answered 286 once the job is done."""
    job = get_object_or_404(Job.objects.filter(created_by=request.user), pk=pk)
    template = "core/job.html#job_status" if request.htmx else "core/job.html"
    response = render(request, template, {"job": job})
    if request.htmx and job.is_finished:
        response.status_code = HTMX_STOP_POLLING
    return response


DATABASE_AWAY = "The database is unavailable for a moment; nothing was changed. Try again shortly."


def server_error(request):
    """handler500. While Postgres cannot be reached (a restart, a failover) the answer is 503 with
    Retry-After, wherever the request met it (a view, the session, the user), and the broken
    connections are dropped so that the next request opens new ones; the request's transaction
    never committed. Anything else is a plain 500."""
    if not isinstance(sys.exc_info()[1], (OperationalError, InterfaceError)):
        return HttpResponseServerError("Server error: something went wrong on our side.", content_type="text/plain")
    for connection in connections.all(initialized_only=True):
        connection.close_if_unusable_or_obsolete()
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": DATABASE_AWAY}, status=503)
    else:
        response = HttpResponse(DATABASE_AWAY, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = "5"
    return response
