"""HDBSCAN's settings suggested from the corpus size: one rule for the engine, page and CLI.

Kept apart from ``clustering`` (which imports scikit-learn) so the command line can state the
rule in its help without loading the clustering stack.

min_samples decides how much is noise. Equal to min_cluster_size (scikit-learn's default, and
ours before) it left 2,000 short quotes all noise; on 1,968 one-line Python docstrings (MiniLM,
PCA to 50) 10 / 3, what this rule gives, found 29 clusters holding 36% of the texts where
19 / 19 found 3 clusters holding 9%.
"""

from __future__ import annotations

HDBSCAN_RULE = (
    "suggested from the corpus size n: min_cluster_size = n / 200 rounded, at least 5 (at most "
    "n); min_samples = min_cluster_size / 3 rounded down, between 2 and 10 (at most "
    "min_cluster_size)"
)


def hdbscan_settings(
    n: int, min_cluster_size: int | None = None, min_samples: int | None = None
) -> tuple[int, int]:
    """(min_cluster_size, min_samples) for n documents: the given values, the rest by
    HDBSCAN_RULE (min_samples from the given min_cluster_size, if any)."""
    if min_cluster_size is None:
        min_cluster_size = min(n, max(5, round(n / 200)))
    if min_samples is None:
        min_samples = min(min_cluster_size, 10, max(2, min_cluster_size // 3))
    return min_cluster_size, min_samples
