"""TempScale (Zhou et al., ACL 2025, arXiv 2410.24200): one temperature inside every attention.

The paper's fix for length collapse replaces softmax(Q K^T / sqrt(d_h) + M) by
softmax(Q K^T / (tau sqrt(d_h)) + M) in every self-attention layer, for inference only. In
transformers 5.x the BERT-family self-attention modules carry ``scaling = head_dim ** -0.5`` and
hand it to every attention kernel (eager, sdpa, flash), so setting ``scaling = head_dim ** -0.5 /
tau`` is exact for every implementation. The encoders are shared by every browser session, so the
patch holds the encoder's forward-pass lock for the whole block: nobody else can run the model,
at another temperature or at none, while it is patched.
"""

from __future__ import annotations

import math
import threading
from types import TracebackType

import torch

from analysis.core.errors import UserError
from analysis.models.encoders import Encoder


def self_attention_modules(model: torch.nn.Module) -> list[torch.nn.Module]:
    """The self-attention modules of a BERT-family model (cross-attention is left alone)."""
    return [
        module
        for module in model.modules()
        if type(module).__name__.endswith("SelfAttention")
        and hasattr(module, "scaling")
        and hasattr(module, "attention_head_size")
    ]


def transformer_of(encoder: Encoder) -> tuple[torch.nn.Module, threading.Lock]:
    """The Hugging Face model inside an encoder and the lock that guards its forward passes."""
    hidden = encoder._hidden
    if hidden is None:
        raise UserError(
            f"{encoder.info.name} has no attention layers, so TempScale and the length "
            "diagnostics cannot run on it; choose a transformer model."
        )
    return hidden.model, hidden.lock


class TempScale:
    """``with TempScale(model, 0.8, lock):`` runs the model with attention temperature 0.8.

    Fails loudly (RuntimeError) when the number of patched modules is not the model's number of
    layers, or when a module's scaling is not the standard head_dim ** -0.5 (an unknown model,
    or a patch already in place): a silent partial patch would make every number wrong. On exit
    the original scalings are put back, so tau = 1 is bit-identical to the unpatched model.
    """

    def __init__(
        self, model: torch.nn.Module, tau: float, lock: threading.Lock | None = None
    ) -> None:
        if not (math.isfinite(tau) and tau > 0):
            raise UserError(f"The attention temperature must be a positive number, not {tau}.")
        self.model = model
        self.tau = float(tau)
        self._lock = lock
        self._saved: list[tuple[torch.nn.Module, float]] = []

    @classmethod
    def on(cls, encoder: Encoder, tau: float) -> TempScale:
        """TempScale on an encoder's shared model, holding the encoder's lock."""
        model, lock = transformer_of(encoder)
        return cls(model, tau, lock)

    @property
    def patched(self) -> int:
        return len(self._saved)

    def __enter__(self) -> TempScale:
        if self._lock is not None:
            self._lock.acquire()
        try:
            modules = self_attention_modules(self.model)
            expected = getattr(self.model.config, "num_hidden_layers", None)
            if len(modules) != expected:
                raise RuntimeError(
                    f"TempScale found {len(modules)} self-attention modules with a 'scaling' "
                    f"attribute but the model has {expected} layers; refusing a partial patch."
                )
            for module in modules:
                standard = module.attention_head_size**-0.5
                if module.scaling != standard:
                    raise RuntimeError(
                        f"{type(module).__name__}.scaling is {module.scaling}, not the standard "
                        f"{standard}: another TempScale is active or the model scales differently."
                    )
            self._saved = [(module, module.scaling) for module in modules]
            for module, original in self._saved:
                module.scaling = original / self.tau
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            for module, original in self._saved:
                module.scaling = original
            self._saved = []
        finally:
            self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
