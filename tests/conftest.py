"""Shared fixtures: a real DuckDB file per test, the real bundled model once per session."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("EMBEDLENS_NO_WARMUP", "1")  # tests must not compete with a JIT thread

from analysis.core.config import Limits
from analysis.core.store import Store

if TYPE_CHECKING:
    from streamlit.testing.v1 import AppTest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEMO_SMALL = PROJECT_ROOT / "data" / "demo" / "stdlib_docs_small.csv"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """A fresh store in its own DuckDB file."""
    db = Store(tmp_path / "store.duckdb")
    yield db
    db.close()


@pytest.fixture
def limits() -> Limits:
    return Limits()


@pytest.fixture(scope="session")
def default_encoder():
    from analysis.models.encoders import load_encoder

    return load_encoder("default")


@pytest.fixture
def tiny_csv(tmp_path: Path) -> Path:
    """Twelve short labelled texts in two topics: enough for every code path, fast to embed."""
    rows = [
        ("The cat sat on the warm mat.", "animals", 1),
        ("Dogs love long walks in the park.", "animals", 2),
        ("A parrot can learn many words.", "animals", 3),
        ("Horses gallop across the open field.", "animals", 4),
        ("The goldfish swims in its bowl.", "animals", 5),
        ("Owls hunt quietly at night.", "animals", 6),
        ("The stock market fell sharply today.", "finance", 7),
        ("Interest rates were raised again.", "finance", 8),
        ("The bank approved the mortgage.", "finance", 9),
        ("Bonds rallied after the announcement.", "finance", 10),
        ("Inflation slowed for the third month.", "finance", 11),
        ("The company reported record profits.", "finance", 12),
    ]
    path = tmp_path / "tiny.csv"
    lines = ["text,topic,score"] + [f'"{t}",{label},{score}' for t, label, score in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve_app(db_path: Path, log_path: Path) -> Iterator[str]:
    """The real app under `streamlit run` on a free port, on the store at ``db_path``; yields
    its URL once /_stcore/health answers, and stops the server on exit.

    The store must be closed first: DuckDB lets one process at a time open the file.
    """
    import subprocess
    import sys
    import time
    import urllib.request

    port = _free_port()
    env = {**os.environ, "EMBEDLENS_DB": str(db_path)}
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 60
        try:
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    if process.poll() is not None or time.time() > deadline:
                        raise RuntimeError(log_path.read_text()) from None
                    time.sleep(0.3)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=20)


def closed_store(path: Path, fill: Callable[[Store], object]) -> Path:
    """A store at ``path`` filled by ``fill``, then closed (a Store of its own, not open_store,
    which caches the connection): DuckDB lets one process at a time open the file."""
    store = Store(path)
    try:
        fill(store)
    finally:
        store.close()
    return path


@contextmanager
def serve_prepared(tmp_path: Path, fill: Callable[[Store], object]) -> Iterator[str]:
    """serve_app on a fresh store in ``tmp_path`` filled by ``fill`` first; yields the URL."""
    db = closed_store(tmp_path / "browser.duckdb", fill)
    with serve_app(db, tmp_path / "server.log") as url:
        yield url


@pytest.fixture
def app_server(tmp_path: Path) -> Iterator[str]:
    """The real app under `streamlit run` on a free port, with its own store; yields its URL."""
    with serve_app(tmp_path / "browser.duckdb", tmp_path / "server.log") as url:
        yield url


def app_db(source: Path, target: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the closed store ``source`` at ``target``, made the app's store (EMBEDLENS_DB)."""
    shutil.copyfile(source, target)
    monkeypatch.setenv("EMBEDLENS_DB", str(target))
    return target


@pytest.fixture
def docs_db(tmp_path: Path, tmp_path_factory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app's store: a copy of probe_corpus's 'docs' store (embedded, layers cached)."""
    from probe_corpus import template

    return app_db(template(tmp_path_factory), tmp_path / "docs.duckdb", monkeypatch)


def open_app_page(page: str, title: str, inspect: str | None = None) -> AppTest:
    """The app under AppTest opened on ``pages/<page>.py`` (the first run registers
    st.navigation's pages), with ``inspect`` as the corpus the page opens first."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    if inspect is not None:
        at.session_state["inspect"] = inspect
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == title
    return at


def chart_titles(at: AppTest) -> list[str]:
    """The title of every Plotly chart on the page, in order."""
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]


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


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (Playwright cannot download a browser here)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is missing: run `make test`, which installs it.")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)  # a loaded 2-core CI machine is slow to first render
    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    yield tab
    context.close()
