"""Settings of a DPO run (TRL's DPOTrainer; the reference model is the parent model version)."""

from dataclasses import dataclass
from typing import ClassVar

from inference.training.common import TrainSettings

# TRL 1.16's DPO losses; "sigmoid" is the loss of the DPO paper.
LOSS_TYPES = (
    "sigmoid",
    "hinge",
    "ipo",
    "exo_pair",
    "nca_pair",
    "robust",
    "bco_pair",
    "sppo_hard",
    "aot",
    "aot_unpaired",
    "apo_zero",
    "apo_down",
    "discopop",
    "sft",
    "sigmoid_norm",
)


@dataclass(frozen=True)
class DPOSettings(TrainSettings):
    """See TrainSettings for the shared fields. Default learning rates: 5e-5 for LoRA, 1e-6 for full
    fine-tuning (TRL's DPO default): DPO moves away from a reference it starts equal to, and a high
    full fine-tuning rate quickly overshoots on small feedback sets."""

    DEFAULT_LEARNING_RATES: ClassVar[dict[str, float]] = {"lora": 5e-5, "full": 1e-6}

    beta: float = 0.1  # higher: stay closer to the reference model
    # One of LOSS_TYPES, or several joined by "+" and summed ("sigmoid+sft": DPO with an SFT term
    # on the chosen side, which keeps the policy from drifting away from what writers kept).
    loss_type: str = "sigmoid"

    @property
    def loss_types(self) -> list[str]:
        return self.loss_type.split("+")

    def _method_problems(self) -> list[str]:
        problems = []
        if self.beta <= 0:
            problems.append("beta must be above 0")
        unknown = [t for t in self.loss_types if t not in LOSS_TYPES]
        if unknown:
            problems.append(
                f"loss_type must be one of {', '.join(LOSS_TYPES)} or several joined by '+', not {self.loss_type!r}"
            )
        return problems
