"""One forward pass over a length sample at one attention temperature, streamed batch by batch.

Every batch yields the model's own sentence embedding, every layer mean-pooled (layer 0 = the
embedding output, before any attention), and the token over-smoothing statistics of every layer;
the token states themselves are dropped after each batch, so memory stays at one batch of hidden
states whatever the sample size.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from analysis.core.progress import ProgressFn
from analysis.length.sample import LengthSample
from analysis.length.tempscale import TempScale, transformer_of
from analysis.models.encoders import Encoder
from analysis.models.pooling import pool

TOKEN_BUDGET = 4096  # padded positions per batch: long batches as fast per token as short ones
Head = Callable[[dict[str, torch.Tensor]], torch.Tensor]


@dataclass
class TauPass:
    """What one pass produced; arrays follow the sample's item order."""

    embeddings: np.ndarray  # [n, dim] unit vectors: the model's own sentence embedding
    layers: np.ndarray  # [layers + 1, n, d] unit vectors: mean-pooled states per layer
    hc_dc: np.ndarray  # [layers + 1, k] mean over texts of ||(I-J)X|| / ||JX||
    token_mpc: np.ndarray  # [layers + 1, k] mean over texts of the pairwise cosine of own tokens
    seconds: float


def encode_batch(tokenizer: Any, texts: list[str], max_tokens: int) -> dict[str, torch.Tensor]:
    """Token ids as the model's tokenizer makes them, cut to ``max_tokens`` positions.

    The tokenizer's own truncation keeps the first max_tokens - 2 word pieces and adds [CLS] and
    [SEP], so a text of at least that many pieces reaches the model with exactly max_tokens
    positions; nothing is decoded and re-tokenised.
    """
    return tokenizer(
        texts, padding=True, truncation=True, max_length=max_tokens, return_tensors="pt"
    )


def sentence_head(encoder: Encoder) -> Head:
    """The modules after the transformer (pooling, normalisation, dense layers, ...).

    Feeding them the transformer's last hidden state gives exactly the model's own embedding
    without a second forward pass. The random-weights control has no such modules: its
    embedding is the mean-pooled last layer.
    """
    st_model = getattr(encoder, "model", None)
    if st_model is None:
        return lambda f: pool(f["token_embeddings"], f["attention_mask"], "mean")
    modules = list(st_model)[1:]

    def head(features: dict[str, torch.Tensor]) -> torch.Tensor:
        for module in modules:
            features = module(features)
        return features["sentence_embedding"]

    return head


def batches(items: np.ndarray, tokens: np.ndarray) -> list[np.ndarray]:
    """Items sorted by length, cut into batches of at most TOKEN_BUDGET padded positions."""
    order = items[np.argsort(tokens[items], kind="stable")]
    out: list[list[int]] = [[]]
    for item in order:
        if out[-1] and (len(out[-1]) + 1) * int(tokens[item]) > TOKEN_BUDGET:
            out.append([])
        out[-1].append(int(item))
    return [np.asarray(batch) for batch in out if batch]


def _unit(matrix: torch.Tensor) -> torch.Tensor:
    return matrix / matrix.norm(dim=-1, keepdim=True).clamp(min=1e-12)


def smoothing(states: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per text: HC/DC energy ratio ||(I-J)X||_F / ||JX||_F and the mean pairwise cosine of its
    own tokens, over the non-padding rows of [batch, tokens, d] states."""
    m = mask.unsqueeze(-1).to(states.dtype)
    n = m.sum(dim=1).squeeze(-1)
    mean = (states * m).sum(dim=1) / n.unsqueeze(-1)
    dc = n * (mean * mean).sum(dim=-1)
    total = (states * states * m).sum(dim=(1, 2))
    ratio = ((total - dc).clamp(min=0) / dc.clamp(min=1e-12)).sqrt()
    unit_mean = (_unit(states) * m).sum(dim=1) / n.unsqueeze(-1)
    cosine = (n * (unit_mean * unit_mean).sum(dim=-1) - 1) / (n - 1).clamp(min=1)
    return ratio, cosine


def run_pass(
    encoder: Encoder, sample: LengthSample, tau: float, progress: ProgressFn | None = None
) -> TauPass:
    """The whole sample through the model at temperature ``tau`` (holding the model's lock)."""
    model, _ = transformer_of(encoder)
    tokenizer = encoder._hidden.tokenizer
    head = sentence_head(encoder)
    n_layers = int(encoder.info.n_layers) + 1
    embeddings = np.empty((sample.n_texts, encoder.info.dim), dtype=np.float32)
    layers = np.empty((n_layers, sample.n_texts, model.config.hidden_size), dtype=np.float32)
    hc_dc = np.zeros((n_layers, sample.k))
    token_mpc = np.zeros((n_layers, sample.k))
    done = 0
    start = time.perf_counter()
    with TempScale.on(encoder, tau) as scaled, torch.inference_mode():
        for b in range(sample.k):
            for chunk in batches(sample.items_of(b), sample.tokens):
                enc = encode_batch(
                    tokenizer, [sample.texts[i] for i in chunk], int(sample.max_tokens[chunk[0]])
                )
                hidden = scaled.model(**enc, output_hidden_states=True).hidden_states
                mask = enc["attention_mask"]
                features = {**enc, "token_embeddings": hidden[-1]}
                embeddings[chunk] = _unit(head(features)).numpy()
                layers[:, chunk] = torch.stack([_unit(pool(h, mask, "mean")) for h in hidden])
                for layer, states in enumerate(hidden):
                    ratio, cosine = smoothing(states, mask)
                    hc_dc[layer, b] += float(ratio.sum())
                    token_mpc[layer, b] += float(cosine.sum())
                done += chunk.size
                if progress is not None:
                    progress(done, sample.n_texts)
    counts = np.bincount(sample.bucket, minlength=sample.k)
    return TauPass(
        embeddings=embeddings,
        layers=layers,
        hc_dc=hc_dc / counts,
        token_mpc=token_mpc / counts,
        seconds=time.perf_counter() - start,
    )
