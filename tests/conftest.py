"""Shared fixtures: a real DuckDB file per test, the real bundled model once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("EMBEDLENS_NO_WARMUP", "1")  # tests must not compete with a JIT thread

from analysis.config import Limits
from analysis.store import Store

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
    from analysis.encoders import load_encoder

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


@pytest.fixture
def app_server(tmp_path: Path):
    """The real app under `streamlit run` on a free port, with its own store; yields its URL."""
    import subprocess
    import sys
    import time
    import urllib.request

    port = _free_port()
    env = {**os.environ, "EMBEDLENS_DB": str(tmp_path / "browser.duckdb")}
    log = (tmp_path / "server.log").open("w")
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
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            if process.poll() is not None or time.time() > deadline:
                raise RuntimeError((tmp_path / "server.log").read_text()) from None
            time.sleep(0.3)
    yield url
    process.terminate()
    process.wait(timeout=20)
    log.close()


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
