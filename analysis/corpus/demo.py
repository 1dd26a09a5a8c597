"""The bundled demo corpora and tables, as listed in data/demo/manifest.json."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from analysis.core.config import DEMO_DIR
from analysis.core.errors import UserError


@dataclass(frozen=True)
class DemoDataset:
    name: str
    path: Path
    kind: str  # corpus | table
    description: str
    rows: int
    text_column: str | None
    label_columns: tuple[str, ...]


@lru_cache(maxsize=1)
def demo_datasets() -> tuple[DemoDataset, ...]:
    entries = json.loads((DEMO_DIR / "manifest.json").read_text(encoding="utf-8"))
    return tuple(
        DemoDataset(
            name=entry["name"],
            path=DEMO_DIR / entry["file"],
            kind=entry["kind"],
            description=entry["description"],
            rows=int(entry["rows"]),
            text_column=entry.get("text_column"),
            label_columns=tuple(entry.get("label_columns", ())),
        )
        for entry in entries
    )


def demo_corpora() -> list[DemoDataset]:
    return [d for d in demo_datasets() if d.kind == "corpus"]


def demo_dataset(name: str) -> DemoDataset:
    for dataset in demo_datasets():
        if dataset.name == name:
            return dataset
    known = ", ".join(d.name for d in demo_datasets())
    raise UserError(f"No demo dataset named '{name}'; the demos are: {known}.")
