"""Training runs: started from the web, carried out by a worker on the `gpu` queue, cancelled,
and caught when their worker dies.

A worker holds a Postgres advisory lock on the run for as long as it works on it. Its
connection closes when the process dies and Postgres frees the lock, so a run marked
"running" whose lock is free has lost its worker: pages show it as failed at once
(run_as_seen, a read), and the redelivered task or the sweep Celery beat runs every minute
records it, so it never stays "running" forever. The same lock keeps a second worker from
running a run twice; the lifecycle is the one every task shares (webapp.core.worker).

Locks, in this order and only in it (so that two writes never wait for each other in a
circle): a request token's advisory lock (REQUEST_LOCK, the only advisory lock waited for),
a project's retrain policy (webapp.training.policies), a run, its job. A write may skip a
level, never go back up one. The run's advisory lock (RUN_LOCK) is only ever tried, never
waited for; a new version is promoted (the registry's locks) holding none of these.
"""

import logging
import os
import shutil
import socket
import time
import uuid
import zlib
from dataclasses import fields
from pathlib import Path
from typing import Any, get_type_hints

from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from webapp.core.locks import advisory_lock, advisory_xact_lock
from webapp.core.queue import send_on_commit
from webapp.core.services import job_create, job_finish, job_progress, job_start
from webapp.core.worker import claimed_job_run
from webapp.registry.models import ModelVersion
from webapp.registry.services import model_version_active, model_version_promote
from webapp.training.errors import TrainingRequestError
from webapp.training.models import DatasetSnapshot, SnapshotRow, TrainingPoint, TrainingRun
from webapp.training.services import model_version_evaluate, promotion_gate
from webapp.training.snapshots import snapshot_create, snapshot_pairs

logger = logging.getLogger(__name__)

RUN_LOCK = "training.run"
REQUEST_LOCK = "training.request"
FLUSH_SECONDS = 1.0  # progress and loss points are written at most this often
CANCEL_CHECK_SECONDS = 1.0

# method -> (settings class, train function), imported on use: torch stays out of the web process.
TRAINERS = {
    TrainingRun.Method.SFT: ("inference.training.sft_config:SFTSettings", "inference.training.sft:train_sft"),
    TrainingRun.Method.DPO: ("inference.training.dpo_config:DPOSettings", "inference.training.dpo:train_dpo"),
    TrainingRun.Method.REWARD: (
        "inference.training.reward_config:RewardSettings",
        "inference.training.reward:train_reward",
    ),
}
NEEDS_PAIRS = (TrainingRun.Method.DPO, TrainingRun.Method.REWARD)


def _import(dotted: str) -> Any:
    from importlib import import_module

    module, name = dotted.split(":")
    return getattr(import_module(module), name)


def settings_class(method: str):
    if method not in TRAINERS:
        raise TrainingRequestError(f"Unknown method {method!r}; choose sft, dpo or reward.")
    return _import(TRAINERS[method][0])


def _setting_value(name: str, kind: Any, value: Any) -> Any:
    """`value` as the setting's type (an API client may send "8" or 2.5 for a whole number)."""
    wanted = next((t for t in (bool, int, float, str) if t is kind or t in getattr(kind, "__args__", ())), None)
    if wanted is bool and isinstance(value, bool):
        return value
    if wanted is int:
        try:
            number = float(value) if not isinstance(value, bool) else None
            if number is not None and number == int(number):
                return int(number)
        except (TypeError, ValueError, OverflowError):
            pass
        raise TrainingRequestError(f"The setting {name} must be a whole number, not {value!r}.")
    if wanted is float:
        try:
            if not isinstance(value, bool):
                return float(value)
        except (TypeError, ValueError):
            pass
        raise TrainingRequestError(f"The setting {name} must be a number, not {value!r}.")
    if wanted is str and isinstance(value, str):
        return value
    raise TrainingRequestError(f"The setting {name} cannot be {value!r}.")


def settings_resolve(method: str, finetune: str, overrides: dict | None = None):
    """The method's settings dataclass with the admin's overrides, each converted to its type
    (unknown settings or bad values are a TrainingRequestError saying which)."""
    cls = settings_class(method)
    types = get_type_hints(cls)
    known = {f.name for f in fields(cls)} - {"finetune"}
    values = {k: v for k, v in (overrides or {}).items() if v is not None and v != ""}
    unknown = sorted(set(values) - known)
    if unknown:
        raise TrainingRequestError(f"Unknown setting {unknown[0]!r} for {method}.")
    values = {k: _setting_value(k, types[k], v) for k, v in values.items()}
    try:
        return cls(finetune=finetune, **values)
    except (TypeError, ValueError) as exc:
        raise TrainingRequestError(str(exc)) from None


def model_dir() -> Path:
    return Path(settings.REDLINE_MODEL_DIR)


@transaction.atomic
def training_run_start(
    *,
    user,
    method: str,
    finetune: str = TrainingRun.Finetune.LORA,
    settings_overrides: dict | None = None,
    base_version: ModelVersion | None = None,
    snapshot: DatasetSnapshot | None = None,
    sources: list[str] | None = None,
    project=None,
    since=None,
    held_out_percent: int = 10,
    promote_if_better: bool = False,
    request_token: uuid.UUID | None = None,
    trigger: str = "manual",
) -> TrainingRun:
    """Freeze a snapshot (unless one is given) and queue a run on it; the task is sent on commit.
    The same request_token gives back the run it started the first time (a double click):
    requests with one token wait for each other, so the second finds the first one's run."""
    if request_token is not None:
        advisory_xact_lock(REQUEST_LOCK, zlib.crc32(request_token.bytes) & 0x7FFFFFFF)
        existing = TrainingRun.objects.filter(request_token=request_token).first()
        if existing is not None:
            return existing
    resolved = settings_resolve(method, finetune, settings_overrides)
    base_version = base_version or model_version_active()
    if base_version.kind not in ModelVersion.PROPOSING:
        raise TrainingRequestError(
            "Training starts from an editor or a coder; a reward model cannot be a starting point."
        )
    if snapshot is None:
        snapshot = snapshot_create(
            user=user, sources=sources or ["writing"], project=project, since=since, held_out_percent=held_out_percent
        )
    if method in NEEDS_PAIRS:
        pairs = snapshot_pairs(snapshot).filter(split=SnapshotRow.Split.TRAIN).count()
        if not pairs:
            raise TrainingRequestError(
                f"{TrainingRun.Method(method).label} needs pairs (a chosen and a rejected output), and this "
                "snapshot's training rows have none: nothing was rejected yet. Use SFT, or wait for rejections."
            )
    job = job_create(kind="training", user=user, message="Waiting for a worker on the gpu queue")
    run = TrainingRun.objects.create(
        method=method,
        finetune=finetune,
        hyperparameters=resolved.as_dict(),
        snapshot=snapshot,
        base_version=base_version,
        project=project or snapshot.project,
        trigger=trigger,
        promote_if_better=promote_if_better,
        request_token=request_token,
        job=job,
        created_by=user,
    )
    from webapp.training.tasks import train_run

    send_on_commit(train_run, run.pk)
    return run


@transaction.atomic
def training_run_cancel(*, run: TrainingRun, user) -> TrainingRun:
    """A queued run is cancelled at once; a running one stops at its next step (its worker
    checks every second) and keeps no artifact."""
    run = TrainingRun.objects.select_for_update().get(pk=run.pk)
    who = user.get_username() if user is not None else "the system"
    if run.status == TrainingRun.Status.QUEUED:
        _run_close(run, TrainingRun.Status.CANCELLED, message=f"Cancelled by {who} before it started")
    elif run.status == TrainingRun.Status.RUNNING:
        run.cancel_requested = True
        run.save(update_fields=["cancel_requested"])
        _log(run.pk, f"cancel requested by {who}")
    else:
        raise TrainingRequestError(f"This run has {run.status}; there is nothing to cancel.")
    return run


def _run_close(run: TrainingRun, status: str, *, error: str = "", message: str = "") -> None:
    """Finish the run and its job. Call inside a transaction holding the run row."""
    TrainingRun.objects.filter(pk=run.pk).update(
        status=status, error=error, finished_at=timezone.now(), eta_seconds=None
    )
    run.status, run.error = status, error
    _log(run.pk, error or message or status)
    if run.job_id:
        job_finish(
            job_id=run.job_id,
            error=error or (message if status == TrainingRun.Status.CANCELLED else ""),
            message=message,
        )


def _log(run_id: int, line: str) -> None:
    stamp = timezone.now().strftime("%H:%M:%S")
    TrainingRun.objects.filter(pk=run_id).update(log=Concat(F("log"), Value(f"{stamp} {line}\n")))


def _abandoned_message(run: TrainingRun) -> str:
    return (
        f"The worker running this run stopped (killed or crashed) at step {run.step} of {run.total_steps}. "
        "Nothing was promoted and the snapshot is intact; start a new run."
    )


def run_abandoned(run: TrainingRun) -> bool:
    """Marked running, but no worker holds its lock: the worker that ran it is gone."""
    if run.status != TrainingRun.Status.RUNNING:
        return False
    with advisory_lock(RUN_LOCK, run.pk) as free:
        return free


def run_as_seen(run: TrainingRun) -> TrainingRun:
    """The run as it stands, without writing: one whose worker is gone reads as failed, with
    the reason, until the sweep (training_runs_fail_abandoned) records it."""
    if run_abandoned(run):
        run.status, run.error = TrainingRun.Status.FAILED, _abandoned_message(run)
    return run


def training_runs_fail_abandoned() -> int:
    """Mark failed every run still marked running whose worker is gone (its lock is free).
    Returns how many. Run by Celery beat every minute and by a worker when it starts
    (training.tasks); the pages read runs through run_as_seen instead of writing."""
    failed = 0
    for run in TrainingRun.objects.filter(status=TrainingRun.Status.RUNNING):
        with advisory_lock(RUN_LOCK, run.pk) as free:
            if free:
                with transaction.atomic():
                    locked = (
                        TrainingRun.objects.select_for_update()
                        .filter(pk=run.pk, status=TrainingRun.Status.RUNNING)
                        .first()
                    )
                    if locked is not None:
                        _run_close(locked, TrainingRun.Status.FAILED, error=_abandoned_message(locked))
                        failed += 1
    return failed


@transaction.atomic
def _run_claim(run_id: int) -> TrainingRun | None:
    """Mark the run as running. Call while holding its advisory lock: a run already marked
    running was then left by a worker that died, and is marked failed instead."""
    run = TrainingRun.objects.select_for_update().filter(pk=run_id).select_related("snapshot", "base_version").first()
    if run is None or run.status not in TrainingRun.OPEN:
        return None
    if run.status == TrainingRun.Status.RUNNING:
        _run_close(run, TrainingRun.Status.FAILED, error=_abandoned_message(run))
        return None
    if run.cancel_requested:
        _run_close(run, TrainingRun.Status.CANCELLED, message="Cancelled before it started")
        return None
    now = timezone.now()
    run.status, run.started_at, run.heartbeat_at = TrainingRun.Status.RUNNING, now, now
    run.worker = f"{socket.gethostname()}:{os.getpid()}"
    run.save(update_fields=["status", "started_at", "heartbeat_at", "worker"])
    if run.job_id:
        job_start(job_id=run.job_id, message="Loading the model")
    return run


class _Reporter:
    """The trainer's progress, written to the run (step, ETA, heartbeat), its job and its loss
    curve at most once a second; and the cancel flag, read at most once a second."""

    SKIPPED = {"step", "total", "epoch", "elapsed_s", "eta_s"}

    def __init__(self, run: TrainingRun):
        self.run_id, self.job_id = run.pk, run.job_id
        self.points: list[TrainingPoint] = []
        self.last: dict = {}
        self.flushed_at = 0.0
        self.checked_at = 0.0
        self.cancelled = False

    def on_progress(self, record: dict) -> None:
        step = int(record.get("step", 0))
        for name, value in record.items():
            if name not in self.SKIPPED and isinstance(value, (int, float)) and value == value:  # not NaN
                self.points.append(TrainingPoint(run_id=self.run_id, step=step, name=name, value=float(value)))
        self.last = record
        if time.monotonic() - self.flushed_at >= FLUSH_SECONDS or step >= record.get("total", 0):
            self.flush()

    def flush(self) -> None:
        self.flushed_at = time.monotonic()
        if self.points:
            TrainingPoint.objects.bulk_create(self.points, ignore_conflicts=True)
            self.points = []
        if not self.last:
            return
        step, total, eta = int(self.last.get("step", 0)), int(self.last.get("total", 0)), self.last.get("eta_s")
        TrainingRun.objects.filter(pk=self.run_id).update(
            step=step, total_steps=total, eta_seconds=eta, heartbeat_at=timezone.now()
        )
        if self.job_id:
            loss = self.last.get("loss")
            text = f"Step {step} of {total}" + (f", loss {loss:.4f}" if isinstance(loss, float) else "")
            if eta is not None:
                text += f", about {_duration(eta)} left"
            job_progress(job_id=self.job_id, done=step, total=total, message=text)

    def should_stop(self) -> bool:
        if not self.cancelled and time.monotonic() - self.checked_at >= CANCEL_CHECK_SECONDS:
            self.checked_at = time.monotonic()
            self.cancelled = TrainingRun.objects.filter(pk=self.run_id, cancel_requested=True).exists()
        return self.cancelled


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def failure_reason(exc: BaseException) -> str:
    """What the admin reads on a failed run."""
    from inference.training.common import TrainingError

    text = str(exc).strip() or exc.__class__.__name__
    if isinstance(exc, TrainingError):  # already written for the admin (out of memory included)
        return text
    if "out of memory" in text.lower() or exc.__class__.__name__ == "OutOfMemoryError":
        return f"Out of memory: {text.splitlines()[0]}. Lower the batch size or the maximum length, or use LoRA."
    if exc.__class__.__name__ == "SoftTimeLimitExceeded":
        return "The run took longer than the training time limit (REDLINE_TRAINING_SOFT_TIME_LIMIT) and was stopped."
    return f"{exc.__class__.__name__}: {text.splitlines()[0]}"


def training_run_execute(*, run_id: int) -> None:
    """Carry out a queued run (worker side): train, register the new version, evaluate it and,
    if the run asks, promote it when it beats the active version. Idempotent: a run another
    live worker holds, or one that is finished, is left alone."""
    from inference.training.common import TrainingCancelled

    def fail(run: TrainingRun, exc: Exception) -> None:
        shutil.rmtree(_run_dir(run), ignore_errors=True)
        with transaction.atomic():
            if isinstance(exc, TrainingCancelled):
                _run_close(run, TrainingRun.Status.CANCELLED, message="Cancelled; no version was made")
            else:
                _run_close(run, TrainingRun.Status.FAILED, error=failure_reason(exc))

    def store(run: TrainingRun, result) -> None:
        _evaluate_and_maybe_promote(run, _version_register(run, result))

    claimed_job_run(
        lock=RUN_LOCK,
        key=run_id,
        claim=_run_claim,
        work=lambda run: _train(run, _run_dir(run)),
        fail=fail,
        store=store,
        expected=lambda exc: isinstance(exc, TrainingCancelled),
    )


def _run_dir(run: TrainingRun) -> Path:
    return model_dir() / "runs" / f"run-{run.pk}"


def _train(run: TrainingRun, out_dir: Path):
    from inference.training.common import ModelRef, PreferenceRow, training_device

    rows = [
        PreferenceRow(r.prompt, r.chosen, r.rejected)
        for r in SnapshotRow.objects.filter(snapshot=run.snapshot, split=SnapshotRow.Split.TRAIN).order_by("position")
    ]
    device, precision = training_device()
    TrainingRun.objects.filter(pk=run.pk).update(device=f"{device} {precision}")
    _log(
        run.pk,
        f"{run.method} ({run.finetune}) on {len(rows)} rows of snapshot #{run.snapshot_id}, "
        f"from {run.base_version.name}, on {device} {precision}",
    )
    settings_obj = settings_resolve(
        run.method, run.finetune, {k: v for k, v in run.hyperparameters.items() if k != "finetune"}
    )
    anchors = _anchor_rows(run, settings_obj, len(rows))
    if anchors:
        rows += anchors
        _log(run.pk, f"with {len(anchors)} rows of general English mixed in (anchor_share {settings_obj.anchor_share})")
    train = _import(TRAINERS[run.method][1])
    reporter = _Reporter(run)
    base = ModelRef(run.base_version.base_model, run.base_version.adapter_path or None)
    if out_dir.exists():
        shutil.rmtree(out_dir)  # left by an earlier attempt at this run
    result = train(
        base, rows, str(out_dir), settings_obj, on_progress=reporter.on_progress, should_stop=reporter.should_stop
    )
    reporter.flush()
    return result


def _anchor_rows(run: TrainingRun, settings_obj, feedback_rows: int) -> list:
    """General-English rows for an editor's SFT or DPO run (inference.training.anchors)."""
    if run.base_version.kind != ModelVersion.Kind.EDITOR or run.method == TrainingRun.Method.REWARD:
        return []
    from inference.instructions import DEFAULT_INSTRUCTION, INSTRUCTIONS
    from inference.training.anchors import anchor_rows

    count = round(settings_obj.anchor_share * feedback_rows)
    return anchor_rows(count, INSTRUCTIONS[DEFAULT_INSTRUCTION].prompt, settings_obj.seed)


@transaction.atomic
def _version_register(run: TrainingRun, result) -> ModelVersion:
    kind = ModelVersion.Kind.REWARD if run.method == TrainingRun.Method.REWARD else run.base_version.kind
    version = ModelVersion.objects.create(
        name=f"run {run.pk}: {run.method.upper()} ({run.finetune}) on {run.base_version.name}"[:200],
        kind=kind,
        base_model=result.model_ref.base_model,
        adapter_path=result.model_ref.adapter_path or "",
        parent=run.base_version,
        created_by=run.created_by,
    )
    TrainingRun.objects.filter(pk=run.pk).update(
        artifact_path=str(result.out_dir), metrics=result.metrics, version=version
    )
    run.version = version
    _log(run.pk, f"saved {result.artifact} to {result.out_dir} as version {version.name!r}")
    if run.job_id:
        job_progress(
            job_id=run.job_id,
            done=run.total_steps or result.steps,
            total=run.total_steps or result.steps,
            message="Evaluating on the held-out rows",
        )
    return version


def _evaluate_and_maybe_promote(run: TrainingRun, version: ModelVersion) -> None:
    """Evaluate the new version (and its parent, for comparison) on the held-out rows, close the
    run, and promote the version if the run asks for it and it beats the active version."""
    snapshot = run.snapshot
    message = "no held-out rows to evaluate on"
    try:
        if snapshot.held_out_count:
            new = model_version_evaluate(version=version, snapshot=snapshot)
            message = f"evaluated on {snapshot.held_out_count} held-out rows: {_summary(new.metrics)}"
            if run.promote_if_better and version.kind in ModelVersion.PROPOSING:
                message += "; " + _promote_if_better(run, version, new)
    except Exception as exc:
        logger.exception("evaluating version %s failed", version.pk)
        message = f"the new version was saved, but its evaluation failed: {failure_reason(exc)}"
    with transaction.atomic():
        locked = TrainingRun.objects.select_for_update().get(pk=run.pk)
        _run_close(locked, TrainingRun.Status.SUCCEEDED, message=f"Version {version.name!r}: {message}")


def _promote_if_better(run: TrainingRun, version: ModelVersion, new) -> str:
    """The promotion gate decides (services.promotion_gate); its decision stays on the run."""
    active = model_version_active(version.kind)
    old = active.evaluations.filter(snapshot=run.snapshot).first()
    if old is None or (version.kind == ModelVersion.Kind.EDITOR and "everyday_harm" not in old.metrics):
        old = model_version_evaluate(version=active, snapshot=run.snapshot)  # none yet, or from before the gate
    decision = promotion_gate(new, old)
    TrainingRun.objects.filter(pk=run.pk).update(gate=decision.as_dict())
    if decision.promote:
        model_version_promote(version=version, user=None, reason=f"run {run.pk} ({run.trigger}): {decision.why}")
        return f"promoted: {decision.why}"
    return f"not promoted: {decision.why}"


def _summary(metrics: dict) -> str:
    shown = [
        (k, metrics.get(k))
        for k in (
            "final_edit_cost_reduction",
            "everyday_harm",
            "everyday_untouched",
            "preference_accuracy",
            "reward_accuracy",
        )
    ]
    return ", ".join(f"{k.replace('_', ' ')} {v:.3f}" for k, v in shown if isinstance(v, (int, float))) or "no figures"
