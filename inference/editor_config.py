"""The configuration of a built-in editor training run; the sizes are presets of it."""

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from inference.editor_data.corpus import SOURCES
from inference.editor_data.examples import DEFAULT_MIX


@dataclass(frozen=True)
class EditorConfig:
    size: str = "small"
    seed: int = 0
    # Model: a T5 encoder-decoder built from a config (relative positions, tied embeddings).
    vocab_size: int = 4096
    d_model: int = 192
    d_ff: int = 768
    num_heads: int = 4
    num_layers: int = 3  # encoder
    num_decoder_layers: int = 2  # the decoder runs once per generated token: kept shallower
    dropout: float = 0.05
    # Training.
    steps: int = 10000
    batch_size: int = 32
    learning_rate: float = 1e-3
    warmup_steps: int = 400
    min_lr_ratio: float = 0.05  # cosine decay down to this share of the peak
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    max_tokens: int = 96  # inputs and targets are cut to this many tokens
    threads: int | None = None  # torch CPU threads; None keeps torch's default
    log_every: int = 50
    # Data.
    sources: tuple[str, ...] = SOURCES
    synthetic_typo_share: float = 0.3  # of misspelling examples; the rest are codespell's
    mix: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))

    @property
    def d_kv(self) -> int:
        return self.d_model // self.num_heads

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


SIZES: dict[str, dict[str, Any]] = {
    # For tests: trains in seconds on Python's own reference text; its output is poor.
    "tiny": dict(
        vocab_size=600, d_model=64, d_ff=128, num_heads=2, num_layers=1, num_decoder_layers=1,
        steps=40, batch_size=16, warmup_steps=5, sources=("pydoc",), log_every=10,
    ),
    # The built-in model: 3.3M parameters, 13 MB of float32 weights, ~2.8 steps/s on 2 idle cores.
    "small": dict(),
    # 7.3M parameters, 29 MB (just under the 30 MB aim), ~1 step/s on 2 idle cores.
    "base": dict(d_model=256, d_ff=1024, num_layers=4, num_decoder_layers=3, steps=4000),
}


def editor_config(size: str = "small", **overrides: Any) -> EditorConfig:
    """The preset `size`, with any field overridden (None values are ignored)."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, not {size!r}")
    values = {**SIZES[size], **{k: v for k, v in overrides.items() if v is not None}}
    return replace(EditorConfig(size=size), **values)
