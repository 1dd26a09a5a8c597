"""Export a local sentence-transformers transformer to ONNX and quantize it to int8, once.

Why this recipe (measured on 1,000 demo docstrings, 2 cores, against plain
``SentenceTransformer.encode``): a straight ``torch.onnx.export`` quantized with
``quantize_dynamic`` ran at only 0.7-1.2x plain, because the exported attention stays a chain of
small ops. Exporting with eager attention lets ONNX Runtime's BERT optimizer fuse it (Attention,
EmbedLayerNormalization, SkipLayerNormalization, BiasGelu) before quantizing, which gave about
1.6-1.9x. Weights are signed int8 per output channel: per-tensor scales dropped the mean cosine
to fp32 from 0.993 to 0.958; unsigned weights were slower at the same fidelity. Static
quantization (activations calibrated by MinMax on 256 other docstrings, QOperator, per-channel
MatMuls) was both slower (1.3x) and far less faithful (mean cosine 0.933, top-10 overlap 0.75
against 0.993 and 0.905), so activations are quantized dynamically, per batch.

The file is written once per weights hash and recipe under the model cache folder
(``EMBEDLENS_MODEL_CACHE``, else the user's cache dir), atomically, so two processes exporting at
the same time both end up with a complete file.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from pathlib import Path

from analysis.core import config  # noqa: F401  (sets HF_HUB_OFFLINE before transformers loads)

#: Names the quantization recipe in model keys and file names; change it when the recipe changes.
RECIPE = "ort-fused-dynamic-qint8-perchannel"
CACHE_ENV_VAR = "EMBEDLENS_MODEL_CACHE"
_OPSET = 17


def model_cache_dir() -> Path:
    """Where exported models live: ``EMBEDLENS_MODEL_CACHE``, else ``$XDG_CACHE_HOME/embedlens``."""
    explicit = os.environ.get(CACHE_ENV_VAR)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "embedlens" / "onnx"


def int8_model_file(model_dir: str, name: str, weights_hash: str) -> Path:
    """The int8 ONNX file for these weights, exported and quantized on first use only."""
    target = model_cache_dir() / f"{name}-{weights_hash}-{RECIPE}.onnx"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as work:
        fused = Path(work) / "fused.onnx"
        quantized = Path(work) / "int8.onnx"
        export_fused_fp32(model_dir, fused)
        _quantize(fused, quantized)
        os.replace(quantized, target)  # atomic: readers see no file or a whole one
    return target


def export_fused_fp32(model_dir: str, out: Path) -> None:
    """The exact (fp32) graph with ONNX Runtime's fusions: what int8 quantizes, and what
    bench/exact_backends.py runs against torch."""
    raw = out.with_name(out.stem + "-unfused.onnx")
    export_fp32(model_dir, raw)
    _fuse(model_dir, raw, out)
    raw.unlink()


def export_fp32(model_dir: str, out: Path) -> None:
    """The transformer's last hidden state as an ONNX graph with dynamic batch and length (runs
    on any ONNX runtime; the fused graph only on ONNX Runtime)."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(model_dir, attn_implementation="eager").eval()

    class LastHidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    dummy = torch.ones((2, 8), dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    # The tracer warns about shape checks it freezes; the graph is checked against fp32 in tests.
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            LastHidden(),
            (dummy, dummy),
            str(out),
            dynamo=False,
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
            opset_version=_OPSET,
        )


def _fuse(model_dir: str, fp32: Path, out: Path) -> None:
    """ONNX Runtime's BERT fusions, which the int8 kernels need to be faster than torch."""
    from onnxruntime.transformers import optimizer
    from transformers import AutoConfig

    cfg = AutoConfig.from_pretrained(model_dir)
    fused = optimizer.optimize_model(
        str(fp32),
        model_type="bert",
        num_heads=int(cfg.num_attention_heads),
        hidden_size=int(cfg.hidden_size),
        opt_level=0,
    )
    fused.save_model_to_file(str(out))


def _quantize(fused: Path, out: Path) -> None:
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The quantizer logs a generic "consider pre-processing" advice on the root logger, which
    # would read like a fault on the command line; the fusions above are that pre-processing.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        quantize_dynamic(
            str(fused),
            str(out),
            per_channel=True,
            weight_type=QuantType.QInt8,
            # Fused ops come from ONNX Runtime's own domain, where shape inference finds no types.
            extra_options={"DefaultTensorType": TensorProto.FLOAT},
        )
    finally:
        root.setLevel(level)
