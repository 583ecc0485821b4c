"""Writes of the coding loop: problems, iterations (generate, then execute), decisions on
candidates and tests, edits of tests, the accepted solution. Views and tasks call these.

Generation runs on the `gpu` queue (iteration_generate), execution in the sandbox on the
`default` queue (iteration_execute): model-written code only ever runs inside
inference.sandbox, never in a web or worker process.

Locks. A write that locks rows takes them in this order, and only in it, so that two writes
never wait for each other in a circle (a deadlock):

    problem -> iteration -> candidate or test -> job

A write may skip a level but never goes back up one: accepting a solution and deciding on a
candidate both lock the problem, then the candidate; editing a test locks the problem, the
round it runs again, then the test it replaces. The row locks are FOR NO KEY UPDATE
(`select_for_update(no_key=True)`): the foreign-key check of an insert (a KEY SHARE lock on
the row it references, the problem of a test a worker stores, say) never waits for them, so
inserts stay out of the order. Decisions are not locked themselves: a candidate's or a
test's are written only while holding that candidate or test. The advisory locks of the
workers (GENERATE_LOCK, EXECUTE_LOCK) are only ever tried, never waited for, before any row.
"""

import hashlib

from django.conf import settings
from django.db import transaction

from inference.coding import check_syntax, normalized, split_checks
from webapp.coding import selectors
from webapp.coding.errors import CodingConflict, CodingError
from webapp.coding.models import (
    CandidateDecision,
    CodeCandidate,
    CodeTest,
    CodeTestDecision,
    CodingIteration,
    Execution,
    Problem,
    Source,
    Verdict,
)
from webapp.core.queue import send_on_commit
from webapp.core.services import job_create, job_finish, job_progress, job_start
from webapp.core.worker import claimed_job_run, error_text
from webapp.registry.models import ModelVersion
from webapp.registry.services import model_version_active

MAX_STATEMENT_CHARS = 20_000
MAX_CODE_CHARS = 20_000
MAX_CRITIQUE_CHARS = 2_000
MAX_PER_ITERATION = 12
VERDICTS = (Verdict.ACCEPT, Verdict.REJECT)
GENERATE_LOCK = "coding.generate"
EXECUTE_LOCK = "coding.execute"


def code_key(code: str) -> str:
    """A short hash of the code's normalised form: equal for code that differs only in layout."""
    return hashlib.sha256(normalized(code).encode("utf-8")).hexdigest()


def _text(value: str, what: str, limit: int, required: bool = True) -> str:
    value = (value or "").replace("\r\n", "\n").strip("\n")
    if required and not value.strip():
        raise CodingError(f"The {what} is empty.")
    if len(value) > limit:
        raise CodingError(f"The {what} has {len(value):,} characters; the limit is {limit:,}.")
    if "\x00" in value:
        raise CodingError(f"The {what} contains NUL characters.")
    return value


def _user_tests(problem: Problem, user, source_text: str, replaces: CodeTest | None = None) -> list[CodeTest]:
    """The checks of `source_text` as tests written by `user`, validated by them (they wrote them).
    A block that does not parse is one test with its syntax error, so nothing typed is lost."""
    checks = split_checks(source_text, problem.entry_point) or [source_text]
    tests = []
    for check in checks:
        test = CodeTest.objects.create(
            problem=problem,
            code=check,
            syntax_error=check_syntax(check) or "",
            source=Source.USER,
            replaces=replaces,
            normalized=code_key(check),
            created_by=user,
        )
        CodeTestDecision.objects.create(test=test, verdict=Verdict.ACCEPT, decided_by=user, via="written")
        tests.append(test)
    return tests


@transaction.atomic
def problem_create(
    *, owner, title: str, statement: str, entry_point: str = "", signature: str = "", tests: str = "", project=None
) -> Problem:
    statement = _text(statement, "problem statement", MAX_STATEMENT_CHARS)
    entry_point = (entry_point or "").strip()
    if entry_point and not entry_point.isidentifier():
        raise CodingError(f"“{entry_point}” is not a Python function name.")
    if project is not None and not project.members.filter(pk=owner.pk).exists():
        raise CodingError("You are not a member of that project.")
    first_line = next((line.strip() for line in statement.splitlines() if line.strip()), "Untitled")
    problem = Problem.objects.create(
        owner=owner,
        project=project,
        title=(title.strip() or first_line)[:300],
        statement=statement,
        entry_point=entry_point,
        signature=_text(signature, "signature", 1000, required=False),
    )
    tests = _text(tests, "tests", MAX_CODE_CHARS, required=False)
    if tests.strip():
        _user_tests(problem, owner, tests)
    return problem


def _problem_locked(problem_id: int) -> Problem:
    """The problem, locked: the first lock of any write that takes more than one (see above)."""
    return Problem.objects.select_for_update(no_key=True).get(pk=problem_id)


def _require_no_open_iteration(problem: Problem) -> None:
    if problem.iterations.filter(status__in=CodingIteration.OPEN).exists():
        raise CodingConflict("This problem is being worked on already; wait for its round to finish.")


@transaction.atomic
def iteration_start(
    *, problem: Problem, user, critique: str = "", candidates: int | None = None, tests: int | None = None
) -> CodingIteration:
    """Queue a round of K candidates and M tests. From the second round on, the prompt carries
    the feedback (selectors.regeneration_feedback); the generation task is sent on commit."""
    problem = _problem_locked(problem.pk)
    _require_no_open_iteration(problem)
    k = candidates or settings.REDLINE_CODING_CANDIDATES
    m = tests or settings.REDLINE_CODING_TESTS
    if not (1 <= k <= MAX_PER_ITERATION and 1 <= m <= MAX_PER_ITERATION):
        raise CodingError(f"Ask for 1 to {MAX_PER_ITERATION} candidates and tests.")
    critique = _text(critique, "critique", MAX_CRITIQUE_CHARS, required=False)
    last = problem.iterations.order_by("-number").first()
    iteration = CodingIteration.objects.create(
        problem=problem,
        number=(last.number + 1) if last else 1,
        candidates_wanted=k,
        tests_wanted=m,
        critique=critique,
        feedback=selectors.regeneration_feedback(problem, critique) if (last or critique) else {},
        model_version=model_version_active(ModelVersion.Kind.CODER),
        job=job_create(kind="coding", user=user, message="Waiting for a worker"),
        created_by=user,
    )
    from webapp.coding.tasks import generate_coding_iteration

    send_on_commit(generate_coding_iteration, iteration.pk)
    return iteration


@transaction.atomic
def _claim(iteration_id: int, waiting: tuple[str, ...], status: str, message: str) -> CodingIteration | None:
    """Move the iteration from one of `waiting` to `status`. Call while holding its advisory
    lock: an iteration already in `status` was then left by a worker that died, and is taken over."""
    iteration = (
        CodingIteration.objects.select_for_update(of=("self",), no_key=True)
        .filter(pk=iteration_id, status__in=(*waiting, status))
        .select_related("problem", "model_version")
        .first()
    )
    if iteration is None:
        return None
    iteration.status = status
    iteration.save(update_fields=["status"])
    if iteration.job_id:
        job_start(job_id=iteration.job_id, message=message)
    return iteration


def _fail(iteration: CodingIteration, reason: str) -> None:
    with transaction.atomic():
        CodingIteration.objects.filter(pk=iteration.pk, status__in=CodingIteration.OPEN).update(
            status=CodingIteration.Status.FAILED, error=reason
        )
        if iteration.job_id:
            job_finish(job_id=iteration.job_id, error=reason)


def iteration_generate(*, iteration_id: int) -> None:
    """Generate the round's candidates and tests (worker side, `gpu` queue), then send its
    execution. A failure is recorded on the round and its job; the worker carries on."""
    claimed_job_run(
        lock=GENERATE_LOCK,
        key=iteration_id,
        claim=lambda pk: _claim(
            pk, (CodingIteration.Status.QUEUED,), CodingIteration.Status.GENERATING, "Loading the model"
        ),
        work=_generate,
        fail=lambda iteration, exc: _fail(iteration, error_text(exc)),
        store=lambda iteration, result: _store_generation(iteration, *result),
    )


def _generate(iteration: CodingIteration):
    import time

    from inference.coding import (
        Feedback,
        ProblemSpec,
        generate_candidates,
        generate_tests,
        sampling_settings,
    )
    from inference.editor import load_editor_cached

    started = time.perf_counter()
    problem, version = iteration.problem, iteration.model_version
    editor = load_editor_cached(version.base_model, version.adapter_path or None)
    spec = ProblemSpec(problem.statement, problem.entry_point, problem.signature)
    fb = iteration.feedback
    feedback = (
        Feedback(
            failing=[tuple(f) for f in fb.get("failing", [])],
            rejected_tests=fb.get("rejected_tests", []),
            critique=fb.get("critique", ""),
            rejected_candidates=fb.get("rejected_candidates", []),
        )
        if fb
        else None
    )
    earlier_code = list(CodeCandidate.objects.filter(iteration__problem=problem).values_list("code", flat=True))
    earlier_tests = list(problem.tests.values_list("code", flat=True))
    job_id, k, m = iteration.job_id, iteration.candidates_wanted, iteration.tests_wanted
    batch = settings.REDLINE_GENERATION_BATCH_SIZE

    def progress(offset: int, label: str):
        def report(done: int, total: int) -> None:
            if job_id:
                job_progress(
                    job_id=job_id, done=offset + done, total=k + m, message=f"Writing {label}: {done} of {total}"
                )

        return report

    candidates = generate_candidates(
        editor,
        spec,
        k,
        feedback=feedback,
        attempt=iteration.number,
        seed=iteration.pk,
        batch_size=batch,
        exclude=earlier_code,
        on_progress=progress(0, "candidates"),
    )
    tests = generate_tests(
        editor,
        spec,
        m,
        feedback=feedback,
        attempt=iteration.number,
        seed=iteration.pk,
        batch_size=batch,
        exclude=earlier_tests,
        on_progress=progress(k, "tests"),
    )
    settings_used = sampling_settings(iteration.number, seed=iteration.pk, batch_size=batch).as_dict() | {
        "candidates": k,
        "tests": m,
        "model": version.base_model,
        "adapter": version.adapter_path,
        "device": str(editor.device),
        "attempt": iteration.number,
    }
    return candidates, tests, settings_used, time.perf_counter() - started


@transaction.atomic
def _store_generation(iteration: CodingIteration, candidates, tests, settings_used: dict, seconds: float) -> None:
    iteration = CodingIteration.objects.select_for_update(no_key=True).get(pk=iteration.pk)
    if iteration.status != CodingIteration.Status.GENERATING:
        return
    CodeCandidate.objects.bulk_create(
        CodeCandidate(
            iteration=iteration,
            index=i,
            code=p.code,
            syntax_error=p.syntax_error or "",
            score=p.score,
            normalized=code_key(p.code),
        )
        for i, p in enumerate(candidates)
    )
    CodeTest.objects.bulk_create(
        CodeTest(
            problem_id=iteration.problem_id,
            iteration=iteration,
            code=p.code,
            syntax_error=p.syntax_error or "",
            normalized=code_key(p.code),
        )
        for p in tests
    )
    iteration.generation_settings = settings_used
    iteration.generation_seconds = seconds
    iteration.status = CodingIteration.Status.EXECUTING
    iteration.save(update_fields=["generation_settings", "generation_seconds", "status"])
    if iteration.job_id:
        job_progress(
            job_id=iteration.job_id,
            done=0,
            total=0,
            message=f"{len(candidates)} candidates and {len(tests)} tests written; running them",
        )
    _send_execution(iteration.pk)


def _send_execution(iteration_id: int) -> None:
    from webapp.coding.tasks import execute_coding_iteration

    send_on_commit(execute_coding_iteration, iteration_id)


def iteration_execute(*, iteration_id: int) -> None:
    """Run every candidate of the round that compiles against every test of the problem that
    compiles, each pair in its own sandboxed process, as a new run (worker side, `default` queue)."""
    claimed_job_run(
        lock=EXECUTE_LOCK,
        key=iteration_id,
        claim=lambda pk: _claim(
            pk, (CodingIteration.Status.EXECUTING,), CodingIteration.Status.EXECUTING, "Running the tests"
        ),
        work=_execute,
        fail=lambda iteration, exc: _fail(iteration, f"The sandbox could not run the code: {exc}"),
    )


def _execute(iteration: CodingIteration) -> None:
    from inference.sandbox import Limits, run_checks

    candidates = list(iteration.candidates.filter(syntax_error="").order_by("index"))
    tests = list(CodeTest.objects.filter(problem_id=iteration.problem_id, syntax_error="").order_by("pk"))
    run = iteration.run + 1
    limits = Limits(
        cpu_seconds=settings.REDLINE_SANDBOX_CPU_SECONDS,
        wall_seconds=settings.REDLINE_SANDBOX_WALL_SECONDS,
        memory_mb=settings.REDLINE_SANDBOX_MEMORY_MB,
    )
    total, done = len(candidates) * len(tests), 0
    entry_point = iteration.problem.entry_point or None
    # A run that a dead worker left half done is done again from the start (the task is redelivered).
    Execution.objects.filter(candidate__iteration=iteration, run=run).delete()
    for candidate in candidates:
        results = run_checks(
            candidate.code,
            [t.code for t in tests],
            limits,
            allow_weak=settings.REDLINE_SANDBOX_ALLOW_WEAK,
            entry_point=entry_point,
            workers=settings.REDLINE_SANDBOX_WORKERS,
        )
        Execution.objects.bulk_create(
            Execution(
                candidate=candidate,
                test=test,
                run=run,
                status=r.status,
                output=r.output,
                traceback=r.traceback,
                duration_s=r.duration_s,
                isolation=r.isolation,
            )
            for test, r in zip(tests, results)
        )
        done += len(tests)
        if iteration.job_id:
            job_progress(
                job_id=iteration.job_id, done=done, total=total, message=f"Ran {done} of {total} candidate × test pairs"
            )
    with transaction.atomic():
        CodingIteration.objects.filter(pk=iteration.pk).update(status=CodingIteration.Status.READY, run=run)
        if iteration.job_id:
            job_finish(job_id=iteration.job_id, message=f"{len(candidates)} candidates × {len(tests)} tests run")


@transaction.atomic
def executions_rerun(*, iteration: CodingIteration, user) -> CodingIteration:
    """Run the round's candidates against the problem's tests again (new and edited tests too)."""
    problem = _problem_locked(iteration.problem_id)
    iteration = CodingIteration.objects.select_for_update(no_key=True).get(pk=iteration.pk)
    if iteration.status != CodingIteration.Status.READY:
        raise CodingConflict("Only a finished round can be run again.")
    _require_no_open_iteration(problem)
    iteration.status = CodingIteration.Status.EXECUTING
    iteration.job = job_create(kind="coding-run", user=user, message="Waiting for a worker")
    iteration.save(update_fields=["status", "job"])
    _send_execution(iteration.pk)
    return iteration


def _decide(model, field: str, target, user, verdict: str, via: str):
    """A new current decision on `target` (a candidate or a test), keeping the earlier one in
    history; deciding what is already current records nothing new. Locks `target`: call
    holding no lock on another candidate or test (the problem's and the round's may be held)."""
    if verdict not in VERDICTS:
        raise CodingError(f"Unknown decision {verdict!r}; use 'accept' or 'reject'.")
    type(target).objects.select_for_update(no_key=True).filter(pk=target.pk).first()
    current = model.objects.filter(**{field: target, "is_current": True}).first()
    if current is not None and current.verdict == verdict:
        return current
    if current is not None:
        model.objects.filter(pk=current.pk).update(is_current=False)
    return model.objects.create(**{field: target, "verdict": verdict, "decided_by": user, "via": via})


@transaction.atomic
def test_decide(*, test: CodeTest, user, verdict: str, via: str = "web") -> CodeTestDecision:
    """Validate (accept) or reject a test. Once any test is validated, only validated tests count
    in the ranking; a rejected test never counts (inference.ranking)."""
    return _decide(CodeTestDecision, "test", test, user, verdict, via)


@transaction.atomic
def test_edit(*, test: CodeTest, user, code: str) -> list[CodeTest]:
    """Replace a test by the person's corrected version: new validated test(s) that point to it,
    and the old one rejected as replaced. The latest round runs again to include them."""
    code = _text(code, "test", MAX_CODE_CHARS)
    if normalized(code) == normalized(test.code):
        raise CodingError("The test is unchanged.")
    problem = _problem_locked(test.problem_id)
    new = _user_tests(problem, user, code, replaces=test)
    _rerun_latest(problem, user)  # locks the round, so before the test (the order above)
    _decide(CodeTestDecision, "test", test, user, Verdict.REJECT, "edit")
    return new


@transaction.atomic
def test_add(*, problem: Problem, user, code: str) -> list[CodeTest]:
    """Tests the person writes, validated; the latest round runs again to include them."""
    code = _text(code, "test", MAX_CODE_CHARS)
    problem = _problem_locked(problem.pk)
    new = _user_tests(problem, user, code)
    _rerun_latest(problem, user)
    return new


def _rerun_latest(problem: Problem, user) -> None:
    latest = problem.iterations.order_by("-number").first()
    if (
        latest is not None
        and latest.status == CodingIteration.Status.READY
        and not problem.iterations.filter(status__in=CodingIteration.OPEN).exists()
    ):
        executions_rerun(iteration=latest, user=user)


@transaction.atomic
def candidate_decide(*, candidate: CodeCandidate, user, verdict: str, via: str = "web") -> CandidateDecision:
    """Accept or reject a candidate. A rejected candidate is never proposed again for the problem.
    Locks the problem, then the candidate, as solution_accept does: the two wait for each other."""
    problem = _problem_locked(candidate.iteration.problem_id)
    decision = _decide(CandidateDecision, "candidate", candidate, user, verdict, via)
    if verdict == Verdict.REJECT and problem.solution_id == candidate.pk:
        problem.solution = None
        problem.save(update_fields=["solution"])
    return decision


@transaction.atomic
def solution_accept(*, candidate: CodeCandidate, user) -> Problem:
    """Make `candidate` the problem's solution (an accept decision, kept in its history)."""
    if candidate.syntax_error:
        raise CodingError("This candidate does not compile; it cannot be the solution.")
    problem = _problem_locked(candidate.iteration.problem_id)
    _decide(CandidateDecision, "candidate", candidate, user, Verdict.ACCEPT, "solution")
    problem.solution = candidate
    problem.save(update_fields=["solution"])
    return problem
