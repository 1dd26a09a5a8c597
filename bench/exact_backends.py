"""Issue #13 items 3 and 5, measured: the exact (fp32) path on torch against the same weights
exported to ONNX and run by ONNX Runtime (and OpenVINO when installed), and ``default-int8``, on a
quiet machine and with the cores also busy.

"Busy" is a second process encoding with plain sentence-transformers in a loop, as a second job
or another user would. Both backends encode the same demo docstrings, alternating, in this
process; vectors are compared (max |difference|), so a backend that is faster but not exact
shows it.

    .venv/bin/python bench/exact_backends.py [--texts 500] [--repetitions 2]

Prints a table (seconds, tokens/s, ratio ONNX/torch) for each condition; reports only.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.models.encoders import default_model_path, load_encoder  # noqa: E402
from analysis.models.int8_encoder import INT8_SPEC  # noqa: E402
from analysis.models.onnx_export import CACHE_ENV_VAR, export_fp32, export_fused_fp32  # noqa: E402

DEMO = ROOT / "data" / "demo" / "stdlib_docs.csv"
LOAD = (
    "import pandas as pd\n"
    "from sentence_transformers import SentenceTransformer\n"
    "from analysis.models.encoders import default_model_path\n"
    f"texts = pd.read_csv({str(DEMO)!r})['text'].tolist()[1000:1500]\n"
    "model = SentenceTransformer(str(default_model_path()), device='cpu')\n"
    "print('ready', flush=True)\n"
    "while True:\n"
    "    model.encode(texts, batch_size=32)\n"
)


class ExportedFp32:
    """An fp32 export run by another runtime, pooled and normalised like the torch path."""

    def __init__(self, forward: Callable[[dict[str, np.ndarray]], np.ndarray]) -> None:
        from transformers import AutoTokenizer

        self.forward = forward
        self.tokenizer = AutoTokenizer.from_pretrained(str(default_model_path()))

    def encode(self, texts: list[str]) -> np.ndarray:
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), 384), np.float32)
        for start in range(0, len(texts), 32):
            idx = order[start : start + 32]
            enc = self.tokenizer(
                [texts[i] for i in idx],
                padding=True,
                truncation=True,
                max_length=256,
                return_tensors="np",
            )
            feeds = {k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask")}
            hidden = self.forward(feeds)
            mask = feeds["attention_mask"][..., None].astype(np.float32)
            mean = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            out[idx] = mean / np.linalg.norm(mean, axis=1, keepdims=True)
        return out


def onnx_runtime(model_file: Path) -> Callable[[dict[str, np.ndarray]], np.ndarray]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(model_file), options, ["CPUExecutionProvider"])
    return lambda feeds: session.run(None, feeds)[0]


def openvino_runtime(model_file: Path) -> Callable[[dict[str, np.ndarray]], np.ndarray] | None:
    """OpenVINO on the unfused export (it cannot read ONNX Runtime's fused ops); None when the
    optional package is missing (`pip install openvino==2026.4.1`)."""
    try:
        import openvino as ov
    except ImportError:
        return None
    # f32 explicitly: on CPUs with bf16 support OpenVINO otherwise runs in bf16 (not exact).
    compiled = ov.Core().compile_model(str(model_file), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    return lambda feeds: compiled(feeds)[0]


def rounded(values: list[float]) -> list[float]:
    return [round(v, 2) for v in values]


def timed(encode, texts: list[str]) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    vectors = encode(texts)
    return time.perf_counter() - start, vectors


def main() -> int:  # reports only: no target to miss
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=500)
    parser.add_argument("--repetitions", type=int, default=2)
    args = parser.parse_args()
    texts = pd.read_csv(DEMO)["text"].tolist()[: args.texts]
    torch_encoder = load_encoder("default")
    tokens = sum(
        min(len(ids), 256)
        for ids in torch_encoder.tokenizer(texts, truncation=True, max_length=256)["input_ids"]
    )
    with tempfile.TemporaryDirectory() as tmp:
        fused, plain = Path(tmp) / "fp32-fused.onnx", Path(tmp) / "fp32.onnx"
        export_fused_fp32(str(default_model_path()), fused)
        export_fp32(str(default_model_path()), plain)
        backends: dict[str, Callable[[list[str]], np.ndarray]] = {
            "torch": torch_encoder.encode,
            "ONNX Runtime": ExportedFp32(onnx_runtime(fused)).encode,
        }
        os.environ[CACHE_ENV_VAR] = tmp  # the int8 export goes here, not to the user's cache
        backends["default-int8 (not exact)"] = load_encoder(INT8_SPEC).encode
        openvino = openvino_runtime(plain)
        if openvino is None:
            print("openvino not installed: its column is left out")
        else:
            backends["OpenVINO"] = ExportedFp32(openvino).encode
        for encode in backends.values():
            encode(texts[:32])
        rows = []
        for condition in ("quiet", "busy"):
            load = None
            if condition == "busy":
                env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
                load = subprocess.Popen(
                    [sys.executable, "-c", LOAD], env=env, stdout=subprocess.PIPE, text=True
                )
                assert load.stdout is not None and load.stdout.readline().strip() == "ready"
            try:
                runs: dict[str, list[float]] = {name: [] for name in backends}
                outputs: dict[str, np.ndarray] = {}
                for _ in range(args.repetitions):
                    for name, encode in backends.items():
                        seconds, outputs[name] = timed(encode, texts)
                        runs[name].append(seconds)
            finally:
                if load is not None:
                    load.kill()
                    load.wait()
            rows.append((condition, runs, outputs))
    print(f"{len(texts)} demo docstrings, {tokens:,} word pieces, best of {args.repetitions}")
    for condition, runs, outputs in rows:
        torch_best = min(runs["torch"])
        for name, values in runs.items():
            best = min(values)
            diff = float(np.abs(outputs[name] - outputs["torch"]).max())
            print(
                f"{condition:5} | {name:24} | best {best:5.2f} s | {tokens / best:6,.0f} tok/s | "
                f"{torch_best / best:.2f}x torch | max |diff| {diff:.1e} | runs {rounded(values)}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
