"""Preference screens: the labelling queue for annotators and the Quality screen for admins.

Labelling (`/label/<project>/`) is blind: the page shows the prompt and the outputs, never where
an output came from, which model version wrote it, or whether the comparison is gold. Every
label, skip or undo answers with the next comparison's `queue` fragment, so with htmx the next
item is on screen as soon as the answer arrives; without JavaScript the forms post and redirect.

Quality (`/quality/<project>/`) needs preferences.view_all_labels: agreement figures, labels per
day, the disagreements an admin resolves, and model versions' win rates.

Views are thin: check the form, call one service or selector, render. A project the person is
not a member of is a 404; a role that does not allow the screen is a 403.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from webapp.preferences import display, quality, selectors, services
from webapp.preferences.display import shown_outputs
from webapp.preferences.errors import NotReserved, PreferenceError, PreferenceForbidden
from webapp.preferences.forms import LabelForm, ResolveForm
from webapp.preferences.models import Choice
from webapp.preferences.templatetags.preferences import label_text

PROJECTS_PAGE = "preferences/projects.html"
LABEL_PAGE = "preferences/label.html"
QUALITY_PAGE = "preferences/quality.html"
# The page's own measure of time spent may run a little ahead of the server's clock.
SECONDS_SLACK = 5.0
# Pairwise choices in key order: 1-5, then 0 for both bad.
PAIR_KEYS = (
    ("1", Choice.A_MUCH_BETTER),
    ("2", Choice.A_BETTER),
    ("3", Choice.TIE),
    ("4", Choice.B_BETTER),
    ("5", Choice.B_MUCH_BETTER),
    ("0", Choice.BOTH_BAD),
)


def _view(permission: str):
    """Logged in and holding `permission`: anyone else gets the login page or a 403."""

    def wrap(view):
        return login_required(permission_required(permission, raise_exception=True)(view))

    return wrap


# Labelling ----------------------------------------------------------------------------------


def _label_url(project_id: int) -> str:
    return reverse("preferences:label", args=[project_id])


def _queue_context(
    request, project, *, reserve: bool = True, notice: str = "", error: str = "", form: LabelForm | None = None
) -> dict:
    """The comparison to label, shown blind: after a POST (`reserve`), the one the queue gives the
    user now, reserved for them; on a GET, only the one they already hold (a read never reserves;
    without one, the page asks for the next with a POST, at once when htmx runs)."""
    try:
        if reserve:
            reservation = services.comparison_reserve_next(user=request.user, project=project)
        else:
            services.annotator_require(request.user, project)
            reservation = selectors.reservation_held(request.user, project)
    except PreferenceForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    comparison = reservation.comparison if reservation else None
    outputs = []
    undone = None
    if comparison is not None:
        outputs = shown_outputs([o.text for o in comparison.outputs.order_by("index")])
        undone = selectors.last_undone(request.user, comparison)
    return {
        "project": project,
        "comparison": comparison,
        "outputs": outputs,
        "is_pair": len(outputs) == 2,
        "pair_keys": [(key, choice, Choice(choice).label) for key, choice in PAIR_KEYS],
        "undone": undone,
        "progress": selectors.queue_progress(request.user, project),
        "can_undo": selectors.has_labels(request.user, project),
        "notice": notice,
        "error": error,
        "form": form,
        "asked_queue": reserve,  # False: nothing held yet, and the queue not asked (the page asks it)
    }


def _queue_response(
    request, project, *, notice: str = "", error: str = "", status: int = 200, form: LabelForm | None = None
):
    """After a POST: the next item's fragment for htmx; else the next item reserved, a message
    and a redirect to the page, which shows it."""
    if request.htmx:
        context = _queue_context(request, project, notice=notice, error=error, form=form)
        return render(request, f"{LABEL_PAGE}#queue", context, status=status)
    try:
        services.comparison_reserve_next(user=request.user, project=project)
    except PreferenceForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    if error:
        messages.error(request, error)
    elif notice:
        messages.success(request, notice)
    return redirect(_label_url(project.pk))


def _project_comparison(request, project, comparison_pk: int):
    comparison = selectors.comparisons_for_user(request.user, project.pk).filter(pk=comparison_pk).first()
    if comparison is None:
        raise Http404("No such comparison.")
    return comparison


@_view(selectors.LABEL)
@require_GET
def label_projects(request):
    """Where to label: the person's projects (straight to the only one when there is one)."""
    projects = list(selectors.labelling_projects(request.user))
    if len(projects) == 1:
        return redirect(_label_url(projects[0].pk))
    return render(request, PROJECTS_PAGE, {"projects": projects, "screen": "label"})


@_view(selectors.LABEL)
@require_GET
def label(request, pk: int):
    project = selectors.project_for_user(request.user, pk)
    context = _queue_context(request, project, reserve=False)
    return render(request, f"{LABEL_PAGE}#queue" if request.htmx else LABEL_PAGE, context)


@_view(selectors.LABEL)
@require_POST
def label_next(request, pk: int):
    """Reserve the comparison to label now (the labelling page asks for it when it holds none)."""
    project = selectors.project_for_user(request.user, pk)
    return _queue_response(request, project)


def _seconds_spent(request, comparison, measured: float | None) -> float | None:
    """The page's measure, never more than the server saw pass since it handed the comparison out."""
    if measured is None:
        return None
    reservation = selectors.reservation_of(request.user, comparison)
    if reservation is None:
        return measured
    elapsed = (timezone.now() - reservation.created_at).total_seconds()
    return round(min(measured, max(0.0, elapsed) + SECONDS_SLACK), 3)


@_view(selectors.LABEL)
@require_POST
def label_submit(request, pk: int, comparison_pk: int):
    """A label on the comparison the queue reserved to the person; any other comparison (gold or
    not, full or not, missing) gets the same refusal and the next item."""
    project = selectors.project_for_user(request.user, pk)
    form = LabelForm(request.POST)
    if not form.is_valid():
        error = " ".join(message for messages_ in form.errors.values() for message in messages_)
        return _queue_response(request, project, error=error, status=400, form=form)
    data = form.cleaned_data
    try:
        comparison = selectors.comparison_to_label(request.user, comparison_pk, project_id=project.pk)
        label, _ = services.label_record(
            user=request.user,
            comparison=comparison,
            choice=data["choice"],
            ranking=data["ranking"],
            rationale=data["rationale"],
            seconds_spent=_seconds_spent(request, comparison, data["seconds"]),
        )
    except PreferenceForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except NotReserved as exc:  # the next item is another comparison: the form's input is not for it
        return _queue_response(request, project, error=str(exc), status=exc.status_code)
    except PreferenceError as exc:
        return _queue_response(request, project, error=str(exc), status=exc.status_code, form=form)
    return _queue_response(request, project, notice=f"Labelled: {label_text(label)}.")


@_view(selectors.LABEL)
@require_POST
def label_skip(request, pk: int, comparison_pk: int):
    project = selectors.project_for_user(request.user, pk)
    comparison = _project_comparison(request, project, comparison_pk)
    try:
        services.comparison_skip(user=request.user, comparison=comparison)
    except PreferenceForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except PreferenceError as exc:
        return _queue_response(request, project, error=str(exc), status=exc.status_code)
    return _queue_response(request, project, notice="Skipped; you will not be given that comparison again.")


@_view(selectors.LABEL)
@require_POST
def label_undo(request, pk: int):
    project = selectors.project_for_user(request.user, pk)
    try:
        services.label_undo(user=request.user, project=project)
    except PreferenceForbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except PreferenceError as exc:
        return _queue_response(request, project, error=str(exc), status=exc.status_code)
    return _queue_response(request, project, notice="Your last label is undone: label this comparison again.")


# Quality ------------------------------------------------------------------------------------


def _int_param(request, name: str, default: int, low: int, high: int) -> int:
    try:
        return min(high, max(low, int(request.GET.get(name, default))))
    except (TypeError, ValueError):
        return default


def _version_choice(versions, request, name: str):
    wanted = request.GET.get(name, "")
    return next((v for v in versions if str(v.pk) == wanted), None)


@_view(selectors.VIEW_ALL)
@require_GET
def quality_projects(request):
    return render(
        request,
        PROJECTS_PAGE,
        {"projects": selectors.projects_for_user(request.user).order_by("name"), "screen": "quality"},
    )


@_view(selectors.VIEW_ALL)
@require_GET
def quality_page(request, pk: int):
    project = selectors.project_for_user(request.user, pk)
    versions, rates = quality.version_win_rates(project)
    x, y = _version_choice(versions, request, "x"), _version_choice(versions, request, "y")
    selected = quality.version_win_rate(project, x, y) if x and y and x.pk != y.pk else None
    show_all = request.GET.get("show") == "all"
    context = {
        "project": project,
        "report": quality.project_quality(
            project, min_common=_int_param(request, "min_common", quality.DEFAULT_MIN_COMMON, 2, 10_000)
        ),
        "per_day_chart": display.labels_per_day_chart(project),
        "disagreements": selectors.disagreements(project, include_resolved=show_all),
        "disagreement_counts": selectors.disagreement_count(project),
        "show_all": show_all,
        "versions": versions,
        "x": x,
        "y": y,
        "same_version": bool(x and y and x.pk == y.pk),
        "selected": selected,
        "rates": rates,
        "plot": quality.win_rate_plot(rates, selected),
        "pair_choices": Choice.choices,
        "can_resolve": request.user.has_perm(selectors.RESOLVE),
    }
    if request.htmx and request.GET.get("fragment") == "versions":
        return render(request, f"{QUALITY_PAGE}#versions", context)
    return render(request, QUALITY_PAGE, context)


@_view(selectors.VIEW_ALL)
@require_POST
def resolve(request, pk: int, comparison_pk: int):
    """An admin settles a disagreement (or clears the resolution)."""
    project = selectors.project_for_user(request.user, pk)
    comparison = selectors.comparison_with_labels(project, comparison_pk)
    form = ResolveForm(request.POST)
    error, status = "", 200
    if not form.is_valid():
        error, status = " ".join(m for ms in form.errors.values() for m in ms), 400
    else:
        data = form.cleaned_data
        try:
            if data["clear"]:
                services.comparison_resolve(user=request.user, comparison=comparison)
            else:
                services.comparison_resolve(
                    user=request.user, comparison=comparison, choice=data["choice"], ranking=data["ranking"]
                )
        except PreferenceForbidden as exc:
            raise PermissionDenied(str(exc)) from exc
        except PreferenceError as exc:
            error, status = str(exc), exc.status_code
    if request.htmx:
        context = {
            "project": project,
            "c": selectors.comparison_with_labels(project, comparison_pk),
            "error": error,
            "pair_choices": Choice.choices,
            "can_resolve": True,
        }
        return render(request, f"{QUALITY_PAGE}#disagreement", context, status=status)
    if error:
        messages.error(request, error)
    else:
        messages.success(
            request,
            f"Comparison {comparison.pk} is resolved."
            if not form.cleaned_data["clear"]
            else f"The resolution of comparison {comparison.pk} is cleared.",
        )
    return redirect(reverse("preferences:quality", args=[project.pk]) + f"#comparison-{comparison.pk}")
