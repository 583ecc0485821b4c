"""The coding loop's rows: problems, iterations (one generation each), candidate code, test
cases, executions (candidate x test) and decisions. Nothing here is updated in place that a
later reader needs: a changed decision is a new row, an edited test is a new test that
replaces the old one, a re-run adds executions under a new run number."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Problem(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="problems")
    project = models.ForeignKey(
        "accounts.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="problems"
    )
    title = models.CharField(max_length=300)
    statement = models.TextField()
    entry_point = models.CharField(
        max_length=100, blank=True, help_text="the function the tests call, e.g. is_palindrome"
    )
    signature = models.TextField(blank=True, help_text="optional, e.g. def is_palindrome(text: str) -> bool:")
    language = models.CharField(max_length=20, default="python")
    # The candidate a person accepted as the solution (its decision history is in CandidateDecision).
    solution = models.ForeignKey("CodeCandidate", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class CodingIteration(models.Model):
    """One round: K candidates and M tests from the model, then every candidate run against
    every test of the problem. `feedback` is what went into the prompt when regenerating."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        GENERATING = "generating"
        EXECUTING = "executing"
        READY = "ready"
        FAILED = "failed"

    OPEN = (Status.QUEUED, Status.GENERATING, Status.EXECUTING)

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="iterations")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    candidates_wanted = models.PositiveSmallIntegerField(default=4)
    tests_wanted = models.PositiveSmallIntegerField(default=4)
    critique = models.TextField(blank=True, help_text="the person's free-text critique, when regenerating")
    feedback = models.JSONField(
        default=dict, blank=True, help_text="what the prompt was given: failing tests, rejected tests and candidates"
    )
    model_version = models.ForeignKey("registry.ModelVersion", null=True, blank=True, on_delete=models.PROTECT)
    generation_settings = models.JSONField(default=dict, blank=True)
    run = models.PositiveIntegerField(default=0, help_text="the latest execution run of this iteration's candidates")
    error = models.TextField(blank=True)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    generation_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["problem_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["problem", "number"], name="coding_iteration_number_unique"),
            models.UniqueConstraint(
                fields=["problem"],
                condition=Q(status__in=["queued", "generating", "executing"]),
                name="one_open_coding_iteration_per_problem",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.problem} #{self.number}"


class Source(models.TextChoices):
    MODEL = "model"
    USER = "user"


class CodeCandidate(models.Model):
    iteration = models.ForeignKey(CodingIteration, on_delete=models.CASCADE, related_name="candidates")
    index = models.PositiveIntegerField()
    code = models.TextField()
    syntax_error = models.TextField(blank=True)
    score = models.FloatField(null=True, blank=True, help_text="the model's confidence in the sample, 0..1")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MODEL)
    normalized = models.CharField(max_length=64, help_text="hash of the code's normalised form, to find duplicates")

    class Meta:
        ordering = ["iteration_id", "index"]
        constraints = [models.UniqueConstraint(fields=["iteration", "index"], name="candidate_index_unique")]

    def __str__(self) -> str:
        return f"candidate {self.index} of {self.iteration}"


class CodeTest(models.Model):
    """One independent check: an assert statement or a small test function."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="tests")
    iteration = models.ForeignKey(
        CodingIteration, null=True, blank=True, on_delete=models.CASCADE, related_name="proposed_tests"
    )
    code = models.TextField()
    syntax_error = models.TextField(blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MODEL)
    replaces = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="edits",
        help_text="the test this one is an edited copy of",
    )
    normalized = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["problem_id", "id"]

    def __str__(self) -> str:
        return f"test {self.pk} of {self.problem}"


class Execution(models.Model):
    """A candidate run against a test, in the sandbox."""

    class Status(models.TextChoices):
        PASSED = "passed"
        FAILED = "failed"
        ERROR = "error"
        TIMEOUT = "timeout"

    candidate = models.ForeignKey(CodeCandidate, on_delete=models.CASCADE, related_name="executions")
    test = models.ForeignKey(CodeTest, on_delete=models.CASCADE, related_name="executions")
    run = models.PositiveIntegerField(help_text="1 for the first execution, then one more for each Run again")
    status = models.CharField(max_length=10, choices=Status.choices)
    output = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    duration_s = models.FloatField(default=0)
    isolation = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["candidate_id", "test_id", "run"]
        constraints = [models.UniqueConstraint(fields=["candidate", "test", "run"], name="one_execution_per_run")]


class Verdict(models.TextChoices):
    ACCEPT = "accept"
    REJECT = "reject"
    UNDECIDED = "undecided"


class CandidateDecision(models.Model):
    """A verdict on a candidate; accepting one as the solution is an accept. The latest is current."""

    candidate = models.ForeignKey(CodeCandidate, on_delete=models.CASCADE, related_name="decisions")
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)
    is_current = models.BooleanField(default=True)
    via = models.CharField(max_length=20, default="web")

    class Meta:
        ordering = ["candidate_id", "decided_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["candidate"], condition=Q(is_current=True), name="one_current_candidate_decision"
            )
        ]


class CodeTestDecision(models.Model):
    """A verdict on a test: accept (validated), reject (wrong), or reject via an edit that replaced it."""

    test = models.ForeignKey(CodeTest, on_delete=models.CASCADE, related_name="decisions")
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)
    is_current = models.BooleanField(default=True)
    via = models.CharField(max_length=20, default="web", help_text="web, api, edit")

    class Meta:
        ordering = ["test_id", "decided_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["test"], condition=Q(is_current=True), name="one_current_test_decision")
        ]
