"""Where the model runs: the GPU in bfloat16 when there is one, else the CPU in float32."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def select_device() -> tuple[str, "torch.dtype"]:
    """("cuda", bfloat16) on a GPU machine, ("cpu", float32) elsewhere (bfloat16 is slow on CPUs)."""
    import torch

    if torch.cuda.is_available():
        return "cuda", torch.bfloat16
    return "cpu", torch.float32
