"""Pooling token states into one vector per text, honouring the attention mask.

Kept apart from the encoders because the per-layer analyses (probes, length collapse) pool every
hidden layer the same way the model pools its last one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch loads in about a second: not for code that only needs POOLINGS
    import torch

POOLINGS: tuple[str, ...] = ("mean", "cls", "last", "max")


def pool(states: torch.Tensor, mask: torch.Tensor, method: str) -> torch.Tensor:
    """[batch, tokens, d] states and [batch, tokens] mask -> [batch, d] pooled vectors.

    "last" is the last non-padding token (the encoder analogue of Concept Depth's last-token
    readout); it assumes right padding, which is what BERT-family tokenizers produce.
    """
    maskf = mask.unsqueeze(-1).to(states.dtype)
    if method == "mean":
        return (states * maskf).sum(dim=1) / maskf.sum(dim=1).clamp(min=1e-9)
    if method == "cls":
        return states[:, 0]
    if method == "last":
        import torch

        last = mask.sum(dim=1).long().clamp(min=1) - 1
        return states[torch.arange(states.shape[0]), last]
    if method == "max":
        return states.masked_fill(maskf == 0, float("-inf")).max(dim=1).values
    raise ValueError(f"unknown pooling {method!r}; choose one of {', '.join(POOLINGS)}")
