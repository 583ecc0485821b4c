"""SFT with LoRA and full fine-tuning: it learns, it saves what load_editor loads, it reports and stops."""

import json
from pathlib import Path

import pytest
from safetensors.torch import load_file

from inference.editor import load_editor
from inference.training import (
    CARD_NAME,
    ModelRef,
    SFTSettings,
    TrainingCancelled,
    TrainResult,
)
from inference.training.evaluate import completion_logprobs
from inference.training.sft import train_sft
from tests.inference.training.conftest import ROWS


def test_lora_sft_raises_the_log_probability_of_every_chosen_output(base: ModelRef, sft_adapter: TrainResult):
    before = [chosen for chosen, _ in completion_logprobs(base, ROWS)]
    after = [chosen for chosen, _ in completion_logprobs(sft_adapter.model_ref, ROWS)]
    assert all(a > b + 5 for a, b in zip(after, before)), (before, after)


def test_lora_sft_saves_an_adapter_that_load_editor_applies(base: ModelRef, sft_adapter: TrainResult):
    out = Path(sft_adapter.out_dir)
    assert sft_adapter.artifact == "adapter"
    assert sft_adapter.model_ref == ModelRef(base.base_model, str(out))
    assert (out / "adapter_model.safetensors").is_file() and not (out / "model.safetensors").exists()
    card = json.loads((out / CARD_NAME).read_text())
    assert (card["method"], card["rows"], card["steps"], card["settings"]["learning_rate"]) == ("sft", 6, 30, 0.1)
    assert card["metrics"]["train_loss"] == pytest.approx(sft_adapter.metrics["train_loss"])
    assert 0 < sft_adapter.metrics["trainable_params"] < sft_adapter.metrics["total_params"]
    editor = load_editor(base.base_model, adapter_path=str(out))
    generated = editor.generate([ROWS[2].prompt])
    assert editor.adapter_path == str(out) and generated[0].text.startswith("We sent")


def test_full_sft_saves_a_model_that_generates_the_chosen_outputs(base: ModelRef, out: Path):
    settings = SFTSettings(finetune="full", max_steps=20, batch_size=6, learning_rate=1e-2)
    result = train_sft(base, ROWS * 2, out, settings)
    assert result.artifact == "full" and result.model_ref == ModelRef(str(out), None)
    assert (out / "model.safetensors").is_file() and (out / "tokenizer.json").is_file()
    editor = load_editor(str(out))
    generated = editor.generate([row.prompt for row in ROWS[1:]])
    # Word-level tokens decode with a space before the full stop; generation stopped at the trained EOS.
    assert [g.text.replace(" .", ".") for g in generated] == [row.chosen for row in ROWS[1:]]


def test_progress_reports_every_step(base: ModelRef, out: Path):
    records: list[dict] = []
    result = train_sft(base, ROWS, out, SFTSettings(max_steps=4, batch_size=2), on_progress=records.append)
    assert [r["step"] for r in records] == [1, 2, 3, 4] and result.steps == 4
    assert all(r["total"] == 4 and r["loss"] > 0 and r["learning_rate"] > 0 for r in records)
    assert records[-1]["eta_s"] == 0 and records[-1]["elapsed_s"] >= records[0]["elapsed_s"]
    assert records[-1]["epoch"] == 2  # 3 rows in batches of 2: two steps a pass


def test_should_stop_cancels_the_run_and_saves_nothing(base: ModelRef, out: Path):
    records: list[dict] = []
    asked = []

    def should_stop() -> bool:
        asked.append(1)
        return len(asked) >= 2

    with pytest.raises(TrainingCancelled, match="cancelled after step 2; nothing was saved"):
        train_sft(base, ROWS, out, SFTSettings(max_steps=10, batch_size=1), records.append, should_stop)
    assert [r["step"] for r in records] == [1, 2]
    assert not out.exists() and list(out.parent.iterdir()) == []  # no staging directory left behind either


def test_same_seed_gives_the_same_adapter_and_another_seed_another(base: ModelRef, tmp_path: Path):
    def adapter(name: str, seed: int) -> dict:
        train_sft(base, ROWS, tmp_path / name, SFTSettings(max_steps=3, batch_size=2, seed=seed))
        return load_file(tmp_path / name / "adapter_model.safetensors")

    first, again, other = adapter("a", 0), adapter("b", 0), adapter("c", 1)
    assert first.keys() == again.keys() and all((first[k] == again[k]).all() for k in first)
    assert any(not (first[k] == other[k]).all() for k in first)


def test_lora_training_continues_from_an_adapter(base: ModelRef, sft_adapter: TrainResult, out: Path):
    from_base: list[dict] = []
    train_sft(base, ROWS, out.parent / "from-base", SFTSettings(max_steps=1), on_progress=from_base.append)
    continued: list[dict] = []
    result = train_sft(sft_adapter.model_ref, ROWS, out, SFTSettings(max_steps=2), on_progress=continued.append)
    # The first step already sees the parent adapter's low loss, far below a fresh adapter's.
    assert continued[0]["loss"] < from_base[0]["loss"] / 2
    assert result.model_ref == ModelRef(base.base_model, str(out))
    assert (
        load_file(out / "adapter_model.safetensors").keys()
        == load_file(Path(sft_adapter.out_dir) / "adapter_model.safetensors").keys()
    )
