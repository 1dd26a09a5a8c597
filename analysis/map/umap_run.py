"""umap-learn run in stages a background job can follow and cancel: on every point, or fitted on a
seeded sample with the rest placed by the fitted model.

umap-learn reports its layout epochs only through a tqdm bar (``tqdm_kwds``), not a callback. The
bar is pointed at :class:`_EpochStream`, which formats each refresh as 'done total' and turns it
back into ``progress(done, total)``; the page then shows the fraction of epochs and the time left
at the measured rate, and a cancel raised by the progress callback stops the loop between epochs.

The sampled fit (``fit_sample``) draws its rows from their own seed stream, ``(seed, 1)``, so they
are independent of the faithfulness evaluation sample (``quality.map_quality`` with
``projection.EVALUATION_SEED``), which every map of a corpus shares: the scores of a full and a
sampled map rest on the same points and are comparable.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Callable
from typing import Protocol

import numpy as np

from analysis.core.progress import ProgressFn, report_stage

FIT_SAMPLE_STREAM = 1  # second entropy word of the fit sample's seed: a stream of its own
TRANSFORM_BATCH = 20_000  # rows placed per transform call: bounds memory, lets a cancel through
LAYOUT_STAGE = "layout epochs"
PLACING_STAGE = "placing the rest with transform"
_UMAP_LOCK = threading.Lock()  # numba-parallel UMAP runs one at a time per process


class UmapSettings(Protocol):
    """The UMAP knobs of a ``projection.ProjectionParams`` (named here, not imported: it
    imports this module)."""

    dims: int
    seed: int
    n_neighbors: int
    min_dist: float
    densmap: bool
    fit_sample: int | str | None


def fit_sample_rows(n_points: int, size: int, seed: int) -> np.ndarray:
    """The sorted row positions UMAP is fitted on: ``size`` of ``n_points``, drawn without
    replacement from the seed stream ``(seed, FIT_SAMPLE_STREAM)``."""
    rng = np.random.default_rng([seed, FIT_SAMPLE_STREAM])
    return np.sort(rng.choice(n_points, size, replace=False))


class _EpochStream(io.TextIOBase):
    """The file umap-learn's tqdm bar writes to; every 'done total' refresh becomes a report.

    After the report raised (a cancel), later writes (tqdm closing the bar while the exception
    unwinds) are dropped, so the cancel is raised once and cleanly.
    """

    def __init__(self, report: Callable[[int, int], None]) -> None:
        super().__init__()
        self._report = report
        self._stopped = False

    def write(self, text: str) -> int:
        for line in text.replace("\r", "\n").split("\n"):
            numbers = line.split()
            if self._stopped or len(numbers) != 2 or not all(n.isdigit() for n in numbers):
                continue
            try:
                self._report(int(numbers[0]), int(numbers[1]))
            except BaseException:
                self._stopped = True
                _release_tqdm_lock()
                raise
        return len(text)


def _release_tqdm_lock() -> None:
    """Let go of tqdm's process-wide write lock, held around the write that is raising.

    tqdm's ``refresh()`` takes that lock around ``display()`` without try/finally, so an
    exception raised from its file (a cancel) would leave it held by a job thread that is gone,
    and every later tqdm bar made in another thread (sentence-transformers makes one per
    ``encode``) would wait on it for ever: the app hung on its next embedding.
    """
    from tqdm.auto import tqdm

    lock = tqdm.get_lock()
    if lock.locks[-1]._is_owned():  # the thread part: owned here only inside refresh()
        lock.release()


def _reducer(params: UmapSettings, knn: tuple | None, progress: ProgressFn):
    import umap

    def epochs(done: int, total: int) -> None:
        report_stage(progress, done, total, LAYOUT_STAGE)

    return umap.UMAP(
        n_neighbors=params.n_neighbors,
        min_dist=params.min_dist,
        n_components=params.dims,
        metric="cosine",
        densmap=params.densmap,
        random_state=params.seed,
        transform_seed=params.seed,
        precomputed_knn=knn if knn is not None else (None, None, None),
        tqdm_kwds={
            "disable": False,
            "file": _EpochStream(epochs),
            "bar_format": "{n} {total}\n",
            # every epoch: a cancel then lands within one epoch however fast the epochs run
            # (a time-based interval let a small map finish all of them between two refreshes)
            "mininterval": 0,
            "miniters": 1,
        },
    )


def umap_layout(
    vectors: np.ndarray, params: UmapSettings, knn: tuple, progress: ProgressFn
) -> np.ndarray:
    """UMAP of every point from the corpus's neighbour graph; reports the layout's epochs."""
    with _UMAP_LOCK, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*precomputed_knn.*")
        warnings.filterwarnings("ignore", message=".*n_jobs value.*")
        return _reducer(params, knn, progress).fit_transform(vectors)


def sampled_umap_layout(
    vectors: np.ndarray, params: UmapSettings, progress: ProgressFn, fit_stage: str
) -> np.ndarray:
    """UMAP fitted on ``params.fit_sample`` seeded rows; every other row placed by ``transform``
    (its neighbours among the sample, their weighted mean as a start, then 1/3 of the epochs with
    the sample held fixed). ``fit_stage`` names the fit's neighbour and fuzzy-graph stage."""
    n = vectors.shape[0]
    assert params.fit_sample is not None and params.fit_sample < n
    rows = fit_sample_rows(n, params.fit_sample, params.seed)
    rest = np.setdiff1d(np.arange(n), rows, assume_unique=True)
    coords = np.empty((n, params.dims), dtype=np.float32)
    with _UMAP_LOCK, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*n_jobs value.*")
        report_stage(progress, 0, 1, fit_stage)
        reducer = _reducer(params, None, progress)
        coords[rows] = reducer.fit_transform(vectors[rows])
        reducer.tqdm_kwds = {"disable": True}  # the rest reports by batch, not by epoch
        for start in range(0, rest.size, TRANSFORM_BATCH):
            report_stage(progress, start, rest.size, PLACING_STAGE)
            batch = rest[start : start + TRANSFORM_BATCH]
            coords[batch] = reducer.transform(vectors[batch])
    if not np.isfinite(coords).all():
        raise RuntimeError("UMAP transform left points without a position (no sample neighbour)")
    return coords
