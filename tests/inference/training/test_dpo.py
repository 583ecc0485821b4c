"""DPO: it learns the preferences, its reference is the parent version, and it needs pairs."""

import os
from pathlib import Path

import pytest

from inference.editor import load_editor
from inference.training import (
    DPOSettings,
    ModelRef,
    PreferenceRow,
    TrainingError,
    TrainResult,
)
from inference.training.dpo import train_dpo
from inference.training.evaluate import completion_logprobs, preference_accuracy
from tests.inference.training.conftest import PAIRS, ROWS


def test_lora_dpo_widens_the_chosen_minus_rejected_margin_on_its_rows(base: ModelRef, out: Path):
    before = preference_accuracy(base, ROWS)
    result = train_dpo(base, ROWS, out, DPOSettings(max_steps=8, batch_size=2, learning_rate=5e-2))
    after = preference_accuracy(result.model_ref, ROWS)
    assert before["n"] == after["n"] == len(PAIRS)  # the SFT-only row is left out
    assert after["mean_margin"] > before["mean_margin"] + 2, (before, after)
    assert after["accuracy"] >= before["accuracy"] and after["accuracy"] == 1.0
    assert result.examples == len(PAIRS) and result.metrics["rows_without_pair"] == 1
    assert result.metrics["rewards/accuracies"] == 1.0 and result.metrics["rewards/margins"] > 0
    assert result.artifact == "adapter" and result.model_ref == ModelRef(base.base_model, str(out))
    editor = load_editor(base.base_model, adapter_path=str(out))
    assert len(editor.generate([ROWS[0].prompt])) == 1


def first_step(parent: ModelRef, out: Path, finetune: str) -> tuple[dict, TrainResult]:
    records: list[dict] = []
    settings = DPOSettings(finetune=finetune, max_steps=2, batch_size=len(PAIRS), learning_rate=1e-2)
    result = train_dpo(parent, PAIRS, out, settings, on_progress=records.append)
    return records[0], result


@pytest.mark.parametrize("finetune", ["lora", "full"])
def test_the_reference_is_the_parent_version_with_its_adapter(sft_adapter: TrainResult, out: Path, finetune: str):
    """Before the first update the policy is the parent, so if the reference is the parent too every
    DPO reward (beta * log-ratio policy/reference) is 0. A reference without the parent's adapter
    would make them far from 0, since that adapter moved the chosen log-probabilities a lot."""
    parent = sft_adapter.model_ref
    step, result = first_step(parent, out, finetune)
    assert step["rewards/chosen"] == pytest.approx(0, abs=1e-4)
    assert step["rewards/rejected"] == pytest.approx(0, abs=1e-4)
    # TRL's own log-probabilities of the chosen outputs are the ones evaluation computes.
    evaluated = [chosen for chosen, _ in completion_logprobs(parent, PAIRS)]
    assert step["logps/chosen"] == pytest.approx(sum(evaluated) / len(evaluated), abs=1e-3)
    if finetune == "lora":
        assert result.model_ref == ModelRef(parent.base_model, str(out))
        saved = sorted(os.listdir(out))  # the trained adapter only, not TRL's frozen "ref" copy
        assert saved == ["README.md", "adapter_config.json", "adapter_model.safetensors", "redline_training.json"]
    else:
        assert result.model_ref == ModelRef(str(out), None)
        assert load_editor(str(out)).adapter_path is None


def test_dpo_without_rejected_outputs_is_refused(base: ModelRef, out: Path):
    rows = [
        PreferenceRow("Simplify this sentence: we sent it.", "We sent it."),
        PreferenceRow("Simplify this sentence: we sent it.", "We sent it.", "We sent it."),
    ]
    with pytest.raises(TrainingError, match="No rows with a rejected side for DPO"):
        train_dpo(base, rows, out)
    assert not out.exists()


def test_losses_joined_by_a_plus_are_summed_and_each_is_checked(base: ModelRef, out: Path):
    settings = DPOSettings(loss_type="sigmoid+sft", max_steps=4, batch_size=2, learning_rate=5e-2)
    assert settings.loss_types == ["sigmoid", "sft"]
    before = preference_accuracy(base, ROWS)
    result = train_dpo(base, ROWS, out, settings)
    assert preference_accuracy(result.model_ref, ROWS)["mean_margin"] > before["mean_margin"]
    with pytest.raises(ValueError, match="several joined by"):
        DPOSettings(loss_type="sigmoid+kto")
