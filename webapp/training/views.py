"""Training screens for admins: start a run with a preview of its data, watch it (progress,
ETA, live loss curve), compare versions, promote and roll back, set a project's policy.

Every view needs a training permission (admins have them; writers and annotators get 403).
Views are thin: check the form, call one service or selector, render the page or its htmx
fragment. Without JavaScript every form posts and is redirected (or re-rendered with its error).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from webapp.accounts.models import Project
from webapp.core.errors import DomainError
from webapp.core.model_cards import model_card_for
from webapp.core.queue import send_on_commit
from webapp.core.views import HTMX_STOP_POLLING
from webapp.registry import feedback
from webapp.registry import selectors as registry_selectors
from webapp.registry import services as registry_services
from webapp.registry.models import ModelVersion
from webapp.training import display, policies, runs, selectors, snapshots
from webapp.training.forms import CompareForm, EvaluateForm, PolicyForm, RunForm, SourcesForm
from webapp.training.models import RetrainPolicy, SnapshotRow, TrainingRun

RUNS_PAGE = "training/runs.html"
RUN_PAGE = "training/run.html"
VERSIONS_PAGE = "training/versions.html"
VERSION_PAGE = "training/version.html"
SNAPSHOT_PAGE = "training/snapshot.html"
ROWS_PER_PAGE = 50


def _admin_view(permission: str):
    """Logged in and holding `permission`: anyone else gets the login page or a 403."""

    def wrap(view):
        return login_required(permission_required(permission, raise_exception=True)(view))

    return wrap


def _htmx_redirect(request, url: str):
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


# Runs ---------------------------------------------------------------------------------------


def _runs_context(form: RunForm | None = None) -> dict:
    return {
        "runs": [runs.run_as_seen(run) for run in selectors.runs_recent()],
        "form": form or RunForm(),
        "active": registry_selectors.version_active(),
        "coder": registry_selectors.version_active(ModelVersion.Kind.CODER),
        "snapshots": selectors.snapshots_recent(),
        "projects": Project.objects.select_related("retrain_policy").order_by("name"),
    }


@_admin_view("training.view_trainingrun")
@require_GET
def run_list(request):
    return render(request, RUNS_PAGE, _runs_context())


@_admin_view("training.add_trainingrun")
@require_GET
def run_preview(request):
    """The fragment that says how many rows a snapshot of the chosen feedback would hold
    (`preview_fetched`: it is the answer, and does not fetch itself again on load)."""
    form = SourcesForm(request.GET)
    context = {"preview": None, "preview_error": "", "preview_fetched": True}
    if form.is_valid():
        data = form.cleaned_data
        try:
            context["preview"] = snapshots.snapshot_preview(
                sources=data["sources"],
                project=data["project"],
                since=data["since"],
                held_out_percent=data["held_out_percent"],
            )
        except DomainError as exc:
            context["preview_error"] = str(exc)
    else:
        context["preview_error"] = "Choose at least one source of feedback."
    context["labels"] = dict(form.fields["sources"].choices)
    return render(request, f"{RUNS_PAGE}#preview", context)


@_admin_view("training.add_trainingrun")
@require_POST
def run_create(request):
    form = RunForm(request.POST)
    if not form.is_valid():
        return render(request, RUNS_PAGE, _runs_context(form), status=400)
    data = form.cleaned_data
    try:
        run = runs.training_run_start(
            user=request.user,
            method=data["method"],
            finetune=data["finetune"],
            settings_overrides=form.settings_overrides(),
            base_version=data["base_version"],
            snapshot=data["snapshot"],
            sources=data.get("sources"),
            project=data["project"],
            since=data["since"],
            held_out_percent=data["held_out_percent"],
            promote_if_better=data["promote_if_better"],
            request_token=data["request_token"],
        )
    except DomainError as exc:
        form.add_error(None, str(exc))
        return render(request, RUNS_PAGE, _runs_context(form), status=400)
    return _htmx_redirect(request, reverse("training:run_detail", args=[run.pk]))


def _run_context(run: TrainingRun) -> dict:
    series = selectors.run_series(run)
    loss = series.get(selectors.LOSS, [])
    others = {name: points[-1][1] for name, points in series.items() if name not in (selectors.LOSS, "learning_rate")}
    return {
        "run": run,
        "version": selectors.run_version(run),
        "loss_chart": display.loss_chart(loss),
        "last_values": sorted(others.items()),
        "log_lines": run.log.splitlines()[-40:],
        "can_cancel": run.is_open,
    }


@_admin_view("training.view_trainingrun")
@require_GET
def run_detail(request, pk: int):
    run = runs.run_as_seen(selectors.run_get(pk))
    if request.htmx and request.GET.get("fragment") == "live":
        response = render(request, f"{RUN_PAGE}#run_live", _run_context(run))
        if not run.is_open:
            response.status_code = HTMX_STOP_POLLING
        return response
    return render(request, RUN_PAGE, _run_context(run))


@_admin_view("training.change_trainingrun")
@require_POST
def run_cancel(request, pk: int):
    run = selectors.run_get(pk)
    try:
        runs.training_run_cancel(run=run, user=request.user)
        messages.info(request, "Cancelling: a running run stops at its next step and keeps no artifact.")
    except DomainError as exc:
        messages.error(request, str(exc))
    return _htmx_redirect(request, reverse("training:run_detail", args=[run.pk]))


# Snapshots ----------------------------------------------------------------------------------


@_admin_view("training.view_datasetsnapshot")
@require_GET
def snapshot_detail(request, pk: int):
    snapshot = selectors.snapshot_get(pk)
    split = request.GET.get("split") if request.GET.get("split") in SnapshotRow.Split.values else None
    total = (
        snapshot.held_out_count
        if split == "held_out"
        else snapshot.train_count
        if split == "train"
        else snapshot.row_count
    )
    try:  # past the last row there is nothing to show, however far past (the database takes no offset past bigint)
        offset = min(max(0, int(request.GET.get("offset", 0))), total)
    except ValueError:
        offset = 0
    rows = list(selectors.snapshot_rows_page(snapshot, split=split, offset=offset, limit=ROWS_PER_PAGE))
    return render(
        request,
        SNAPSHOT_PAGE,
        {
            "snapshot": snapshot,
            "rows": rows,
            "split": split or "",
            "offset": offset,
            "shown_to": offset + len(rows),
            "next_offset": offset + ROWS_PER_PAGE if offset + ROWS_PER_PAGE < total else None,
            "previous_offset": max(0, offset - ROWS_PER_PAGE) if offset else None,
            "total": total,
            "runs": snapshot.runs.select_related("base_version").all(),
        },
    )


@_admin_view("training.view_datasetsnapshot")
@require_GET
def snapshot_export(request, pk: int):
    snapshot = selectors.snapshot_get(pk)
    response = StreamingHttpResponse(snapshots.snapshot_export_jsonl(snapshot), content_type="application/x-ndjson")
    response["Content-Disposition"] = f'attachment; filename="redline-snapshot-{snapshot.pk}.jsonl"'
    return response


# Versions -----------------------------------------------------------------------------------


@_admin_view("registry.view_modelversion")
@require_GET
def version_list(request):
    versions = list(selectors.versions_with_evaluations())
    for v in versions:
        v.figures = selectors.latest_metrics(v)
        v.card = model_card_for(v)
    return render(
        request,
        VERSIONS_PAGE,
        {
            "versions": versions,
            "events": selectors.version_events(),
            "figures_chart": display.figures_chart(versions),
            "acceptance_chart": display.acceptance_chart(versions),
            "can_promote": request.user.has_perm("registry.change_modelversion"),
        },
    )


@_admin_view("registry.view_modelversion")
@require_GET
def version_detail(request, pk: int):
    version = selectors.version_get(pk)
    return render(
        request,
        VERSION_PAGE,
        {
            "version": version,
            "lineage": selectors.version_lineage(version),
            "evaluations": version.evaluation_list,
            "snapshots": selectors.snapshots_recent(),
            "can_promote": request.user.has_perm("registry.change_modelversion"),
        },
    )


@_admin_view("registry.view_modelversion")
@require_GET
def version_compare(request):
    versions = ModelVersion.objects.all()
    form = CompareForm(request.GET)
    valid = form.is_valid()  # an id that is no version's: the page asks for two versions, with a 400
    a, b = (form.cleaned_data["a"], form.cleaned_data["b"]) if valid else (None, None)
    pairs = selectors.shared_evaluations(a, b) if a and b else []
    rows = []
    for ea, eb in pairs:
        keys = sorted(set(ea.metrics) | set(eb.metrics))
        samples = list(zip(ea.samples, eb.samples))
        rows.append(
            {
                "snapshot": ea.snapshot,
                "figures": [(k, ea.metrics.get(k), eb.metrics.get(k)) for k in keys],
                "samples": samples,
            }
        )
    return render(
        request,
        "training/compare.html",
        {"a": a, "b": b, "versions": versions, "comparisons": rows},
        status=200 if valid else 400,
    )


@_admin_view("registry.change_modelversion")
@require_POST
def version_promote(request, pk: int):
    version = get_object_or_404(ModelVersion, pk=pk)
    try:
        registry_services.model_version_promote(
            version=version, user=request.user, reason=request.POST.get("reason", "").strip()[:500]
        )
        messages.success(request, f"{version.name} is now the active version; new proposals come from it.")
    except DomainError as exc:
        messages.error(request, str(exc))
    return _htmx_redirect(request, reverse("training:version_list"))


@_admin_view("registry.change_modelversion")
@require_POST
def version_rollback(request):
    kind = request.POST.get("kind") if request.POST.get("kind") in ModelVersion.PROPOSING else ModelVersion.Kind.EDITOR
    try:
        event = registry_services.model_version_rollback(user=request.user, kind=kind)
        messages.success(request, f"Rolled back: {event.version.name} is active again.")
    except DomainError as exc:
        messages.error(request, str(exc))
    return _htmx_redirect(request, reverse("training:version_list"))


@_admin_view("registry.change_modelversion")
@require_POST
def version_evaluate(request, pk: int):

    from webapp.training.tasks import evaluate_version

    version = get_object_or_404(ModelVersion, pk=pk)
    form = EvaluateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a snapshot that has held-out rows to evaluate on.")
    else:
        snapshot = form.cleaned_data["snapshot"]
        send_on_commit(evaluate_version, version.pk, snapshot.pk)
        messages.info(request, f"Evaluating {version.name} on snapshot #{snapshot.pk}; reload this page in a moment.")
    return _htmx_redirect(request, reverse("training:version_detail", args=[version.pk]))


# Policy -------------------------------------------------------------------------------------


@_admin_view("training.change_retrainpolicy")
def policy_edit(request, project_pk: int):
    project = get_object_or_404(Project, pk=project_pk)
    policy = RetrainPolicy.objects.filter(project=project).first()
    if request.method == "POST":
        form = PolicyForm(request.POST)
        if form.is_valid():
            try:
                policies.retrain_policy_save(project=project, user=request.user, **form.cleaned_data)
                messages.success(request, f"Saved the retraining policy of {project.name}.")
                return redirect("training:policy_edit", project_pk=project.pk)
            except DomainError as exc:
                form.add_error(None, str(exc))
        status = 400
    else:
        initial = {}
        if policy is not None:
            initial = {
                "enabled": policy.enabled,
                "after_decisions": policy.after_decisions,
                "method": policy.method,
                "promote_if_better": policy.promote_if_better,
            }
        form, status = PolicyForm(initial=initial or None), 200
    decisions = feedback.project_decision_count(project_id=project.pk)
    return render(
        request,
        "training/policy.html",
        {
            "project": project,
            "policy": policy,
            "form": form,
            "decisions": decisions,
            "since_last": decisions - (policy.decisions_at_last_run if policy else 0),
        },
        status=status,
    )
