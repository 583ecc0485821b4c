"""A tiny causal model and a few rows shared by the training tests; runs are a handful of steps."""

from pathlib import Path

import pytest

from inference.tiny import build_tiny_model
from inference.training.common import ModelRef, PreferenceRow, TrainResult
from inference.training.sft import train_sft
from inference.training.sft_config import SFTSettings

# Two rows with a pair and one SFT-only row. Each chosen output shares no word pair with its prompt,
# because the tiny model's generation config forbids repeating a bigram of the prompt.
ROWS = [
    PreferenceRow(
        "Fix grammatical errors in this sentence: the writer write the letter.",
        "The writer writes a letter.",
        "The writer write the letter.",
    ),
    PreferenceRow(
        "Simplify this sentence: she discussed the proposal carefully.",
        "She discussed it.",
        "She discussed the proposal carefully today.",
    ),
    PreferenceRow("Paraphrase this sentence: we sent the summary.", "We sent it."),
]
PAIRS = [row for row in ROWS if row.rejected]


@pytest.fixture(scope="session")
def base(tmp_path_factory: pytest.TempPathFactory) -> ModelRef:
    return ModelRef(str(build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-causal", kind="causal")))


@pytest.fixture(scope="session")
def sft_adapter(base: ModelRef, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """A LoRA adapter trained on the rows' chosen outputs: the parent for continued training."""
    out = tmp_path_factory.mktemp("runs") / "sft-lora"
    return train_sft(base, ROWS * 2, out, SFTSettings(max_steps=30, batch_size=6, learning_rate=0.1))


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "run"
