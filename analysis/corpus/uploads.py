"""Several uploaded files at once: pair each .npy with the CSV/TSV of the same name."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath

from analysis.core.config import Limits
from analysis.core.errors import UserError
from analysis.corpus.readers import ParsedTable, read_bytes


def parse_uploads(files: Sequence[tuple[str, bytes]], limits: Limits) -> list[ParsedTable]:
    """Read uploaded (name, bytes) pairs; a 'x.npy' supplies vectors for 'x.csv' or 'x.tsv'."""
    if not files:
        raise UserError("No files were uploaded.")
    matrices = {PurePath(n).stem: data for n, data in files if n.lower().endswith(".npy")}
    tables = [(n, data) for n, data in files if not n.lower().endswith(".npy")]
    partners = {PurePath(n).stem for n, _ in tables if n.lower().endswith((".csv", ".tsv"))}
    orphans = sorted(set(matrices) - partners)
    if orphans:
        raise UserError(
            f"{orphans[0]}.npy has no CSV/TSV of the same name among the uploads; upload "
            f"{orphans[0]}.csv with it (the .npy rows must follow the CSV rows)."
        )
    if not tables:
        raise UserError("Only .npy files were uploaded; add the CSV/TSV with the texts.")
    return [
        read_bytes(data, name, limits, npy_bytes=matrices.get(PurePath(name).stem))
        for name, data in tables
    ]
