"""What the SFT, DPO and reward trainers share: model versions, rows, errors, settings, the device,
progress, loading a model for training, and laying rows out exactly as generation prompts the model.

Light at import: torch, transformers, trl, peft and datasets are imported inside the functions that
use them, so the web process can import the settings dataclasses without loading them.
"""

import contextlib
import gc
import json
import math
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable, Iterator, Mapping

from inference.editor import format_causal_prompt

if TYPE_CHECKING:
    from datasets import Dataset
    from transformers import (
        PreTrainedModel,
        PreTrainedTokenizerBase,
        Trainer,
        TrainerCallback,
    )

CARD_NAME = "redline_training.json"
FINETUNE_MODES = ("lora", "full")

ProgressFn = Callable[[dict[str, Any]], None]
StopFn = Callable[[], bool]


@dataclass(frozen=True)
class ModelRef:
    """A model version: a base model (Hugging Face id or local directory) and an optional LoRA adapter directory."""

    base_model: str
    adapter_path: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PreferenceRow:
    """A prompt ("<instruction>: <sentence>", see inference.revision.model_input), the output people
    chose and, optionally, the one they rejected. An empty `rejected` makes an SFT-only row."""

    prompt: str
    chosen: str
    rejected: str = ""

    @property
    def is_pair(self) -> bool:
        """True when the row can teach a preference: a rejected side that differs from the chosen one."""
        return bool(self.rejected.strip()) and self.rejected != self.chosen


def as_rows(rows: Iterable[Any]) -> list[PreferenceRow]:
    """PreferenceRows from PreferenceRows, other objects with prompt/chosen/rejected attributes, or
    dicts with those keys; a missing or None rejected side is empty."""
    out = []
    for i, row in enumerate(rows):
        get = row.get if isinstance(row, Mapping) else lambda name, row=row: getattr(row, name, None)
        prompt, chosen, rejected = get("prompt"), get("chosen"), get("rejected")
        if prompt is None or chosen is None:
            raise TrainingError(f"Row {i} of the dataset has no prompt or no chosen output.")
        if not str(prompt).strip():
            raise TrainingError(f"Row {i} of the dataset has an empty prompt.")
        out.append(PreferenceRow(str(prompt), str(chosen), str(rejected or "")))
    return out


class TrainingError(RuntimeError):
    """Training could not run or finish; the message is written for the admin who started it."""


class TrainingCancelled(TrainingError):
    """Someone asked the run to stop; nothing was saved."""


@dataclass(frozen=True)
class TrainSettings:
    """Settings shared by the three methods; each `<method>_config.py` subclasses it.

    `learning_rate=None` takes the method's default for the chosen `finetune` mode
    (DEFAULT_LEARNING_RATES); the resolved value is what `as_dict()` records.
    """

    DEFAULT_LEARNING_RATES: ClassVar[dict[str, float]] = {"lora": 2e-4, "full": 2e-5}

    finetune: str = "lora"  # "lora": train a LoRA adapter; "full": train every weight
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.0
    learning_rate: float | None = None
    num_epochs: float = 1
    max_steps: int = -1  # > 0: stop after this many optimizer steps, whatever num_epochs says
    batch_size: int = 8
    gradient_accumulation_steps: int = 1
    max_length: int = 512  # tokens of prompt + completion
    seed: int = 0
    warmup_ratio: float = 0.0
    weight_decay: float = 0.0
    # Recompute activations in the backward pass: less memory for big models, about 20-30% slower.
    gradient_checkpointing: bool = False
    # Rows of general English mixed in per feedback row when the product retrains an editor on
    # writers' decisions (inference.training.anchors; webapp.training.runs adds them): rehearsal
    # that keeps a small editor from drifting on prose nobody decided on. 0: none.
    anchor_share: float = 3.0  # measured on the flywheel: 1 let the everyday harm rise, 3 did not

    def __post_init__(self) -> None:
        problems = []
        if self.finetune not in FINETUNE_MODES:
            problems.append(f"finetune must be one of {', '.join(FINETUNE_MODES)}, not {self.finetune!r}")
        if self.lora_r < 1 or self.lora_alpha <= 0:
            problems.append("lora_r must be at least 1 and lora_alpha above 0")
        if not 0 <= self.lora_dropout < 1:
            problems.append("lora_dropout must be at least 0 and below 1")
        if self.learning_rate is not None and not (0 < self.learning_rate < 1):
            problems.append("learning_rate must be above 0 and below 1")
        if self.num_epochs <= 0:
            problems.append("num_epochs must be above 0")
        if self.max_steps != -1 and self.max_steps < 1:
            problems.append("max_steps must be -1 (train for num_epochs) or at least 1")
        if self.batch_size < 1 or self.gradient_accumulation_steps < 1:
            problems.append("batch_size and gradient_accumulation_steps must be at least 1")
        if self.max_length < 8:
            problems.append("max_length must be at least 8 tokens")
        if self.seed < 0:
            problems.append("seed must be 0 or more")
        if not 0 <= self.warmup_ratio < 1:
            problems.append("warmup_ratio must be at least 0 and below 1")
        if self.weight_decay < 0:
            problems.append("weight_decay must be 0 or more")
        if not 0 <= self.anchor_share <= 10:
            problems.append("anchor_share must be from 0 to 10 rows per feedback row")
        problems += self._method_problems()
        if problems:
            raise ValueError("; ".join(problems))
        if self.learning_rate is None:
            object.__setattr__(self, "learning_rate", self.DEFAULT_LEARNING_RATES[self.finetune])

    def _method_problems(self) -> list[str]:
        """Checks of a subclass's own fields."""
        return []

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able values: exactly what the run used."""
        return asdict(self)


@dataclass
class TrainResult:
    out_dir: str
    artifact: str  # "adapter" (a LoRA adapter for model_ref.base_model) or "full" (a whole model)
    model_ref: ModelRef  # the new model version
    steps: int
    examples: int  # rows trained on (pairs for DPO and the reward model)
    metrics: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    precision: str = "fp32"


# Device -------------------------------------------------------------------------------------------


def training_device() -> tuple[str, str]:
    """("cuda", "bf16") on a GPU that supports bfloat16, ("cuda", "fp16" or "fp32") on an older one,
    ("cpu", "fp32") elsewhere. The precision is mixed precision: the weights being trained stay fp32."""
    import torch

    if torch.cuda.is_available():
        if torch.cuda.is_bf16_supported():
            return "cuda", "bf16"
        major, _ = torch.cuda.get_device_capability()
        return "cuda", "fp16" if major >= 7 else "fp32"
    return "cpu", "fp32"


def trainer_arguments(settings: TrainSettings, output_dir: str, device: str, precision: str) -> dict[str, Any]:
    """Keyword arguments shared by SFTConfig, DPOConfig and RewardConfig.

    Set explicitly where TRL's defaults would surprise: TRL turns bf16 and gradient checkpointing
    on by default (bf16 autocast on a CPU is slow), logs every 10 steps and saves checkpoints."""
    return dict(
        output_dir=output_dir,
        per_device_train_batch_size=settings.batch_size,
        gradient_accumulation_steps=settings.gradient_accumulation_steps,
        learning_rate=settings.learning_rate,
        num_train_epochs=settings.num_epochs,
        max_steps=settings.max_steps,
        warmup_steps=settings.warmup_ratio,  # a float below 1 is a share of the steps
        weight_decay=settings.weight_decay,
        lr_scheduler_type="linear",
        seed=settings.seed,
        data_seed=settings.seed,
        max_length=settings.max_length,
        activation_checkpointing=settings.gradient_checkpointing,  # transformers 5's name for it
        use_cpu=device == "cpu",
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        logging_strategy="steps",
        logging_steps=1,  # a loss curve even for a run of a few steps
        save_strategy="no",
        eval_strategy="no",
        report_to="none",
        disable_tqdm=True,
        dataloader_pin_memory=device == "cuda",
    )


# Progress and cancellation ------------------------------------------------------------------------


class RunMonitor:
    """Turns the trainer's per-step logs into progress records and asks `should_stop` after every step.

    A record: step, total (the run's optimizer steps), loss, learning_rate, epoch, elapsed_s,
    eta_s and every other scalar the trainer logged (DPO's rewards/accuracies, rewards/margins...)."""

    def __init__(self, on_progress: ProgressFn | None = None, should_stop: StopFn | None = None) -> None:
        self.on_progress = on_progress
        self.should_stop = should_stop
        self.records: list[dict[str, Any]] = []
        self.cancelled = False
        self._started = time.perf_counter()

    def train_begin(self) -> None:
        self._started = time.perf_counter()

    def step_end(self) -> bool:
        """True when the run must stop."""
        if self.should_stop is not None and not self.cancelled and self.should_stop():
            self.cancelled = True
        return self.cancelled

    def log(self, step: int, total: int, logs: Mapping[str, Any]) -> None:
        if "train_runtime" in logs:  # the summary logged once training ends, not a step
            return
        elapsed = time.perf_counter() - self._started
        record: dict[str, Any] = {
            key: float(value)
            for key, value in logs.items()
            if isinstance(value, (int, float)) and not isinstance(value, bool)
        }
        record.update(
            step=step,
            total=total,
            elapsed_s=round(elapsed, 3),
            eta_s=round(elapsed / step * max(total - step, 0), 3) if step > 0 else None,
        )
        self.records.append(record)
        if self.on_progress is not None:
            self.on_progress(record)

    def callback(self) -> "TrainerCallback":
        """A transformers TrainerCallback that reports to this monitor."""
        from transformers import TrainerCallback

        monitor = self

        class _Callback(TrainerCallback):
            def on_train_begin(self, args, state, control, **kwargs):
                monitor.train_begin()

            def on_step_end(self, args, state, control, **kwargs):
                if monitor.step_end():
                    control.should_training_stop = True

            def on_log(self, args, state, control, logs=None, **kwargs):
                monitor.log(state.global_step, state.max_steps, logs or {})

        return _Callback()


# Loading ------------------------------------------------------------------------------------------


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _load_error(what: str, name: str, exc: BaseException) -> TrainingError:
    looks_local = name.startswith(("/", ".", "~")) or name.count("/") > 1
    if looks_local and not Path(name).expanduser().exists():
        return TrainingError(f"Could not load {what} {name!r}: no such local directory.")
    return TrainingError(f"Could not load {what} {name!r}: {_first_line(exc)}")


def check_causal(ref: ModelRef) -> None:
    """Refuse, before any work, a model that TRL's trainers cannot train."""
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(ref.base_model)
    except Exception as exc:
        raise _load_error("model", ref.base_model, exc) from exc
    if getattr(config, "is_encoder_decoder", False):
        raise TrainingError(
            f"{ref.base_model!r} is an encoder-decoder model; TRL's SFT/DPO/reward trainers train causal language "
            "models (decoder-only, e.g. Llama, Qwen, the built-in Redline editor). Retrain a causal model instead."
        )
    if ref.adapter_path is not None and not Path(ref.adapter_path).expanduser().is_dir():
        raise TrainingError(f"Could not load adapter {ref.adapter_path!r}: no such local directory.")


def load_tokenizer(ref: ModelRef) -> "PreTrainedTokenizerBase":
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(ref.base_model)
    except Exception as exc:
        raise _load_error("the tokenizer of", ref.base_model, exc) from exc
    if tokenizer.pad_token is None:  # as load_editor and TRL do
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _adapter_task(adapter_path: str) -> str | None:
    try:
        return json.loads((Path(adapter_path) / "adapter_config.json").read_text()).get("task_type")
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Loading a causal checkpoint as a sequence classifier reports the new score head and the unused
    LM head; both are expected."""
    from transformers.utils import logging

    level = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        yield
    finally:
        logging.set_verbosity(level)


def load_model(
    ref: ModelRef,
    *,
    task: str = "causal",
    finetune: str | None = None,
    dtype: Any = None,
    pad_token_id: int | None = None,
) -> "PreTrainedModel":
    """The model of `ref` for training (`finetune` "lora" or "full") or for evaluation (None).

    task "causal": AutoModelForCausalLM; "reward": AutoModelForSequenceClassification, one label.
    With an adapter: LoRA training continues that adapter; full fine-tuning merges it into the weights
    first; evaluation applies it as is. A reward model trained with LoRA starts from the base alone
    (a language-model adapter has no reward head), unless the adapter is itself a reward adapter.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    dtype = dtype or torch.float32
    try:
        if task == "reward":
            with _quiet_transformers():
                model = AutoModelForSequenceClassification.from_pretrained(ref.base_model, num_labels=1, dtype=dtype)
            if pad_token_id is not None:  # the classifier reads the score at the last non-pad token
                model.config.pad_token_id = pad_token_id
        else:
            model = AutoModelForCausalLM.from_pretrained(ref.base_model, dtype=dtype)
    except ValueError as exc:
        if "Unrecognized configuration class" in str(exc):
            head = "a sequence-classification" if task == "reward" else "a causal language-model"
            message = f"{ref.base_model!r} has no {head} head in transformers; it cannot be trained here."
            raise TrainingError(message) from exc
        raise _load_error("model", ref.base_model, exc) from exc
    except Exception as exc:
        raise _load_error("model", ref.base_model, exc) from exc
    if ref.adapter_path is None:
        return model

    from peft import PeftModel

    adapter_task = _adapter_task(ref.adapter_path)
    if task == "reward" and finetune == "lora" and adapter_task != "SEQ_CLS":
        raise TrainingError(
            f"A LoRA reward model starts from the base model alone, and {ref.adapter_path!r} is a language-model "
            "adapter without a reward head. Train the reward model from the base model, or use full fine-tuning "
            "to start from the base with this adapter merged in."
        )
    try:
        model = PeftModel.from_pretrained(model, ref.adapter_path, is_trainable=finetune == "lora")
    except Exception as exc:
        raise TrainingError(
            f"Could not load adapter {ref.adapter_path!r} onto {ref.base_model!r}: {_first_line(exc)}"
        ) from exc
    if finetune == "full":
        # PEFT froze the base weights when it loaded the adapter; full fine-tuning trains them all.
        model = model.merge_and_unload().requires_grad_(True)
    return model


def lora_config(model: "PreTrainedModel", settings: TrainSettings, task_type: str = "CAUSAL_LM") -> Any:
    """LoRA on PEFT's default modules for known architectures (q_proj and v_proj for Llama), else
    on every linear layer but the output head."""
    from peft import LoraConfig
    from peft.utils.constants import (
        TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING as KNOWN,
    )

    known = model.config.model_type in KNOWN
    return LoraConfig(
        r=settings.lora_r,
        lora_alpha=settings.lora_alpha,
        lora_dropout=settings.lora_dropout,
        target_modules=None if known else "all-linear",
        task_type=task_type,
    )


def model_dtype(finetune: str, precision: str) -> Any:
    """LoRA keeps the frozen base in the GPU's half precision (the adapter trains in fp32); full
    fine-tuning keeps fp32 master weights and autocasts."""
    import torch

    if finetune == "lora" and precision in ("bf16", "fp16"):
        return torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.float32


# Data layout --------------------------------------------------------------------------------------


def uses_chat_template(tokenizer: "PreTrainedTokenizerBase") -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def prompt_field(tokenizer: "PreTrainedTokenizerBase", prompt: str) -> Any:
    """The prompt as the trainers take it, matching inference.editor.format_causal_prompt: one user
    turn for a chat model (TRL applies the template with the generation prompt), else the plain cue."""
    if uses_chat_template(tokenizer):
        return [{"role": "user", "content": prompt}]
    return format_causal_prompt(tokenizer, prompt)


def completion_field(tokenizer: "PreTrainedTokenizerBase", text: str) -> Any:
    """The completion: an assistant turn, or " <text>" after the cue (TRL appends the EOS token)."""
    if uses_chat_template(tokenizer):
        return [{"role": "assistant", "content": text}]
    return " " + text


def sft_dataset(rows: list[PreferenceRow], tokenizer: "PreTrainedTokenizerBase") -> "Dataset":
    """prompt/completion rows, the chosen output as the completion."""
    from datasets import Dataset

    return Dataset.from_list(
        [
            {"prompt": prompt_field(tokenizer, r.prompt), "completion": completion_field(tokenizer, r.chosen)}
            for r in rows
        ]
    )


def pair_dataset(rows: list[PreferenceRow], tokenizer: "PreTrainedTokenizerBase") -> "Dataset":
    """prompt/chosen/rejected rows for DPO and the reward model."""
    from datasets import Dataset

    return Dataset.from_list(
        [
            {
                "prompt": prompt_field(tokenizer, r.prompt),
                "chosen": completion_field(tokenizer, r.chosen),
                "rejected": completion_field(tokenizer, r.rejected),
            }
            for r in rows
        ]
    )


def _token_ids(tokenizer: "PreTrainedTokenizerBase", value: Any, **chat_kwargs: Any) -> list[int]:
    if isinstance(value, list):
        return list(tokenizer.apply_chat_template(value, tokenize=True, return_dict=True, **chat_kwargs)["input_ids"])
    return list(tokenizer(text=value)["input_ids"])


def _with_eos(tokenizer: "PreTrainedTokenizerBase", completion: Any) -> Any:
    if isinstance(completion, str) and not completion.endswith(tokenizer.eos_token):
        return completion + tokenizer.eos_token
    return completion


def encode_completion(tokenizer: "PreTrainedTokenizerBase", prompt: str, text: str) -> tuple[list[int], list[int]]:
    """(prompt ids, completion ids) exactly as TRL's SFT and DPO trainers tokenize a row: the prompt
    alone and prompt + completion (+ EOS when not chat), the completion starting where they part."""
    p = prompt_field(tokenizer, prompt)
    c = _with_eos(tokenizer, completion_field(tokenizer, text))
    chat = isinstance(p, list)
    prompt_ids = _token_ids(tokenizer, p, add_generation_prompt=True) if chat else _token_ids(tokenizer, p)
    full_ids = _token_ids(tokenizer, p + c)
    split = 0
    while split < min(len(prompt_ids), len(full_ids)) and prompt_ids[split] == full_ids[split]:
        split += 1
    return full_ids[:split], full_ids[split:]


def encode_scored(tokenizer: "PreTrainedTokenizerBase", prompt: str, text: str) -> list[int]:
    """The ids a reward model scores, as TRL's RewardTrainer tokenizes prompt + completion."""
    p = prompt_field(tokenizer, prompt)
    return _token_ids(tokenizer, p + _with_eos(tokenizer, completion_field(tokenizer, text)))


@contextlib.contextmanager
def quiet_progress() -> Iterator[None]:
    """No progress bars from loading weights and preparing datasets in a worker's log."""
    from datasets.utils import logging as ds_logging
    from transformers.utils import logging as tf_logging

    enabled = ds_logging.is_progress_bar_enabled(), tf_logging.is_progress_bar_enabled()
    ds_logging.disable_progress_bar()
    tf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled[0]:
            ds_logging.enable_progress_bar()
        if enabled[1]:
            tf_logging.enable_progress_bar()


# Running and saving -------------------------------------------------------------------------------


def check_out_dir(out_dir: str | Path) -> Path:
    """A new model version gets a new directory: refuse one that already holds files."""
    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise TrainingError(
            f"The output directory {str(out)!r} already exists and is not empty; each run needs a new one."
        )
    return out


def _out_of_memory(exc: BaseException) -> bool:
    import torch

    text = str(exc).lower()
    return isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in text or "can't allocate memory" in text


def run_trainer(trainer: "Trainer", monitor: RunMonitor, settings: TrainSettings, device: str) -> dict[str, Any]:
    """trainer.train(), with out-of-memory errors told in words and cancellation raised after it."""
    if len(trainer.train_dataset) == 0:
        raise TrainingError(
            f"No training example fits in max_length={settings.max_length} tokens; "
            "raise max_length or shorten the rows."
        )
    try:
        output = trainer.train()
    except (RuntimeError, MemoryError) as exc:
        if isinstance(exc, MemoryError) or _out_of_memory(exc):
            where = "GPU" if device == "cuda" else "machine"
            raise TrainingError(
                f"The {where} ran out of memory (batch_size={settings.batch_size}, max_length={settings.max_length}, "
                f"finetune={settings.finetune!r}). Lower batch_size (raise gradient_accumulation_steps to keep the "
                "effective batch), lower max_length, or use LoRA instead of full fine-tuning."
            ) from exc
        raise
    if monitor.cancelled:
        raise TrainingCancelled(f"Training was cancelled after step {trainer.state.global_step}; nothing was saved.")
    return dict(output.metrics)


def free_memory() -> None:
    """Give back what a finished or failed run held: a worker process trains many times."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def parameter_counts(model: Any) -> tuple[int, int]:
    """(trainable, total) parameters."""
    params = list(model.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)


def run_metrics(
    trainer: "Trainer", train_metrics: dict[str, Any], examples: int, trainable: tuple[int, int]
) -> dict[str, Any]:
    runtime = float(train_metrics.get("train_runtime", 0.0))
    seen = (trainer.state.epoch or 0.0) * examples  # epoch counts fractions of a pass over the rows
    metrics: dict[str, Any] = {
        "train_loss": float(train_metrics.get("train_loss", math.nan)),
        "train_runtime_s": round(runtime, 3),
        "examples_per_s": round(seen / runtime, 3) if runtime > 0 else None,
        "trainable_params": trainable[0],
        "total_params": trainable[1],
    }
    steps = [log for log in trainer.state.log_history if "loss" in log]
    if steps:
        metrics["final_loss"] = float(steps[-1]["loss"])
    return metrics


def save_artifact(
    trainer: "Trainer",
    tokenizer: "PreTrainedTokenizerBase",
    out_dir: Path,
    parent: ModelRef,
    finetune: str,
    card: dict[str, Any],
) -> tuple[str, ModelRef]:
    """Writes the adapter (LoRA) or the whole model and its tokenizer (full), with the run's card,
    into a staging directory and then moves it to out_dir, so out_dir never holds half a model."""
    model = trainer.accelerator.unwrap_model(trainer.model)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; other processes load the model from it
    try:
        if finetune == "lora":
            # Only the trained adapter: DPO continuing an adapter adds a frozen "ref" copy of it.
            model.save_pretrained(staging, selected_adapters=["default"])
            artifact, new_ref = "adapter", ModelRef(parent.base_model, str(out_dir))
        else:
            model.save_pretrained(staging)
            tokenizer.save_pretrained(staging)
            artifact, new_ref = "full", ModelRef(str(out_dir), None)
        card = {**card, "artifact": artifact, "model_ref": new_ref.as_dict()}
        (staging / CARD_NAME).write_text(json.dumps(card, indent=2, default=str) + "\n")
        if out_dir.exists():
            out_dir.rmdir()  # empty, checked before training
        os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return artifact, new_ref


def versions() -> dict[str, str]:
    import peft
    import torch
    import transformers
    import trl

    return {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "trl": trl.__version__,
        "peft": peft.__version__,
    }


@contextlib.contextmanager
def trainer_workdir() -> Iterator[str]:
    """The trainers' own output_dir (they save nothing there with save_strategy "no"), quiet dataset
    preparation, and memory given back afterwards, whether the run finished or failed."""
    try:
        with tempfile.TemporaryDirectory(prefix="redline-trainer-") as tmp, quiet_progress():
            yield tmp
    finally:
        free_memory()


def finish_run(
    trainer: "Trainer",
    tokenizer: "PreTrainedTokenizerBase",
    monitor: RunMonitor,
    *,
    method: str,
    parent: ModelRef,
    settings: TrainSettings,
    out_dir: Path,
    rows_used: int,
    device: str,
    precision: str,
    final_log_keys: tuple[str, ...] = (),
) -> TrainResult:
    """Trains, then saves the artifact and its card; returns the new model version."""
    from transformers import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # disable_tqdm puts it in; progress goes to the monitor
    trainable = parameter_counts(trainer.model)
    train_metrics = run_trainer(trainer, monitor, settings, device)
    examples = len(trainer.train_dataset)
    metrics = run_metrics(trainer, train_metrics, examples, trainable)
    for key in final_log_keys:  # the last logged value of a per-step metric, e.g. rewards/accuracies
        logged = [log[key] for log in trainer.state.log_history if key in log]
        if logged:
            metrics[key] = float(logged[-1])
    # Stored as JSON (and in Postgres): no NaN or infinity.
    metrics = {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in metrics.items()}
    card = {
        "method": method,
        "parent": parent.as_dict(),
        "settings": settings.as_dict(),
        "rows": rows_used,
        "examples": examples,
        "steps": trainer.state.global_step,
        "metrics": metrics,
        "device": device,
        "precision": precision,
        "versions": versions(),
    }
    artifact, new_ref = save_artifact(trainer, tokenizer, out_dir, parent, settings.finetune, card)
    return TrainResult(
        out_dir=str(out_dir),
        artifact=artifact,
        model_ref=new_ref,
        steps=trainer.state.global_step,
        examples=examples,
        metrics=metrics,
        device=device,
        precision=precision,
    )
