"""Settings of a reward-model run (TRL's RewardTrainer: a scalar score trained on chosen/rejected pairs)."""

from dataclasses import dataclass
from typing import ClassVar

from inference.training.common import TrainSettings


@dataclass(frozen=True)
class RewardSettings(TrainSettings):
    """See TrainSettings for the fields. Default learning rates: 2e-4 for LoRA (the new score head
    trains with it), 1e-5 for full fine-tuning."""

    DEFAULT_LEARNING_RATES: ClassVar[dict[str, float]] = {"lora": 2e-4, "full": 1e-5}
