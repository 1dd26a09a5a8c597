"""Encoding across machines: a Ray Data pipeline over a pool of encoder actors.

Why Ray Data and actors: each actor loads the model once and encodes batch after batch, on as
many machines as the cluster has; the driver (this process) keeps the store, feeds the texts in
and writes the vectors back into the cache chunk by chunk, exactly as the local path does. The
vectors travel as Arrow tensors with their text hashes, so the order the batches come back in
does not matter.

Without an address (and without ``RAY_ADDRESS``) a local Ray instance is started: how the tests
run it. With one, the project folder is shipped to the cluster as the job's working directory;
the workers need the same Python packages installed (requirements.txt).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from analysis.core.config import PROJECT_ROOT
from analysis.core.errors import UserError
from analysis.core.progress import ProgressFn

#: Texts per actor call: large enough to keep an actor busy, small enough to spread the work.
ACTOR_BATCH = 256
#: What never goes to a remote cluster with the code.
SHIPPING_EXCLUDES = [".venv/", ".git/", "*.duckdb", "*.duckdb.*", "bench/results/", "data/demo/"]


class _EncoderActor:
    """One model load per actor; each call encodes a batch of texts (in the input order)."""

    def __init__(self, model_spec: str) -> None:
        from analysis.models.encoders import load_encoder

        self.encoder = load_encoder(model_spec)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.encoder.encode([str(text) for text in batch["text"]])
        return {"text_sha256": batch["text_sha256"], "vector": vectors}


def _connect(address: str | None) -> None:
    """Join the cluster at ``address`` (or ``RAY_ADDRESS``), else start a local instance."""
    import ray

    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address is not None:
        _check_reachable(address)
    env_vars = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    if address is None:
        runtime_env = {"env_vars": {**env_vars, "PYTHONPATH": str(PROJECT_ROOT)}}
    else:
        runtime_env = {
            "env_vars": env_vars,
            "working_dir": str(PROJECT_ROOT),
            "excludes": SHIPPING_EXCLUDES,
        }
    try:
        ray.init(
            address=address,
            runtime_env=runtime_env,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.ERROR,  # warnings about defaults (token auth) are not ours
        )
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise UserError(f"Cannot reach the Ray cluster at {address}: {exc}") from exc


def _check_reachable(address: str) -> None:
    """Fail in seconds on an address nobody answers at: Ray itself retries for minutes."""
    if address in ("auto", "local"):
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=5).close()
    except (OSError, ValueError) as exc:
        raise UserError(
            f"Cannot reach the Ray cluster at {address} ({exc}). Give the head node's address "
            "as host:port (or ray://host:port for Ray Client), or leave --address out to start "
            "a local Ray instance."
        ) from exc


def ray_chunks(
    model_spec: str,
    texts: list[str],
    hashes: list[str],
    chunk_texts: int,
    progress: ProgressFn | None,
    address: str | None = None,
) -> Iterator[tuple[list[str], np.ndarray]]:
    """(text hashes, vectors) in chunks of ``chunk_texts``, encoded by the cluster's actors."""
    if model_spec.strip() == "lsa":
        raise UserError(
            "The LSA baseline is fitted on the whole corpus in one process; embed it without "
            "--engine ray."
        )
    import ray
    import ray.data

    _connect(address)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # progress is ours, per written chunk
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
    # One block per actor call, made here: a repartition task would wait for a CPU the actors hold.
    blocks = [
        pa.table({"text_sha256": hashes[i : i + ACTOR_BATCH], "text": texts[i : i + ACTOR_BATCH]})
        for i in range(0, len(texts), ACTOR_BATCH)
    ]
    dataset = ray.data.from_arrow(blocks)
    encoded = dataset.map_batches(
        _EncoderActor,
        fn_constructor_kwargs={"model_spec": model_spec},
        batch_size=ACTOR_BATCH,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=min(cpus, len(blocks))),
        num_cpus=1,
    )
    total = len(texts)
    done = 0
    if progress is not None:
        progress(0, total)
    for batch in encoded.iter_batches(batch_size=chunk_texts, batch_format="numpy"):
        vectors = np.asarray(batch["vector"], dtype=np.float32)
        done += len(vectors)
        yield [str(h) for h in batch["text_sha256"]], vectors
        if progress is not None:
            progress(done, total)
