"""Writing screens: the documents list, the document page with its redline review, history.

Views are thin: look up what the person may see (someone else's row is a 404), call one
service or selector, and render the page or, for htmx, the fragment of it. Without
JavaScript every form posts normally and is redirected back (POST/redirect/GET); a form
that carries text the person typed is shown again with the error instead, so nothing is lost.
"""

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from inference.instructions import INSTRUCTIONS
from webapp.core.model_cards import model_card_for
from webapp.core.views import HTMX_STOP_POLLING
from webapp.writing import display, selectors, services
from webapp.writing.errors import WritingError
from webapp.writing.forms import (
    ApplyForm,
    DecisionForm,
    DocumentCreateForm,
    ImportForm,
    SuggestForm,
    TextEditForm,
    VerdictForm,
    form_errors,
)
from webapp.writing.models import Document, EditProposal, Iteration

PAGE = "writing/document.html"
LIST_PAGE = "writing/document_list.html"
HISTORY_PAGE = "writing/history.html"
NDJSON = "application/x-ndjson"

STATE_LABELS = {
    "idle": "Ready",
    "running": "Revising",
    "review": "In review",
    "converged": "Converged",
    "max_depth": "Done",
    "failed": "Failed",
}


# Pure helpers: what the templates draw, computed from rows already loaded.


@dataclass(frozen=True)
class Segment:
    """A run of unchanged text, or one proposal (then `text` is empty)."""

    text: str = ""
    proposal: EditProposal | None = None


def redline_segments(text: str, proposals) -> list[Segment]:
    """Split `text` into unchanged runs and the proposals between them. Proposals are
    non-overlapping spans of `text`; they are taken in position order. A proposal that
    overlaps the one before it (which the diff never produces) is still shown, at the end
    of the earlier one, so that no edit is hidden from review."""
    segments: list[Segment] = []
    cursor = 0
    for proposal in sorted(proposals, key=lambda p: (p.start_char, p.end_char, p.index)):
        start = max(proposal.start_char, cursor)
        if start > cursor:
            segments.append(Segment(text=text[cursor:start]))
        segments.append(Segment(proposal=proposal))
        cursor = max(cursor, min(proposal.end_char, len(text)))
    if cursor < len(text):
        segments.append(Segment(text=text[cursor:]))
    return segments


def proposal_decorate(proposal: EditProposal) -> EditProposal:
    """Set `.decision` (current row or None), `.verdict`, `.based_on` (the current decision
    id, 0 for none) from the prefetched `current_decisions`, and `.decide_url`."""
    current = proposal.current_decisions[0] if proposal.current_decisions else None
    proposal.decision = current
    proposal.verdict = current.verdict if current else "undecided"
    proposal.based_on = current.pk if current else 0
    proposal.decide_url = reverse("writing:proposal_decide", args=[proposal.pk])
    return proposal


@dataclass(frozen=True)
class Bar:
    depth: int
    label: str
    x: float
    center: float
    y: float
    height: float
    label_y: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_top: int
    plot_bottom: int
    plot_left: int
    bar_width: int
    bars: list[Bar]
    gridlines: list[tuple[float, str]]


def acceptance_chart(rows: list[dict], *, plot_height: int = 120, bar_width: int = 36, gap: int = 20) -> Chart:
    """Geometry of an SVG bar chart of the acceptance rate per depth (rows from
    selectors.acceptance_by_depth). A depth with no decided edit gets no bar and a dash."""
    top, left, bottom_labels = 18, 40, 22
    bottom = top + plot_height
    bars = []
    for i, row in enumerate(rows):
        x = left + gap + i * (bar_width + gap)
        rate = row["rate"]
        height = round(plot_height * rate, 1) if rate is not None else 0
        bars.append(
            Bar(
                depth=row["depth"],
                label=f"{round(100 * rate)}%" if rate is not None else "–",
                x=x,
                center=x + bar_width / 2,
                y=bottom - height,
                height=height,
                label_y=bottom - height - 4,
            )
        )
    width = left + gap + max(len(rows), 1) * (bar_width + gap)
    gridlines = [(bottom - plot_height * f, f"{round(100 * f)}%") for f in (0, 0.5, 1)]
    return Chart(
        width=width,
        height=bottom + bottom_labels,
        plot_top=top,
        plot_bottom=bottom,
        plot_left=left,
        bar_width=bar_width,
        bars=bars,
        gridlines=gridlines,
    )


def list_state(document: Document) -> tuple[str, str]:
    """(code, label) of a document annotated by selectors.documents_with_last_round."""
    status = document.last_status
    if status is None:
        return "new", "No rounds yet"
    if status in (Iteration.Status.QUEUED, Iteration.Status.GENERATING):
        return "running", "Revising"
    if status == Iteration.Status.REVIEW:
        return "review", "In review"
    if status == Iteration.Status.FAILED:
        return "failed", "Failed"
    if (document.last_depth or 0) >= document.max_depth:
        return "max_depth", "Maximum depth reached"
    if document.last_source == Iteration.Source.MODEL and not document.last_has_proposals:
        return "converged", "No further edits"
    return "idle", "Ready"


# Context builders shared by the page, its fragments and the POST views.


def _review_context(iteration: Iteration) -> dict:
    proposals = [proposal_decorate(p) for p in selectors.proposals_with_decisions(iteration)]
    return {
        "review": iteration,
        "segments": redline_segments(iteration.text_before, proposals),
        "counts": selectors.decision_counts(iteration),
        "round_open": True,
    }


def _document_context(request, document: Document, **extra) -> dict:
    last = selectors.document_last_iteration(document)
    state = display.document_loop_state(document, last)
    context = {
        "document": document,
        "last": last,
        "state": state,
        "state_label": STATE_LABELS.get(state.code, state.code),
        "instruction": INSTRUCTIONS.get(last.instruction) if last is not None else None,
        "model_card": model_card_for(last.model_version)
        if last is not None and last.source == Iteration.Source.MODEL
        else None,
        "can_decide": request.user.has_perm("writing.add_decision"),
        "can_suggest": request.user.has_perm("writing.add_iteration"),
        "can_edit": request.user.has_perm("writing.change_document"),
        "no_round_open": last is None or last.status not in Iteration.OPEN,
        "suggest_form": SuggestForm(),
        "text_form": TextEditForm(initial={"text": document.current_text}),
    }
    if last is not None and last.status == Iteration.Status.REVIEW:
        context.update(_review_context(last))
    context.update(extra)
    return context


def _document_url(document_id: int, anchor: str = "") -> str:
    url = reverse("writing:document_detail", args=[document_id])
    return f"{url}#{anchor}" if anchor else url


def _round_response(request, document_id: int, *, notice: str = "", error: str = "", status: int = 200, **extra):
    """After a POST on the document page: the `round` fragment for htmx; otherwise a
    message and a redirect to the page."""
    if request.htmx:
        document = selectors.document_for_user(request.user, document_id)
        context = _document_context(request, document, notice=notice, error=error, **extra)
        return render(request, f"{PAGE}#round", context, status=status)
    if error:
        messages.error(request, error)
    elif notice:
        messages.success(request, notice)
    return redirect(_document_url(document_id))


def _form_error_response(request, document: Document, error: str, status: int, **bound_forms):
    """A form with text the person typed failed: show it again with the error (fragment for
    htmx, whole page otherwise) so that nothing is lost."""
    context = _document_context(request, document, error=error, **bound_forms)
    template = f"{PAGE}#round" if request.htmx else PAGE
    return render(request, template, context, status=status)


# Documents list, create, import, export.


@login_required
@require_GET
def document_list(request):
    return render(request, LIST_PAGE, _list_context(request))


def _list_context(request, **extra) -> dict:
    documents = list(selectors.documents_with_last_round(request.user))
    for document in documents:
        document.state_code, document.state_label = list_state(document)
    context = {
        "documents": documents,
        "create_form": DocumentCreateForm(),
        "import_form": ImportForm(),
        "can_create": request.user.has_perm("writing.add_document"),
    }
    context.update(extra)
    return context


@login_required
@permission_required("writing.add_document", raise_exception=True)
@require_POST
def document_create(request):
    form = DocumentCreateForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            document = services.document_create(
                owner=request.user, text=data["text"], title=data["title"], max_depth=data["max_depth"]
            )
        except WritingError as exc:
            form.add_error(None, str(exc))
            status = exc.status_code
        else:
            messages.success(request, f"“{document.title}” is created. Ask the model for edits below.")
            return redirect(_document_url(document.pk))
    return render(request, LIST_PAGE, _list_context(request, create_form=form), status=status)


@login_required
@permission_required("writing.add_document", raise_exception=True)
@require_POST
def document_import(request):
    from webapp.writing import transfer as writing_io

    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, LIST_PAGE, _list_context(request, import_form=form), status=400)
    upload = form.cleaned_data["file"]
    try:
        result = writing_io.documents_import(owner=request.user, filename=upload.name, data=upload.read())
    except WritingError as exc:
        form.add_error("file", str(exc))
        return render(request, LIST_PAGE, _list_context(request, import_form=form), status=exc.status_code)
    count = len(result.documents)
    messages.success(
        request,
        f"Imported {count} document{'s' if count != 1 else ''} "
        f"with {result.decisions} decision{'s' if result.decisions != 1 else ''}.",
    )
    if count == 1:
        return redirect(_document_url(result.documents[0].pk))
    return redirect("writing:document_list")


def _jsonl_response(documents, filename: str) -> StreamingHttpResponse:
    from webapp.writing import transfer as writing_io

    response = StreamingHttpResponse(writing_io.documents_export_jsonl(documents), content_type=NDJSON)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_GET
def export_all(request):
    return _jsonl_response(selectors.documents_for_user(request.user), "redline-documents.jsonl")


@login_required
@require_GET
def document_export(request, pk: int):
    document = selectors.document_for_user(request.user, pk)
    documents = selectors.documents_for_user(request.user).filter(pk=document.pk)
    return _jsonl_response(documents, f"redline-document-{document.pk}.jsonl")


# The document page and its round.


@login_required
@require_GET
def document_detail(request, pk: int):
    """The page; for htmx (the poll while a round runs) its `round` fragment, answered 286
    once the round is no longer running so that the poll stops."""
    document = selectors.document_for_user(request.user, pk)
    context = _document_context(request, document)
    if request.htmx:
        response = render(request, f"{PAGE}#round", context)
        if context["state"].code != "running":
            response.status_code = HTMX_STOP_POLLING
        return response
    return render(request, PAGE, context)


@login_required
@require_GET
def document_history(request, pk: int):
    document = selectors.document_for_user(request.user, pk)
    iterations = list(selectors.document_history(document))
    for iteration in iterations:
        known = INSTRUCTIONS.get(iteration.instruction)
        iteration.instruction_label = known.label if known else iteration.instruction
    acceptance = selectors.acceptance_by_depth(document)
    context = {
        "document": document,
        "iterations": iterations,
        "acceptance": acceptance,
        "chart": acceptance_chart(acceptance),
    }
    return render(request, HISTORY_PAGE, context)


@login_required
@permission_required("writing.add_iteration", raise_exception=True)
@require_POST
def suggest(request, pk: int):
    document = selectors.document_for_user(request.user, pk)
    form = SuggestForm(request.POST)
    if not form.is_valid():
        return _form_error_response(request, document, form_errors(form), 400, suggest_form=form)
    try:
        iteration = services.iteration_start(
            document=document,
            user=request.user,
            instruction=form.cleaned_data["instruction"],
            custom_text=form.cleaned_data["custom_text"],
        )
    except WritingError as exc:
        return _form_error_response(request, document, str(exc), exc.status_code, suggest_form=form)
    return _round_response(request, document.pk, notice=f"Round {iteration.number} is queued.")


@login_required
@permission_required("writing.change_document", raise_exception=True)
@require_POST
def edit_text(request, pk: int):
    document = selectors.document_for_user(request.user, pk)
    form = TextEditForm(request.POST)
    if not form.is_valid():
        return _form_error_response(request, document, form_errors(form), 400, text_form=form, text_open=True)
    try:
        iteration = services.document_text_edit(document=document, user=request.user, text=form.cleaned_data["text"])
    except WritingError as exc:
        return _form_error_response(request, document, str(exc), exc.status_code, text_form=form, text_open=True)
    if iteration is None:
        return _round_response(request, document.pk, notice="The text is unchanged; nothing was saved.")
    return _round_response(request, document.pk, notice=f"Your edit is saved as round {iteration.number}.")


# Decisions on one edit, and on the whole round.


@login_required
@permission_required("writing.add_decision", raise_exception=True)
@require_POST
def proposal_decide(request, pk: int):
    """Accept or reject one edit. htmx gets the edit's fragment and the counts out of band;
    a conflict (someone decided since the page was loaded) is a 409 showing the current state."""
    proposal = selectors.proposal_for_user(request.user, pk)
    form = DecisionForm(request.POST)
    error, status, decision = "", 200, None
    if not form.is_valid():
        error, status = form_errors(form), 400
    else:
        try:
            decision = services.proposal_decide(
                proposal=proposal,
                user=request.user,
                verdict=form.cleaned_data["verdict"],
                based_on=form.cleaned_data["based_on"],
            )
        except WritingError as exc:
            error, status = str(exc), exc.status_code
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect(_document_url(proposal.iteration.document_id, f"edit-{proposal.pk}"))
    if decision is not None:
        # Recorded while the round was open: the decision in hand is the current one.
        proposal.current_decisions = [decision]
        fresh = proposal_decorate(proposal)
    else:
        fresh = proposal_decorate(selectors.proposal_with_decision(proposal.pk))
    context = {
        "p": fresh,
        "edit_error": error,
        "round_open": fresh.iteration.status == Iteration.Status.REVIEW,
        "can_decide": True,
        "counts": selectors.decision_counts(fresh.iteration),
        "oob": True,
    }
    # Stripped: white space around the edit would be swapped into the text, where it shows.
    body = (
        render_to_string(f"{PAGE}#edit", context, request).strip()
        + render_to_string(f"{PAGE}#counts", context, request).strip()
    )
    return HttpResponse(body, status=status)


def _iteration_post(request, pk: int, form_class, action):
    """Look up the round, validate the form, call `action(iteration, data) -> notice`."""
    iteration = selectors.iteration_for_user(request.user, pk)
    form = form_class(request.POST)
    if not form.is_valid():
        return _round_response(request, iteration.document_id, error=form_errors(form), status=400)
    try:
        notice = action(iteration, form.cleaned_data)
    except WritingError as exc:
        return _round_response(request, iteration.document_id, error=str(exc), status=exc.status_code)
    return _round_response(request, iteration.document_id, notice=notice)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@login_required
@permission_required("writing.add_decision", raise_exception=True)
@require_POST
def decide_all(request, pk: int):
    def action(iteration, data):
        verdict = data["verdict"]
        changed = services.proposals_decide_all(iteration=iteration, user=request.user, verdict=verdict)
        done = "accepted" if verdict == "accept" else "rejected"
        return f"{_plural(changed, 'edit')} {done}." if changed else f"Every edit was already {done}."

    return _iteration_post(request, pk, VerdictForm, action)


@login_required
@permission_required("writing.add_decision", raise_exception=True)
@require_POST
def undo(request, pk: int):
    def action(iteration, data):
        restored = services.decision_undo(iteration=iteration, user=request.user)
        return f"Undone: {_plural(len(restored), 'decision')}."

    return _iteration_post(request, pk, forms.Form, action)


@login_required
@permission_required("writing.add_iteration", raise_exception=True)
@require_POST
def apply(request, pk: int):
    def action(iteration, data):
        following = services.iteration_apply(iteration=iteration, user=request.user, revise_again=data["revise_again"])
        if following is not None:
            return "Your accepted edits are applied. The model is revising again."
        if data["revise_again"]:
            return "Your accepted edits are applied. Maximum depth reached; the model will not revise again."
        return "Your accepted edits are applied."

    return _iteration_post(request, pk, ApplyForm, action)


@login_required
@permission_required("writing.add_iteration", raise_exception=True)
@require_POST
def retry(request, pk: int):
    def action(iteration, data):
        services.iteration_retry(iteration=iteration, user=request.user)
        return "The round is queued again."

    return _iteration_post(request, pk, forms.Form, action)
