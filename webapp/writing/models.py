"""The writing loop's rows. Nothing here is updated in place that a later reader needs:
iterations, proposals and decisions stay, and a changed decision is a new row."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Intent(models.TextChoices):
    CLARITY = "clarity"
    FLUENCY = "fluency"
    COHERENCE = "coherence"
    STYLE = "style"
    MEANING_CHANGED = "meaning-changed"


class Document(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="documents")
    project = models.ForeignKey(
        "accounts.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="documents"
    )
    title = models.CharField(max_length=300)
    original_text = models.TextField()
    max_depth = models.PositiveSmallIntegerField(default=5)
    created_at = models.DateTimeField(auto_now_add=True)
    # The head of the chain: the text after the last applied iteration (original_text before any).
    # Derivable from the iterations; kept here so that lists and locks need one row.
    current_text = models.TextField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class Iteration(models.Model):
    """One round: the model's revision of text_before (source=model) or the writer's own edit
    (source=writer). text_after is set when the writer's decisions are applied."""

    class Source(models.TextChoices):
        MODEL = "model"
        WRITER = "writer"

    class Status(models.TextChoices):
        QUEUED = "queued"
        GENERATING = "generating"
        REVIEW = "review"
        APPLIED = "applied"
        FAILED = "failed"

    OPEN = (Status.QUEUED, Status.GENERATING, Status.REVIEW)

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="iterations")
    number = models.PositiveIntegerField(help_text="1, 2, 3... over all iterations of the document")
    depth = models.PositiveSmallIntegerField(help_text="R3 revision depth: model rounds so far, this one included")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MODEL)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    instruction = models.CharField(max_length=40, blank=True, help_text="key from inference.instructions")
    instruction_text = models.TextField(blank=True, help_text="the prompt given to the model")
    text_before = models.TextField()
    model_output = models.TextField(null=True, blank=True)
    text_after = models.TextField(null=True, blank=True)
    model_version = models.ForeignKey("registry.ModelVersion", null=True, blank=True, on_delete=models.PROTECT)
    generation_settings = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    generation_started_at = models.DateTimeField(null=True, blank=True)
    generation_finished_at = models.DateTimeField(null=True, blank=True)
    generation_seconds = models.FloatField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["document_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="iteration_number_unique"),
            # At most one open round per document: a double click cannot start two.
            models.UniqueConstraint(
                fields=["document"],
                condition=Q(status__in=["queued", "generating", "review"]),
                name="one_open_iteration_per_document",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document} #{self.number}"


class EditProposal(models.Model):
    """One edit action on the iteration's text_before, in R3's terms."""

    class Type(models.TextChoices):
        ADD = "A", "add"
        REPLACE = "R", "replace"
        DELETE = "D", "delete"

    iteration = models.ForeignKey(Iteration, on_delete=models.CASCADE, related_name="proposals")
    index = models.PositiveIntegerField()
    action = models.CharField(max_length=1, choices=Type.choices)
    start_char = models.PositiveIntegerField()
    end_char = models.PositiveIntegerField()
    before = models.TextField(blank=True)
    after = models.TextField(blank=True)
    intent = models.CharField(max_length=20, choices=Intent.choices)
    score = models.FloatField(null=True, blank=True, help_text="model confidence in the sentence's revision, 0..1")

    class Meta:
        ordering = ["iteration_id", "index"]
        constraints = [
            models.UniqueConstraint(fields=["iteration", "index"], name="proposal_index_unique"),
            models.CheckConstraint(condition=Q(end_char__gte=models.F("start_char")), name="proposal_span_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.before!r}->{self.after!r}"


class Decision(models.Model):
    """A writer's verdict on a proposal. Changing it adds a row; the latest is current."""

    class Verdict(models.TextChoices):
        ACCEPT = "accept"
        REJECT = "reject"
        UNDECIDED = "undecided"

    proposal = models.ForeignKey(EditProposal, on_delete=models.CASCADE, related_name="decisions")
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)
    is_current = models.BooleanField(default=True)
    via = models.CharField(max_length=20, default="web", help_text="web, api, import, undo")
    # Decisions made by one action (accept all) share a batch, so that undo reverts them together.
    batch = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["proposal_id", "decided_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal"], condition=Q(is_current=True), name="one_current_decision_per_proposal"
            )
        ]
        indexes = [models.Index(fields=["decided_by", "decided_at"])]

    def __str__(self) -> str:
        return f"{self.verdict} on {self.proposal_id}"
