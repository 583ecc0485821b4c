"""Retraining the writing model from people's decisions with TRL and PEFT: SFT on chosen outputs,
DPO on chosen/rejected pairs, a pairwise reward model, and their evaluation.

Plain data in (a ModelRef and PreferenceRows), a saved LoRA adapter or full model out (a TrainResult
naming the new ModelRef). Importing this package loads no torch: the trainers import it when called.
"""

from inference.training.common import (
    CARD_NAME,
    ModelRef,
    PreferenceRow,
    TrainingCancelled,
    TrainingError,
    TrainResult,
    TrainSettings,
    training_device,
)
from inference.training.dpo_config import DPOSettings
from inference.training.reward_config import RewardSettings
from inference.training.sft_config import SFTSettings

__all__ = [
    "CARD_NAME",
    "DPOSettings",
    "ModelRef",
    "PreferenceRow",
    "RewardSettings",
    "SFTSettings",
    "TrainResult",
    "TrainSettings",
    "TrainingCancelled",
    "TrainingError",
    "training_device",
]
