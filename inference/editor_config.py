"""The configuration of a built-in editor training run; the sizes are presets of it."""

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from inference.editor_data.corpus import SOURCES
from inference.editor_data.examples import DEFAULT_MIX, DRILL_MIX, DRILL_TYPOS_PER_SENTENCE, EVERYDAY_MIX
from inference.editor_data.general import GENERAL_SOURCES


@dataclass(frozen=True)
class EditorConfig:
    size: str = "small"
    seed: int = 0
    # Model: a Llama (causal, rotary positions, tied embeddings) built from a config.
    # A byte-level BPE of 4,096 tokens: any text encodes, misspellings included. (A vocabulary of
    # 259, the bytes and 3 special tokens with no merges, makes a character-level model: it sees a
    # misspelling as a small change, but its sequences are four times longer, and so is training.)
    vocab_size: int = 4096
    d_model: int = 192
    d_ff: int = 512
    num_heads: int = 4
    num_layers: int = 6
    # Training.
    steps: int = 8000
    batch_size: int = 32
    learning_rate: float = 1e-3
    warmup_steps: int = 400
    min_lr_ratio: float = 0.05  # cosine decay down to this share of the peak
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    max_tokens: int = (
        96  # prompts and targets are each cut to this many tokens (the corpus's longest sentence is about 60)
    )
    threads: int | None = None  # torch CPU threads; None keeps torch's default
    device: str = "auto"  # auto: the GPU when torch sees one (inference.editor_train.training_device)
    precision: str = "auto"  # auto: bf16 autocast on a GPU, fp32 on a CPU
    log_every: int = 50
    checkpoint_every: int = 0  # save a copy of the model every this many steps (0: never)
    # Data.
    sources: tuple[str, ...] = SOURCES
    synthetic_typo_share: float = 0.6  # of misspellings; the rest are codespell's training ones
    mix: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    # Phase 2, the spelling drill: more steps from phase 1's weights with a fresh optimizer, its
    # own seeded stream and a mix heavy in misspellings (phase 1 alone fixed about half of the
    # held-out misspellings). 0 steps: phase 1 only.
    drill_steps: int = 10000
    drill_learning_rate: float = 5e-4
    drill_warmup_steps: int = 200
    drill_mix: dict[str, float] = field(default_factory=lambda: dict(DRILL_MIX))
    drill_typos_per_sentence: tuple[float, ...] = DRILL_TYPOS_PER_SENTENCE
    drill_split_words: float = 0.3  # the share of input words given in two pieces (editor_train.encode_batch)
    # Phase 3, everyday English: more steps from the drill's weights on general sentences
    # (inference.editor_data.general) beside the domain's, with learners' confusions and names in
    # lower case in the mix; the domain corpus stays in it so that its fixes are kept.
    everyday_steps: int = 4000
    everyday_learning_rate: float = 5e-4
    everyday_warmup_steps: int = 200
    everyday_sources: tuple[str, ...] = GENERAL_SOURCES
    everyday_repeat: int = 3  # each general sentence is in the phase's corpus this many times
    everyday_mix: dict[str, float] = field(default_factory=lambda: dict(EVERYDAY_MIX))

    def phase_one(self) -> dict[str, Any]:
        """The fields that decide phase 1's weights (not the drill's, not logging or saving)."""
        skip = {"log_every", "checkpoint_every"}
        return {k: v for k, v in self.as_dict().items() if not k.startswith("drill_") and k not in skip}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "fp32", "bf16")

SIZES: dict[str, dict[str, Any]] = {
    # For tests: trains in seconds on Python's own reference text; its output is poor.
    "tiny": dict(
        d_model=64,
        d_ff=128,
        num_heads=2,
        num_layers=2,
        steps=40,
        batch_size=16,
        warmup_steps=5,
        sources=("pydoc",),
        log_every=10,
        drill_steps=6,
        drill_warmup_steps=2,
        everyday_steps=6,
        everyday_warmup_steps=2,
        everyday_sources=("team",),
    ),
    # The built-in model.
    "small": dict(),
    # Just under the 30 MB aim.
    "base": dict(d_model=256, d_ff=688, num_layers=8),
}


def editor_config(size: str = "small", **overrides: Any) -> EditorConfig:
    """The preset `size`, with any field overridden (None values are ignored)."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, not {size!r}")
    values = {**SIZES[size], **{k: v for k, v in overrides.items() if v is not None}}
    if values.get("device", "auto") not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(DEVICES)}, not {values['device']!r}")
    if values.get("precision", "auto") not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {values['precision']!r}")
    return replace(EditorConfig(size=size), **values)
