"""Coding screens: the problems list and the problem page (ranked candidates, tests with
accept/reject/edit, the candidate x test matrix whose cells open the traceback, Run again,
Regenerate with feedback, the accepted solution, the rounds so far).

Views are thin: look up what the person may see (someone else's problem is a 404), call one
service or selector, render the page or, for htmx, its `work` fragment. Without JavaScript
every form posts and is redirected back; a form with code the person typed is shown again with
its error, so nothing typed is lost.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from webapp.coding import selectors, services
from webapp.coding.errors import CodingError
from webapp.coding.forms import ProblemForm, RoundForm, TestCodeForm, VerdictForm
from webapp.coding.models import CodingIteration, Problem
from webapp.core.views import HTMX_STOP_POLLING

LIST_PAGE = "coding/problem_list.html"
PAGE = "coding/problem.html"
NDJSON = "application/x-ndjson"


def _problem_url(problem_id: int, anchor: str = "") -> str:
    url = reverse("coding:problem_detail", args=[problem_id])
    return f"{url}#{anchor}" if anchor else url


def _page_context(request, problem: Problem, iteration_number: int | None = None, **extra) -> dict:
    iterations = list(problem.iterations.select_related("job", "model_version").order_by("number"))
    shown = next((i for i in iterations if i.number == iteration_number), iterations[-1] if iterations else None)
    tests = selectors.problem_tests(problem)
    ranking = (
        selectors.iteration_ranking(shown, tests)
        if shown is not None and shown.status == CodingIteration.Status.READY
        else []
    )
    open_round = next((i for i in iterations if i.status in CodingIteration.OPEN), None)
    context = {
        "problem": problem,
        "iterations": iterations,
        "shown": shown,
        "latest": iterations[-1] if iterations else None,
        "open_round": open_round,
        "tests": tests,
        "ranking": ranking,
        "solution": problem.solution,
        "can_work": request.user.has_perm("coding.add_codingiteration"),
        "round_form": RoundForm(),
        "test_form": TestCodeForm(),
    }
    context.update(extra)
    return context


def _work_response(request, problem_id: int, *, notice: str = "", error: str = "", status: int = 200, **extra):
    """After a POST on the problem page: the `work` fragment for htmx, else a message and a redirect."""
    if request.htmx:
        problem = selectors.problem_for_user(request.user, problem_id)
        context = _page_context(request, problem, notice=notice, error=error, **extra)
        return render(request, f"{PAGE}#work", context, status=status)
    if error:
        messages.error(request, error)
    elif notice:
        messages.success(request, notice)
    return redirect(_problem_url(problem_id))


def _typed_error(request, problem: Problem, error: str, status: int, **bound_forms):
    """A form with code the person typed failed: show it again with the error."""
    context = _page_context(request, problem, error=error, **bound_forms)
    return render(request, f"{PAGE}#work" if request.htmx else PAGE, context, status=status)


@login_required
@require_GET
def problem_list(request):
    return render(
        request,
        LIST_PAGE,
        {
            "problems": selectors.problems_for_user(request.user).select_related("solution"),
            "form": ProblemForm(),
            "can_create": request.user.has_perm("coding.add_problem"),
        },
    )


@login_required
@permission_required("coding.add_problem", raise_exception=True)
@require_POST
def problem_create(request):
    form = ProblemForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            problem = services.problem_create(owner=request.user, **form.cleaned_data)
        except CodingError as exc:
            form.add_error(None, str(exc))
            status = exc.status_code
        else:
            messages.success(request, f"“{problem.title}” is saved. Ask the model for candidates below.")
            return redirect(_problem_url(problem.pk))
    problems = selectors.problems_for_user(request.user)
    return render(request, LIST_PAGE, {"problems": problems, "form": form, "can_create": True}, status=status)


@login_required
@require_GET
def problem_detail(request, pk: int):
    """The page; for htmx (the poll while a round runs) its `work` fragment, answered 286 once
    nothing is running so that the poll stops."""
    problem = selectors.problem_for_user(request.user, pk)
    try:
        number = int(request.GET["round"]) if "round" in request.GET else None
    except ValueError:
        number = None
    context = _page_context(request, problem, number)
    if request.htmx:
        response = render(request, f"{PAGE}#work", context)
        if context["open_round"] is None:
            response.status_code = HTMX_STOP_POLLING
        return response
    return render(request, PAGE, context)


@login_required
@permission_required("coding.add_codingiteration", raise_exception=True)
@require_POST
def round_start(request, pk: int):
    """The first round, or Regenerate with feedback (the critique and the page's decisions)."""
    problem = selectors.problem_for_user(request.user, pk)
    form = RoundForm(request.POST)
    if not form.is_valid():
        return _typed_error(request, problem, "The critique is too long.", 400, round_form=form)
    try:
        iteration = services.iteration_start(problem=problem, user=request.user, critique=form.cleaned_data["critique"])
    except CodingError as exc:
        return _typed_error(request, problem, str(exc), exc.status_code, round_form=form)
    return _work_response(request, pk, notice=f"Round {iteration.number} is on its way.")


@login_required
@permission_required("coding.add_codingiteration", raise_exception=True)
@require_POST
def round_rerun(request, pk: int):
    iteration = selectors.iteration_for_user(request.user, pk)
    try:
        services.executions_rerun(iteration=iteration, user=request.user)
    except CodingError as exc:
        return _work_response(request, iteration.problem_id, error=str(exc), status=exc.status_code)
    return _work_response(request, iteration.problem_id, notice="Running every candidate against every test again.")


@login_required
@permission_required("coding.add_candidatedecision", raise_exception=True)
@require_POST
def candidate_decide(request, pk: int):
    candidate = selectors.candidate_for_user(request.user, pk)
    form = VerdictForm(request.POST)
    problem_id = candidate.iteration.problem_id
    if not form.is_valid():
        return _work_response(request, problem_id, error="Choose accept or reject.", status=400)
    services.candidate_decide(candidate=candidate, user=request.user, verdict=form.cleaned_data["verdict"])
    return _work_response(request, problem_id)


@login_required
@permission_required("coding.add_candidatedecision", raise_exception=True)
@require_POST
def solution_accept(request, pk: int):
    candidate = selectors.candidate_for_user(request.user, pk)
    try:
        services.solution_accept(candidate=candidate, user=request.user)
    except CodingError as exc:
        return _work_response(request, candidate.iteration.problem_id, error=str(exc), status=exc.status_code)
    return _work_response(request, candidate.iteration.problem_id, notice="Accepted as the solution.")


@login_required
@permission_required("coding.add_codetestdecision", raise_exception=True)
@require_POST
def test_decide(request, pk: int):
    test = selectors.test_for_user(request.user, pk)
    form = VerdictForm(request.POST)
    if not form.is_valid():
        return _work_response(request, test.problem_id, error="Choose accept or reject.", status=400)
    services.test_decide(test=test, user=request.user, verdict=form.cleaned_data["verdict"])
    return _work_response(request, test.problem_id)


@login_required
@permission_required("coding.add_codetest", raise_exception=True)
@require_POST
def test_edit(request, pk: int):
    test = selectors.test_for_user(request.user, pk)
    form = TestCodeForm(request.POST)
    if not form.is_valid():
        return _typed_error(request, test.problem, "The test is empty.", 400, editing=test.pk, edit_form=form)
    try:
        services.test_edit(test=test, user=request.user, code=form.cleaned_data["code"])
    except CodingError as exc:
        return _typed_error(request, test.problem, str(exc), exc.status_code, editing=test.pk, edit_form=form)
    return _work_response(
        request, test.problem_id, notice="The edited test replaces the old one; the candidates run again."
    )


@login_required
@permission_required("coding.add_codetest", raise_exception=True)
@require_POST
def test_add(request, pk: int):
    problem = selectors.problem_for_user(request.user, pk)
    form = TestCodeForm(request.POST)
    if not form.is_valid():
        return _typed_error(request, problem, "The test is empty.", 400, test_form=form)
    try:
        added = services.test_add(problem=problem, user=request.user, code=form.cleaned_data["code"])
    except CodingError as exc:
        return _typed_error(request, problem, str(exc), exc.status_code, test_form=form)
    return _work_response(request, pk, notice=f"{len(added)} test{'s' if len(added) != 1 else ''} added.")


@login_required
@require_GET
def execution_detail(request, pk: int):
    """One cell of the matrix: what the candidate did on the test (a fragment for htmx)."""
    execution = selectors.execution_for_user(request.user, pk)
    template = "coding/execution.html#execution" if request.htmx else "coding/execution.html"
    return render(request, template, {"execution": execution, "problem": execution.candidate.iteration.problem})


@login_required
@require_GET
def feedback_export(request):
    """The coding feedback of the person's problems as training rows (JSON lines)."""
    from webapp.coding.transfer import feedback_export_jsonl

    response = StreamingHttpResponse(
        feedback_export_jsonl(selectors.problems_for_user(request.user)), content_type=NDJSON
    )
    response["Content-Disposition"] = 'attachment; filename="redline-coding-feedback.jsonl"'
    return response
