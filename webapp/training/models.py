"""The retraining loop's rows (the versions themselves are in webapp.registry).

A run that succeeds makes a version (TrainingRun.version): its lineage is the run's base
version (the version's parent) and the run's snapshot. A DatasetSnapshot freezes exactly which
rows a run trains on (and a hash of them); its rows stay, so a run can always be traced to its
data. Nothing here is updated in place that a later reader needs: the loss curve is
TrainingPoint rows, evaluations are rows per (version, snapshot).
"""

from django.conf import settings
from django.db import models

from webapp.registry.models import ModelVersion


class DatasetSnapshot(models.Model):
    """The rows a run trains and is evaluated on, frozen when the snapshot is made."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sources = models.JSONField(default=list, help_text="dataset builders the rows came from")
    project = models.ForeignKey("accounts.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    since = models.DateTimeField(null=True, blank=True, help_text="only feedback given after this time")
    cutoff = models.DateTimeField(help_text="only feedback given up to this time")
    held_out_percent = models.PositiveSmallIntegerField(default=10)
    counts = models.JSONField(default=dict, help_text="rows per source and split")
    row_count = models.PositiveIntegerField(default=0)
    held_out_count = models.PositiveIntegerField(default=0)
    content_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"snapshot #{self.pk} ({self.row_count} rows)"

    @property
    def train_count(self) -> int:
        return self.row_count - self.held_out_count


class SnapshotRow(models.Model):
    """One training example: a prompt, the output people chose, and (for pairs) the one they turned down."""

    class Split(models.TextChoices):
        TRAIN = "train"
        HELD_OUT = "held_out", "held out"

    snapshot = models.ForeignKey(DatasetSnapshot, on_delete=models.CASCADE, related_name="rows")
    position = models.PositiveIntegerField()
    split = models.CharField(max_length=10, choices=Split.choices)
    source = models.CharField(max_length=40)
    prompt = models.TextField()
    chosen = models.TextField()
    rejected = models.TextField(blank=True, help_text="empty: a row for supervised fine-tuning only")
    meta = models.JSONField(default=dict, help_text="where the row came from (ids) and what replaying it needs")

    class Meta:
        ordering = ["snapshot_id", "position"]
        constraints = [models.UniqueConstraint(fields=["snapshot", "position"], name="snapshot_row_position_unique")]
        indexes = [models.Index(fields=["snapshot", "split", "position"])]

    def __str__(self) -> str:
        return f"{self.snapshot_id}:{self.position}"


class TrainingRun(models.Model):
    """One training job: a method, its settings, the snapshot and the version it starts from."""

    class Method(models.TextChoices):
        SFT = "sft", "SFT (supervised fine-tuning)"
        DPO = "dpo", "DPO (direct preference optimisation)"
        REWARD = "reward", "reward model (pairwise)"

    class Finetune(models.TextChoices):
        LORA = "lora", "LoRA adapter"
        FULL = "full", "full fine-tuning"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    OPEN = (Status.QUEUED, Status.RUNNING)

    method = models.CharField(max_length=10, choices=Method.choices)
    finetune = models.CharField(max_length=10, choices=Finetune.choices, default=Finetune.LORA)
    hyperparameters = models.JSONField(default=dict, help_text="every setting the trainer used")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    snapshot = models.ForeignKey(DatasetSnapshot, on_delete=models.PROTECT, related_name="runs")
    base_version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="runs")
    version = models.OneToOneField(
        ModelVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="training_run",
        help_text="the version the run made, once it succeeded",
    )
    project = models.ForeignKey("accounts.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    trigger = models.CharField(max_length=20, default="manual", help_text="manual, policy, api")
    promote_if_better = models.BooleanField(
        default=False, help_text="promote the new version if its evaluation beats the active one"
    )
    # The form carries this token: a double click (or a retried request) finds the run the first one made.
    request_token = models.UUIDField(null=True, blank=True, unique=True)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    step = models.PositiveIntegerField(default=0)
    total_steps = models.PositiveIntegerField(default=0)
    eta_seconds = models.FloatField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    log = models.TextField(blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    # The promotion gate's decision on the run's version (webapp.training.services.promotion_gate):
    # {"promote": bool, "why": str, "checks": [...]}; empty when the run did not ask for it.
    gate = models.JSONField(default=dict, blank=True)
    artifact_path = models.CharField(max_length=500, blank=True)
    device = models.CharField(max_length=40, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"run #{self.pk} ({self.method}, {self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        return min(100, round(100 * self.step / self.total_steps)) if self.total_steps else 0


class TrainingPoint(models.Model):
    """A value the trainer logged at a step: the loss curve and its companions."""

    run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE, related_name="points")
    step = models.PositiveIntegerField()
    name = models.CharField(max_length=80)
    value = models.FloatField()

    class Meta:
        ordering = ["run_id", "step", "name"]
        constraints = [models.UniqueConstraint(fields=["run", "name", "step"], name="training_point_unique")]


class Evaluation(models.Model):
    """A version measured on a snapshot's held-out rows."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="evaluations")
    snapshot = models.ForeignKey(DatasetSnapshot, on_delete=models.PROTECT, related_name="evaluations")
    metrics = models.JSONField(default=dict)
    samples = models.JSONField(default=list, help_text="the version's revisions of the first held-out sentences")
    row_costs = models.JSONField(
        default=list, blank=True, help_text="per held-out writing row, in order: the edit cost left (the gate's pairs)"
    )
    seconds = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "snapshot"], name="one_evaluation_per_version_snapshot")
        ]


class RetrainPolicy(models.Model):
    """A project's standing order: retrain after N new decisions, promote only if better."""

    project = models.OneToOneField("accounts.Project", on_delete=models.CASCADE, related_name="retrain_policy")
    enabled = models.BooleanField(default=False)
    after_decisions = models.PositiveIntegerField(default=200)
    method = models.CharField(max_length=10, choices=TrainingRun.Method.choices[:2], default=TrainingRun.Method.SFT)
    promote_if_better = models.BooleanField(default=True)
    decisions_at_last_run = models.PositiveIntegerField(default=0)
    last_run = models.ForeignKey(TrainingRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"retrain policy of {self.project}"
