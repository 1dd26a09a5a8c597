"""What tests in several folders share: project paths, two topics of short texts, stores
filled and closed for another process (the app under AppTest or a real server), and a second
Python process (the command line next to the app)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb

from analysis.core.store import MIGRATIONS, Store

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_DOCS = PROJECT_ROOT / "data" / "demo" / "stdlib_docs.csv"
DEMO_SMALL = PROJECT_ROOT / "data" / "demo" / "stdlib_docs_small.csv"


def old_store(path: Path, version: int) -> duckdb.DuckDBPyConnection:
    """An open connection to a store as an older EmbedLens left it: the first ``version``
    migrations only. The caller may add rows, then closes it and opens a Store to migrate."""
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    for migration in MIGRATIONS[:version]:
        migration(con)
    con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(version)])
    return con


def spawn_python(*argv: str) -> subprocess.Popen[str]:
    """``python *argv`` as a separate process in the project, offline, output captured as text."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen(
        [sys.executable, *argv],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def closed_store(path: Path, fill: Callable[[Store], object]) -> Path:
    """A store at ``path`` filled by ``fill``, then closed (a Store of its own, not the
    process-wide open_store one), so the file is free at once for the server that opens it next."""
    store = Store(path)
    try:
        fill(store)
    finally:
        store.close()
    return path


ANIMAL_TEXTS = [
    "The cat sat on the warm mat.",
    "Dogs love long walks in the park.",
    "A parrot can learn many words.",
    "Horses gallop across the open field.",
    "The goldfish swims in its bowl.",
    "Owls hunt quietly at night.",
    "The kitten chased a ball of yarn.",
    "Wolves travel in packs through the forest.",
    "The rabbit nibbled fresh carrots.",
    "Cows graze in the green meadow.",
    "A squirrel buried acorns for winter.",
    "The puppy wagged its tail happily.",
    "Eagles soar high above the mountains.",
    "Dolphins play in the ocean waves.",
    "The hamster runs on its wheel.",
    "Bees collect nectar from flowers.",
    "The tortoise moved slowly across the garden.",
    "Penguins huddle together in the cold.",
    "A fox crept past the henhouse.",
]
FINANCE_TEXTS = [
    "The stock market fell sharply today.",
    "Interest rates were raised again.",
    "The bank approved the mortgage.",
    "Bonds rallied after the announcement.",
    "Inflation slowed for the third month.",
    "The company reported record profits.",
    "Investors sold shares amid uncertainty.",
    "The central bank cut its lending rate.",
    "Quarterly earnings beat analyst forecasts.",
    "The currency weakened against the dollar.",
    "A new fund invests in government bonds.",
    "Unemployment figures lifted the markets.",
    "The firm issued new shares to raise capital.",
    "Oil prices pushed inflation higher.",
    "The budget deficit widened this year.",
    "Pension funds rebalanced their portfolios.",
    "Credit card debt reached a new high.",
    "The merger was approved by regulators.",
    "Tax revenue rose in the last quarter.",
    "Savings accounts now pay more interest.",
]


def topics_csv(rows: list[tuple[str, str]]) -> bytes:
    """A text,topic CSV of (text, topic) rows, texts quoted."""
    lines = ["text,topic"] + ['"{}",{}'.format(t.replace('"', '""'), label) for t, label in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def store_snapshot(store: Store) -> tuple:
    """The store's tables and the row counts of its corpus tables: equal before and after a
    failed ingest when nothing was half-written."""
    tables = sorted(r[0] for r in store.fetch_all("SHOW TABLES"))
    counts = tuple(
        store.fetch_all(f"SELECT count(*) FROM {t}")[0][0]
        for t in ("corpora", "documents", "models", "corpus_embeddings")
    )
    return tuple(tables), counts
