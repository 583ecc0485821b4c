"""Settings of a supervised fine-tuning run (TRL's SFTTrainer, loss on the completion only)."""

from dataclasses import dataclass
from typing import ClassVar

from inference.training.common import TrainSettings


@dataclass(frozen=True)
class SFTSettings(TrainSettings):
    """See TrainSettings for the fields. Default learning rates: 2e-4 for LoRA (a small, zero-initialised
    low-rank update learns slowly at full fine-tuning rates), 2e-5 for full fine-tuning (TRL's SFT default)."""

    DEFAULT_LEARNING_RATES: ClassVar[dict[str, float]] = {"lora": 2e-4, "full": 2e-5}
