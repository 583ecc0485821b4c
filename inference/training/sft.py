"""Supervised fine-tuning on the chosen outputs, with TRL's SFTTrainer.

Each row becomes a prompt/completion pair laid out as generation prompts the model (see
common.prompt_field); the loss is on the completion and its end-of-sequence token only.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from inference.training.common import (
    ModelRef,
    PreferenceRow,
    ProgressFn,
    RunMonitor,
    StopFn,
    TrainingError,
    TrainResult,
    as_rows,
    check_causal,
    check_out_dir,
    finish_run,
    load_model,
    load_tokenizer,
    lora_config,
    model_dtype,
    sft_dataset,
    trainer_arguments,
    trainer_workdir,
    training_device,
)
from inference.training.sft_config import SFTSettings

if TYPE_CHECKING:
    from trl import SFTTrainer


def train_sft(
    model: ModelRef,
    rows: Iterable[PreferenceRow],
    out_dir: str | Path,
    settings: SFTSettings = SFTSettings(),
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> TrainResult:
    """Fine-tunes `model` on every row's chosen output and saves the new version into `out_dir`
    (a LoRA adapter, or the whole model and tokenizer). on_progress(record) after every step;
    should_stop() checked after every step, raising TrainingCancelled with nothing saved."""
    rows = as_rows(rows)
    if not rows:
        raise TrainingError("The dataset is empty: SFT needs at least one row with a chosen output.")
    out = check_out_dir(out_dir)
    check_causal(model)
    with trainer_workdir() as workdir:
        return _train(model, rows, out, settings, RunMonitor(on_progress, should_stop), workdir)


def _train(
    parent: ModelRef, rows: list[PreferenceRow], out: Path, settings: SFTSettings, monitor: RunMonitor, workdir: str
) -> TrainResult:
    trainer, tokenizer, device, precision = sft_trainer(parent, rows, settings, workdir, monitor)
    return finish_run(
        trainer,
        tokenizer,
        monitor,
        method="sft",
        parent=parent,
        settings=settings,
        out_dir=out,
        rows_used=len(rows),
        device=device,
        precision=precision,
    )


def sft_trainer(
    parent: ModelRef, rows: list[PreferenceRow], settings: SFTSettings, workdir: str, monitor: RunMonitor | None = None
) -> tuple["SFTTrainer", Any, str, str]:
    """The configured SFTTrainer, its tokenizer, device and precision (separate so tests can look
    at the examples exactly as TRL prepared them)."""
    from transformers import set_seed
    from trl import SFTConfig, SFTTrainer

    device, precision = training_device()
    tokenizer = load_tokenizer(parent)
    set_seed(settings.seed)
    model = load_model(parent, finetune=settings.finetune, dtype=model_dtype(settings.finetune, precision))
    fresh_lora = settings.finetune == "lora" and parent.adapter_path is None
    args = SFTConfig(
        **trainer_arguments(settings, workdir, device, precision),
        completion_only_loss=True,
        packing=False,
    )
    return (
        SFTTrainer(
            model=model,
            args=args,
            train_dataset=sft_dataset(rows, tokenizer),
            processing_class=tokenizer,
            peft_config=lora_config(model, settings) if fresh_lora else None,
            callbacks=[monitor.callback()] if monitor else None,
        ),
        tokenizer,
        device,
        precision,
    )
