"""TempScale: exact temperature in every attention softmax, restored afterwards, one at a time."""

from __future__ import annotations

import math
import threading

import pytest
import torch
import torch.nn.functional as F
from transformers import BertConfig, BertModel

from analysis.core.errors import UserError
from analysis.length.tempscale import TempScale, self_attention_modules, transformer_of
from analysis.models.encoders import LSAEncoder

TEXTS = [
    "Return the number of items in a container.",
    "Open a file and return a stream; raise OSError upon failure, for example when the "
    "file does not exist or the path names a directory.",
    "Pickle an object.",
]


def tiny_bert(attn_implementation: str) -> BertModel:
    config = BertConfig(
        vocab_size=100,
        hidden_size=32,
        num_hidden_layers=3,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=64,
        attn_implementation=attn_implementation,
    )
    torch.manual_seed(0)
    model = BertModel(config, add_pooling_layer=False).eval()
    with torch.no_grad():  # initial weights give near-uniform attention, where tau barely shows
        for module in self_attention_modules(model):
            module.query.weight.mul_(30)
            module.key.weight.mul_(30)
    return model


def padded_ids() -> dict[str, torch.Tensor]:
    """Three sequences of lengths 12, 7 and 3 padded to 12 (right padding, as BERT pads)."""
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(5, 100, (3, 12), generator=generator)
    mask = torch.zeros(3, 12, dtype=torch.long)
    for row, length in enumerate((12, 7, 3)):
        mask[row, :length] = 1
    return {"input_ids": ids * mask, "attention_mask": mask}


def reference_forward(
    model: BertModel, input_ids: torch.Tensor, attention_mask: torch.Tensor, tau: float
) -> torch.Tensor:
    """BERT written out by hand: softmax(Q K^T / (tau sqrt(d_h)) + M) in every layer.

    Independent of transformers' attention code: only the weights are read from the model.
    """
    ids, mask = input_ids, attention_mask
    config = model.config
    eps = config.layer_norm_eps
    emb = model.embeddings
    positions = torch.arange(ids.shape[1]).unsqueeze(0)
    x = (
        emb.word_embeddings.weight[ids]
        + emb.position_embeddings.weight[positions]
        + emb.token_type_embeddings.weight[torch.zeros_like(ids)]
    )
    x = F.layer_norm(x, (config.hidden_size,), emb.LayerNorm.weight, emb.LayerNorm.bias, eps)
    heads = config.num_attention_heads
    head_dim = config.hidden_size // heads
    additive = (1.0 - mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
    for layer in model.encoder.layer:
        attn = layer.attention

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(t.shape[0], t.shape[1], heads, head_dim).transpose(1, 2)

        q = split(F.linear(x, attn.self.query.weight, attn.self.query.bias))
        k = split(F.linear(x, attn.self.key.weight, attn.self.key.bias))
        v = split(F.linear(x, attn.self.value.weight, attn.self.value.bias))
        logits = q @ k.transpose(-1, -2) / (tau * math.sqrt(head_dim)) + additive
        context = (logits.softmax(dim=-1) @ v).transpose(1, 2).reshape(x.shape)
        out = attn.output
        x = F.layer_norm(
            F.linear(context, out.dense.weight, out.dense.bias) + x,
            (config.hidden_size,),
            out.LayerNorm.weight,
            out.LayerNorm.bias,
            eps,
        )
        hidden = F.gelu(F.linear(x, layer.intermediate.dense.weight, layer.intermediate.dense.bias))
        x = F.layer_norm(
            F.linear(hidden, layer.output.dense.weight, layer.output.dense.bias) + x,
            (config.hidden_size,),
            layer.output.LayerNorm.weight,
            layer.output.LayerNorm.bias,
            eps,
        )
    return x


def _max_gap(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> float:
    keep = mask.bool()
    return float((a[keep] - b[keep]).abs().max())


@pytest.mark.parametrize("implementation", ["sdpa", "eager"])
def test_tau_equals_an_independent_reimplementation(implementation: str) -> None:
    model = tiny_bert(implementation)
    batch = padded_ids()
    with torch.inference_mode():
        plain = model(**batch).last_hidden_state
        assert (
            _max_gap(plain, reference_forward(model, **batch, tau=1.0), batch["attention_mask"])
            < 1e-5
        )
        with TempScale(model, 0.7):
            scaled = model(**batch).last_hidden_state
        expected = reference_forward(model, **batch, tau=0.7)
    assert _max_gap(scaled, expected, batch["attention_mask"]) < 1e-5
    assert _max_gap(scaled, plain, batch["attention_mask"]) > 1e-3  # the patch does something


def test_minilm_at_tau_08_on_a_padded_batch(default_encoder) -> None:
    model, _ = transformer_of(default_encoder)
    batch = default_encoder._hidden.tokenizer(TEXTS, padding=True, return_tensors="pt")
    assert batch["attention_mask"].sum(dim=1).tolist()[2] < batch["attention_mask"].shape[1]
    with torch.inference_mode():
        with TempScale.on(default_encoder, 0.8):
            scaled = model(**batch).last_hidden_state
        expected = reference_forward(model, batch["input_ids"], batch["attention_mask"], 0.8)
    assert _max_gap(scaled, expected, batch["attention_mask"]) < 1e-5


def test_tau_one_is_bit_identical_and_everything_is_restored(default_encoder) -> None:
    model, lock = transformer_of(default_encoder)
    batch = default_encoder._hidden.tokenizer(TEXTS, padding=True, return_tensors="pt")
    before = [module.scaling for module in self_attention_modules(model)]
    with torch.inference_mode():
        plain = model(**batch, output_hidden_states=True).hidden_states
        with TempScale.on(default_encoder, 1.0) as scale:
            assert scale.patched == model.config.num_hidden_layers == 6
            assert lock.locked()
            same = model(**batch, output_hidden_states=True).hidden_states
        with TempScale.on(default_encoder, 0.5):
            pass
        after = model(**batch, output_hidden_states=True).hidden_states
    assert all(torch.equal(a, b) for a, b in zip(plain, same, strict=True))
    assert all(torch.equal(a, b) for a, b in zip(plain, after, strict=True))
    assert [module.scaling for module in self_attention_modules(model)] == before
    assert not lock.locked()


def test_every_layer_is_patched_while_inside() -> None:
    model = tiny_bert("sdpa")
    standard = 8**-0.5
    with TempScale(model, 0.8) as scale:
        assert scale.patched == 3
        assert [m.scaling for m in self_attention_modules(model)] == [standard / 0.8] * 3
    assert [m.scaling for m in self_attention_modules(model)] == [standard] * 3
    assert scale.patched == 0


def test_restored_and_unlocked_after_an_exception() -> None:
    model = tiny_bert("sdpa")
    lock = threading.Lock()
    with pytest.raises(ValueError, match="inside"), TempScale(model, 0.5, lock):
        assert lock.locked()
        raise ValueError("inside the block")
    assert [m.scaling for m in self_attention_modules(model)] == [8**-0.5] * 3
    assert not lock.locked()


def test_a_partial_patch_fails_loudly_and_changes_nothing() -> None:
    model = tiny_bert("sdpa")
    model.config.num_hidden_layers = 4  # one layer the patch cannot find
    lock = threading.Lock()
    with (
        pytest.raises(RuntimeError, match=r"3 self-attention modules .* 4 layers"),
        TempScale(model, 0.8, lock),
    ):
        pass
    assert [m.scaling for m in self_attention_modules(model)] == [8**-0.5] * 3
    assert not lock.locked()


def test_two_temperatures_never_stack_on_one_model() -> None:
    model = tiny_bert("sdpa")
    with (
        TempScale(model, 0.8),
        pytest.raises(RuntimeError, match="another TempScale"),
        TempScale(model, 0.9),
    ):
        pass
    assert [m.scaling for m in self_attention_modules(model)] == [8**-0.5] * 3


def test_another_thread_waits_for_the_block(default_encoder) -> None:
    _, lock = transformer_of(default_encoder)
    entered = threading.Event()
    results: list[bool] = []

    def other_session() -> None:
        entered.wait()
        results.append(lock.acquire(timeout=0.2))  # must time out: the block holds the lock
        if results[-1]:
            lock.release()

    worker = threading.Thread(target=other_session)
    worker.start()
    with TempScale.on(default_encoder, 0.9):
        entered.set()
        worker.join()
    assert results == [False]


@pytest.mark.parametrize("tau", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_temperatures_are_rejected(tau: float) -> None:
    with pytest.raises(UserError, match="positive"):
        TempScale(tiny_bert("sdpa"), tau)


def test_an_encoder_without_attention_is_explained() -> None:
    lsa = LSAEncoder(["one text here", "another text there", "a third small text"])
    with pytest.raises(UserError, match="no attention layers"):
        transformer_of(lsa)
