"""Direct preference optimisation on chosen/rejected pairs, with TRL's DPOTrainer.

The reference model is the parent model version, the one that produced the proposals people judged:
- LoRA on a plain base: no reference model; TRL computes it with the adapter disabled (the base).
- LoRA continuing an adapter: no reference model either; TRL 1.16 copies the loaded adapter into a
  frozen "ref" adapter and computes the reference with it (base + parent adapter). Only the trained
  "default" adapter is saved.
- Full fine-tuning: an explicit reference model, loaded like the policy (with the parent's adapter
  merged in). Left to itself TRL would reload the reference from the policy's config path, which
  is the base model without the parent's adapter.
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
    pair_dataset,
    trainer_arguments,
    trainer_workdir,
    training_device,
)
from inference.training.dpo_config import DPOSettings

if TYPE_CHECKING:
    from trl import DPOTrainer

FINAL_LOG_KEYS = ("rewards/accuracies", "rewards/margins", "rewards/chosen", "rewards/rejected")


def preference_pairs(rows: Iterable[PreferenceRow]) -> list[PreferenceRow]:
    """The rows that can teach a preference: a rejected side that is not empty and not the chosen one."""
    return [row for row in rows if row.is_pair]


def train_dpo(
    model: ModelRef,
    rows: Iterable[PreferenceRow],
    out_dir: str | Path,
    settings: DPOSettings = DPOSettings(),
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> TrainResult:
    """DPO of `model` against itself as the reference, on the rows that have a rejected side; saves the
    new version into `out_dir`. on_progress/should_stop as in train_sft."""
    rows = as_rows(rows)
    if not rows:
        raise TrainingError("The dataset is empty: DPO needs rows with a chosen and a rejected output.")
    pairs = preference_pairs(rows)
    if not pairs:
        raise TrainingError(
            f"No rows with a rejected side for DPO: none of the {len(rows)} rows has a rejected output that differs "
            "from the chosen one. DPO learns from such pairs; train SFT on these rows instead, or collect "
            "rejections or comparison labels first."
        )
    out = check_out_dir(out_dir)
    check_causal(model)
    with trainer_workdir() as workdir:
        return _train(model, pairs, out, settings, RunMonitor(on_progress, should_stop), workdir, len(rows))


def _train(
    parent: ModelRef,
    pairs: list[PreferenceRow],
    out: Path,
    settings: DPOSettings,
    monitor: RunMonitor,
    workdir: str,
    rows_given: int,
) -> TrainResult:
    trainer, tokenizer, device, precision = dpo_trainer(parent, pairs, settings, workdir, monitor)
    result = finish_run(
        trainer,
        tokenizer,
        monitor,
        method="dpo",
        parent=parent,
        settings=settings,
        out_dir=out,
        rows_used=len(pairs),
        device=device,
        precision=precision,
        final_log_keys=FINAL_LOG_KEYS,
    )
    result.metrics["rows_without_pair"] = rows_given - len(pairs)
    return result


def dpo_trainer(
    parent: ModelRef, pairs: list[PreferenceRow], settings: DPOSettings, workdir: str, monitor: RunMonitor | None = None
) -> tuple["DPOTrainer", Any, str, str]:
    """The configured DPOTrainer, its tokenizer, device and precision."""
    import torch
    from transformers import set_seed
    from trl import DPOConfig, DPOTrainer

    device, precision = training_device()
    tokenizer = load_tokenizer(parent)
    set_seed(settings.seed)
    model = load_model(parent, finetune=settings.finetune, dtype=model_dtype(settings.finetune, precision))
    ref_model = None
    if settings.finetune == "full":
        # Frozen, so half precision is enough on a GPU.
        ref_dtype = torch.bfloat16 if precision == "bf16" else torch.float32
        ref_model = load_model(parent, finetune="full", dtype=ref_dtype)  # "full": the adapter merged in
    fresh_lora = settings.finetune == "lora" and parent.adapter_path is None
    args = DPOConfig(
        **trainer_arguments(settings, workdir, device, precision),
        beta=settings.beta,
        loss_type=settings.loss_types,
    )
    return (
        DPOTrainer(
            model=model,
            ref_model=ref_model,
            args=args,
            train_dataset=pair_dataset(pairs, tokenizer),
            processing_class=tokenizer,
            peft_config=lora_config(model, settings) if fresh_lora else None,
            callbacks=[monitor.callback()] if monitor else None,
        ),
        tokenizer,
        device,
        precision,
    )
