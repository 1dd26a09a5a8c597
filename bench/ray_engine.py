"""Issue #13's Ray row, measured: `embed --engine ray` on a local Ray instance against the
in-process path, the same uncached demo texts, each into a fresh store, vectors compared.

    .venv/bin/python bench/ray_engine.py [--texts 2000]

The Ray side includes starting the local instance and one model load per actor: what a user of
`--engine ray` without a cluster pays. The local side loads the model once, before the clock.
Reports only.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.core.config import Limits  # noqa: E402
from analysis.core.store import Store  # noqa: E402
from analysis.corpus.corpora import IngestOptions, get_corpus  # noqa: E402
from analysis.corpus.readers import read_bytes  # noqa: E402
from analysis.models.encoders import load_encoder  # noqa: E402
from analysis.vectors.catalogue import corpus_models, load_vectors  # noqa: E402
from analysis.vectors.embedding import embed_corpus  # noqa: E402
from analysis.vectors.ingest import ingest  # noqa: E402

DEMO = ROOT / "data" / "demo" / "stdlib_docs.csv"


def embedded(workdir: Path, texts: list[str], engine: str) -> tuple[float, np.ndarray]:
    """Seconds of `embed_corpus` with this engine on a fresh store, and the stored vectors."""
    store = Store(workdir / f"{engine}.duckdb")
    csv = pd.DataFrame({"text": texts}).to_csv(index=False).encode("utf-8")
    ingest(store, [read_bytes(csv, "docs.csv", Limits())], IngestOptions(name="docs"))
    start = time.perf_counter()
    embed_corpus(store, "docs", engine=engine)
    seconds = time.perf_counter() - start
    corpus = get_corpus(store, "docs")
    (model,) = corpus_models(store, corpus)
    return seconds, load_vectors(store, corpus, model.model_key, model.dim)


def main() -> int:  # reports only: no target to miss
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2000)
    args = parser.parse_args()
    texts = pd.read_csv(DEMO)["text"].tolist()[: args.texts]
    load_encoder("default")
    with tempfile.TemporaryDirectory() as tmp:
        local_seconds, local = embedded(Path(tmp), texts, "local")
        ray_seconds, on_ray = embedded(Path(tmp), texts, "ray")
    print(
        f"{len(texts)} uncached demo texts: in-process {local_seconds:.1f} s, Ray local "
        f"{ray_seconds:.1f} s (instance start and actor model loads included), overhead "
        f"{ray_seconds / local_seconds:.2f}x; max |difference| {np.abs(local - on_ray).max():.1e}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
