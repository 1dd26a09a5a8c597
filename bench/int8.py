"""Issue #13's int8 acceptance, measured: ``default-int8`` against plain
``SentenceTransformer.encode`` on the same demo texts, in one process, alternating.

    .venv/bin/python bench/int8.py [--texts 2000] [--repetitions 4]

Both sides encode the same texts (the first N docstrings of data/demo/stdlib_docs.csv) after a
small warm-up; the ratio is plain seconds / int8 seconds, best run of each (and the median of the
ratios of neighbouring runs). Fidelity compares the
two sides' vectors: mean and minimum cosine, and the mean share of each text's 10 nearest texts
that both agree on. The export goes to a temporary model cache, so its cost is not timed and no
user cache is touched. Exits 1 below the target (>= 1.6x, mean cosine >= 0.99, overlap >= 0.9).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/int8.py` puts bench/, not the root, on sys.path
    sys.path.insert(0, str(ROOT))

from analysis.models.encoders import default_model_path, load_encoder  # noqa: E402
from analysis.models.int8_encoder import INT8_SPEC, compare  # noqa: E402
from analysis.models.onnx_export import CACHE_ENV_VAR  # noqa: E402
from bench.run import DEMO_CSV, alternate_times  # noqa: E402

TARGET_RATIO, TARGET_COSINE, TARGET_OVERLAP = 1.6, 0.99, 0.9


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--repetitions", type=int, default=4)
    args = parser.parse_args()

    from sentence_transformers import SentenceTransformer

    texts = pd.read_csv(DEMO_CSV)["text"].astype(str).tolist()[: args.texts]
    plain_model = SentenceTransformer(default_model_path(), device="cpu")
    with tempfile.TemporaryDirectory() as cache:
        os.environ[CACHE_ENV_VAR] = cache
        int8 = load_encoder(INT8_SPEC)
        pieces = sum(len(ids) for ids in plain_model.tokenizer(texts, truncation=True)["input_ids"])
        vectors: dict[str, object] = {}

        def plain(_: int) -> None:
            vectors["plain"] = plain_model.encode(
                texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False
            )

        def ours(_: int) -> None:
            vectors["int8"] = int8.encode(texts)

        plain_model.encode(texts[:32])  # warm-up: lazy initialisation on both sides
        int8.encode(texts[:32])
        load_before = os.getloadavg()
        ours_s, plain_s = alternate_times(ours, plain, args.repetitions)
        load_after = os.getloadavg()
    fidelity = compare(vectors["plain"], vectors["int8"])  # type: ignore[arg-type]
    ratio = min(plain_s) / min(ours_s)
    result = {
        "texts": len(texts),
        "word_pieces": pieces,
        "int8_seconds": ours_s,
        "plain_seconds": plain_s,
        "int8_tokens_per_s": round(pieces / min(ours_s)),
        "plain_tokens_per_s": round(pieces / min(plain_s)),
        "ratio_best": round(ratio, 3),
        # Each run against the other side's run next to it: steadier when the load comes and goes.
        "ratio_paired_median": round(
            statistics.median(p / o for p, o in zip(plain_s, ours_s, strict=True)), 3
        ),
        "mean_cosine": round(fidelity.mean_cosine, 4),
        "min_cosine": round(fidelity.min_cosine, 4),
        "top10_overlap": round(fidelity.top10_overlap, 3),
        "load_average_before_after": [load_before, load_after],
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    passed = (
        ratio >= TARGET_RATIO
        and fidelity.mean_cosine >= TARGET_COSINE
        and fidelity.top10_overlap >= TARGET_OVERLAP
    )
    print(
        f"default-int8 {ratio:.2f}x plain (target >= {TARGET_RATIO}x), mean cos "
        f"{fidelity.mean_cosine:.4f}, top-10 overlap {fidelity.top10_overlap:.3f}: "
        f"{'PASS' if passed else 'FAIL'}",
        file=sys.stderr,
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
