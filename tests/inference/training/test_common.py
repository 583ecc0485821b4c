"""Settings, refusals, the device, and the data layout shared by the trainers."""

import subprocess
import sys
from pathlib import Path

import pytest

from inference.editor import format_causal_prompt, load_editor
from inference.tiny import build_tiny_model
from inference.training import (
    DPOSettings,
    ModelRef,
    RewardSettings,
    SFTSettings,
    TrainingError,
)
from inference.training.common import (
    PreferenceRow,
    RunMonitor,
    as_rows,
    encode_completion,
    load_tokenizer,
    prompt_field,
    run_trainer,
    trainer_arguments,
    training_device,
)
from inference.training.dpo import train_dpo
from inference.training.reward import train_reward
from inference.training.sft import sft_trainer, train_sft
from tests.inference.training.conftest import ROWS

REPO = Path(__file__).resolve().parents[3]


def test_learning_rate_defaults_per_method_and_mode_are_recorded():
    assert (SFTSettings().learning_rate, SFTSettings(finetune="full").learning_rate) == (2e-4, 2e-5)
    assert (DPOSettings().learning_rate, DPOSettings(finetune="full").learning_rate) == (5e-5, 1e-6)
    assert (RewardSettings().learning_rate, RewardSettings(finetune="full").learning_rate) == (2e-4, 1e-5)
    stored = DPOSettings(learning_rate=1e-3, max_steps=5).as_dict()
    assert stored["learning_rate"] == 1e-3 and stored["max_steps"] == 5
    assert (stored["beta"], stored["loss_type"], stored["finetune"], stored["lora_r"]) == (0.1, "sigmoid", "lora", 8)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: SFTSettings(finetune="qlora"), "finetune must be one of lora, full"),
        (lambda: SFTSettings(max_steps=0), "max_steps must be -1"),
        (lambda: SFTSettings(batch_size=0), "batch_size and gradient_accumulation_steps"),
        (lambda: SFTSettings(lora_dropout=1.0), "lora_dropout"),
        (lambda: RewardSettings(learning_rate=0), "learning_rate must be above 0"),
        (lambda: DPOSettings(beta=0), "beta must be above 0"),
        (lambda: DPOSettings(loss_type="kto"), "loss_type must be one of"),
    ],
)
def test_bad_settings_are_refused_with_a_message(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_settings_and_trainer_modules_import_without_torch():
    code = (
        "import sys, inference.training, inference.training.sft, inference.training.dpo, "
        "inference.training.reward, inference.training.evaluate\n"
        "print(','.join(m for m in ('torch', 'transformers', 'trl', 'peft', 'datasets') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_training_device_and_the_trainer_precision_flags():
    import torch

    device, precision = training_device()
    assert device == ("cuda" if torch.cuda.is_available() else "cpu")
    assert precision in (("bf16", "fp16", "fp32") if device == "cuda" else ("fp32",))
    cpu = trainer_arguments(SFTSettings(), "/tmp/x", "cpu", "fp32")
    gpu = trainer_arguments(SFTSettings(), "/tmp/x", "cuda", "bf16")
    assert (cpu["use_cpu"], cpu["bf16"], cpu["fp16"]) == (True, False, False)  # TRL would default bf16 on
    assert (gpu["use_cpu"], gpu["bf16"], gpu["fp16"]) == (False, True, False)
    assert cpu["logging_steps"] == 1 and cpu["save_strategy"] == "no"


def test_training_rows_are_laid_out_as_generation_prompts_the_model(base: ModelRef):
    editor = load_editor(base.base_model)
    tokenizer = load_tokenizer(base)
    row = ROWS[0]
    prompt_ids, completion_ids = encode_completion(tokenizer, row.prompt, row.chosen)
    assert prompt_ids == editor._encode([row.prompt])["input_ids"][0].tolist()  # what generation feeds the model
    assert completion_ids[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(completion_ids, skip_special_tokens=True) == "The writer writes a letter ."


def test_sft_examples_are_exactly_the_evaluated_layout_with_loss_on_the_completion(base: ModelRef, tmp_path: Path):
    trainer, tokenizer, _, _ = sft_trainer(base, ROWS, SFTSettings(max_steps=1), str(tmp_path))
    assert len(trainer.train_dataset) == len(ROWS)
    for row, example in zip(ROWS, trainer.train_dataset):
        prompt_ids, completion_ids = encode_completion(tokenizer, row.prompt, row.chosen)
        assert example["input_ids"] == prompt_ids + completion_ids
        assert example["labels"] == [-100] * len(prompt_ids) + completion_ids


def test_a_chat_model_gets_one_user_turn_as_in_generation(base: ModelRef, tmp_path: Path):
    """Chat models train on TRL's conversational format; its prompt is the generation prompt."""
    tokenizer = load_tokenizer(base)
    tokenizer.chat_template = (
        "{% for m in messages %}{% if m['role'] == 'user' %}{{ m['content'] }}\nRevised:"
        "{% else %} {{ m['content'] }}{{ eos_token }}{% endif %}{% endfor %}"
    )
    row = ROWS[1]
    assert prompt_field(tokenizer, row.prompt) == [{"role": "user", "content": row.prompt}]
    prompt_ids, completion_ids = encode_completion(tokenizer, row.prompt, row.chosen)
    generation_text = format_causal_prompt(tokenizer, row.prompt)
    assert prompt_ids == tokenizer(generation_text, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(completion_ids, skip_special_tokens=True) == "She discussed it ."
    # And TRL trains on it: a chat copy of the tiny model goes through SFT.
    chat_model = tmp_path / "chat"
    build_tiny_model(chat_model, kind="causal")
    tokenizer.save_pretrained(chat_model)
    result = train_sft(ModelRef(str(chat_model)), ROWS, tmp_path / "out", SFTSettings(max_steps=2))
    assert result.steps == 2 and result.metrics["train_loss"] > 0


@pytest.mark.parametrize("train", [train_sft, train_dpo, train_reward])
def test_an_encoder_decoder_model_is_refused_before_any_work(train, tmp_path: Path):
    t5 = build_tiny_model(tmp_path / "t5", kind="seq2seq")
    with pytest.raises(TrainingError, match="is an encoder-decoder model; TRL's SFT/DPO/reward trainers train causal"):
        train(ModelRef(str(t5)), ROWS, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_missing_model_empty_dataset_and_used_out_dir_are_refused(base: ModelRef, tmp_path: Path):
    with pytest.raises(TrainingError, match="no such local directory"):
        train_sft(ModelRef("/no/such/model"), ROWS, tmp_path / "a")
    with pytest.raises(TrainingError, match="dataset is empty"):
        train_sft(base, [], tmp_path / "b")
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("an earlier version")
    with pytest.raises(TrainingError, match="already exists and is not empty"):
        train_sft(base, ROWS, used)
    assert (used / "keep.txt").read_text() == "an earlier version"
    with pytest.raises(TrainingError, match="Row 0 of the dataset has no prompt"):
        train_sft(base, [{"chosen": "x"}], tmp_path / "c")


def test_running_out_of_memory_is_told_in_words():
    import torch

    class OutOfMemoryTrainer:
        train_dataset = [1]

        def train(self):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    message = r"The GPU ran out of memory \(batch_size=8, max_length=512.*Lower batch_size"
    with pytest.raises(TrainingError, match=message):
        run_trainer(OutOfMemoryTrainer(), RunMonitor(), SFTSettings(), "cuda")


def test_rows_come_as_dicts_or_objects_and_none_is_no_rejected_side():
    rows = as_rows([{"prompt": "p: a", "chosen": "A", "rejected": None}, PreferenceRow("p: b", "B", "C")])
    assert rows == [PreferenceRow("p: a", "A", ""), PreferenceRow("p: b", "B", "C")]
    assert [row.is_pair for row in rows] == [False, True]
