"""Process-wide settings: where the store lives, input limits, offline mode.

Offline mode is set on import, before any Hugging Face library is loaded, so nothing in EmbedLens
can reach a model hub by accident; a user who has network can opt in with ``HF_HUB_OFFLINE=0``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", os.environ["HF_HUB_OFFLINE"])
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# torch and scikit-learn bring their own OpenMP runtimes; spinning waiters of one starve the
# other on 2 cores (a 60-point t-SNE took 10-21 s instead of 0.8 s with torch loaded).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = PROJECT_ROOT / "data"
DEMO_DIR = DATA_DIR / "demo"
DEFAULT_DB = DATA_DIR / "embedlens.duckdb"
DB_ENV_VAR = "EMBEDLENS_DB"


def resolve_db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The store path: an explicit argument wins, then ``EMBEDLENS_DB``, then the default."""
    if explicit:
        return Path(explicit).expanduser()
    from_env = os.environ.get(DB_ENV_VAR)
    if from_env:
        return Path(from_env).expanduser()
    return DEFAULT_DB


#: Texts encoded and committed together by ``embed``: the work a kill or crash can lose, and the
#: vectors held in memory at once (1,024 x 384 float32 is 1.5 MB).
EMBED_CHUNK_TEXTS = 1024
#: Where ``embed`` runs the model: in this process, or on a Ray cluster (vectors.ray_engine).
EMBED_ENGINES = ("local", "ray")


@dataclass(frozen=True)
class Limits:
    """Upper bounds on what one ingest may bring in; each can be raised by the user."""

    max_file_bytes: int = 500 * 1024 * 1024
    max_rows: int = 2_000_000
    max_chars_per_text: int = 100_000

    @classmethod
    def from_env(cls) -> Limits:
        """Limits overridable as EMBEDLENS_MAX_FILE_MB, EMBEDLENS_MAX_ROWS, EMBEDLENS_MAX_CHARS."""
        defaults = cls()
        return cls(
            max_file_bytes=int(
                float(os.environ.get("EMBEDLENS_MAX_FILE_MB", defaults.max_file_bytes / 2**20))
                * 2**20
            ),
            max_rows=int(os.environ.get("EMBEDLENS_MAX_ROWS", defaults.max_rows)),
            max_chars_per_text=int(
                os.environ.get("EMBEDLENS_MAX_CHARS", defaults.max_chars_per_text)
            ),
        )
