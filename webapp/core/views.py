from django.contrib.auth.decorators import login_required
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
