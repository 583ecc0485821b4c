"""A pairwise reward model, with TRL's RewardTrainer: the same base model with a one-output score
head (AutoModelForSequenceClassification, num_labels=1), trained so that the chosen output of each
pair scores above the rejected one (Bradley-Terry loss).

The score is read at the last non-padding token of prompt + completion + EOS, so the model config
must name the pad token; when the tokenizer has none, TRL and this module use the EOS token, and the
score is then read just before the final EOS.
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
from inference.training.dpo import preference_pairs
from inference.training.reward_config import RewardSettings

if TYPE_CHECKING:
    from trl import RewardTrainer


def train_reward(
    model: ModelRef,
    rows: Iterable[PreferenceRow],
    out_dir: str | Path,
    settings: RewardSettings = RewardSettings(),
    on_progress: ProgressFn | None = None,
    should_stop: StopFn | None = None,
) -> TrainResult:
    """Trains a reward model from `model`'s base on the rows that have a rejected side and saves it
    into `out_dir`: with LoRA an adapter (with the score head) for the same base, else a whole model.
    on_progress/should_stop as in train_sft."""
    rows = as_rows(rows)
    pairs = preference_pairs(rows)
    if not pairs:
        raise TrainingError(
            f"No rows with a rejected side for the reward model: none of the {len(rows)} rows has a rejected "
            "output that differs from the chosen one. Collect rejections or comparison labels first."
        )
    out = check_out_dir(out_dir)
    check_causal(model)
    with trainer_workdir() as workdir:
        return _train(model, pairs, out, settings, RunMonitor(on_progress, should_stop), workdir)


def _train(
    parent: ModelRef, pairs: list[PreferenceRow], out: Path, settings: RewardSettings, monitor: RunMonitor, workdir: str
) -> TrainResult:
    trainer, tokenizer, device, precision = reward_trainer(parent, pairs, settings, workdir, monitor)
    return finish_run(
        trainer,
        tokenizer,
        monitor,
        method="reward",
        parent=parent,
        settings=settings,
        out_dir=out,
        rows_used=len(pairs),
        device=device,
        precision=precision,
        final_log_keys=("accuracy", "margin"),
    )


def reward_trainer(
    parent: ModelRef,
    pairs: list[PreferenceRow],
    settings: RewardSettings,
    workdir: str,
    monitor: RunMonitor | None = None,
) -> tuple["RewardTrainer", Any, str, str]:
    """The configured RewardTrainer, its tokenizer, device and precision."""
    import torch
    from transformers import set_seed
    from trl import RewardConfig, RewardTrainer

    device, precision = training_device()
    tokenizer = load_tokenizer(parent)
    set_seed(settings.seed)  # the score head starts random
    model = load_model(
        parent,
        task="reward",
        finetune=settings.finetune,
        dtype=model_dtype(settings.finetune, precision),
        pad_token_id=tokenizer.pad_token_id,
    )
    fresh_lora = settings.finetune == "lora" and parent.adapter_path is None
    args = RewardConfig(**trainer_arguments(settings, workdir, device, precision))
    trainer = RewardTrainer(
        model=model,
        args=args,
        train_dataset=pair_dataset(pairs, tokenizer),
        processing_class=tokenizer,
        # SEQ_CLS: PEFT trains and saves the new score head along with the adapter.
        peft_config=lora_config(model, settings, task_type="SEQ_CLS") if fresh_lora else None,
        callbacks=[monitor.callback()] if monitor else None,
    )
    # PEFT keeps LoRA weights in fp32 over a half-precision base, but the score head it trains is a
    # copy in the base's dtype; train it in fp32 too (the optimizer is created later, in train()).
    for param in trainer.model.parameters():
        if param.requires_grad and param.dtype != torch.float32:
            param.data = param.data.float()
    return trainer, tokenizer, device, precision
