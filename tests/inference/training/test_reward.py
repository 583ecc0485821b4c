"""Reward models: a score head on the same base that ranks the chosen output of each pair first."""

import math
from pathlib import Path

import pytest
from safetensors.torch import load_file

from inference.training import ModelRef, RewardSettings, TrainingError, TrainResult
from inference.training.evaluate import RewardScorer, reward_accuracy, reward_scores
from inference.training.reward import train_reward
from tests.inference.training.conftest import PAIRS, ROWS


def test_lora_reward_model_ranks_its_pairs_and_saves_its_score_head(base: ModelRef, out: Path):
    result = train_reward(base, ROWS, out, RewardSettings(max_steps=10, batch_size=2, learning_rate=5e-2))
    assert result.artifact == "adapter" and result.model_ref == ModelRef(base.base_model, str(out))
    assert result.examples == len(PAIRS)
    weights = load_file(out / "adapter_model.safetensors")
    assert any(".score." in key for key in weights) and any("lora_A" in key for key in weights)
    accuracy = reward_accuracy(result.model_ref, ROWS)
    assert accuracy["n"] == len(PAIRS) and accuracy["accuracy"] == 1.0 and accuracy["mean_margin"] > 1
    scores = reward_scores(result.model_ref, ROWS)
    assert math.isnan(scores[2][1]) and not math.isnan(scores[2][0])  # the SFT-only row has no rejected side


def test_full_reward_model_saves_a_one_label_classifier_with_its_pad_token(base: ModelRef, out: Path):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    settings = RewardSettings(finetune="full", max_steps=10, batch_size=2, learning_rate=1e-2)
    result = train_reward(base, PAIRS, out, settings)
    assert result.model_ref == ModelRef(str(out), None)
    model = AutoModelForSequenceClassification.from_pretrained(out)
    assert model.config.num_labels == 1
    assert model.config.pad_token_id == AutoTokenizer.from_pretrained(out).pad_token_id is not None
    assert reward_accuracy(result.model_ref, PAIRS)["accuracy"] == 1.0


def test_a_lora_reward_model_does_not_start_from_a_language_model_adapter(sft_adapter: TrainResult, out: Path):
    with pytest.raises(TrainingError, match="A LoRA reward model starts from the base model alone"):
        train_reward(sft_adapter.model_ref, PAIRS, out)
    assert not out.exists()


def test_a_trained_reward_model_scores_as_reward_scores_does(base: ModelRef, out: Path):
    result = train_reward(base, PAIRS, out, RewardSettings(max_steps=10, batch_size=2, learning_rate=5e-2))
    scorer = RewardScorer(result.model_ref)
    row = PAIRS[0]
    chosen, rejected = scorer.score([row.prompt, row.prompt], [row.chosen, row.rejected])
    assert (chosen, rejected) == pytest.approx(reward_scores(result.model_ref, [row])[0], abs=1e-4)
    assert chosen > rejected
    with pytest.raises(ValueError, match="2 prompts but 1 completions"):
        scorer.score([row.prompt, row.prompt], [row.chosen])
