"""Fixtures for the browser tests: the real app under `streamlit run` on a store file the test
chooses, and Debian's Chromium driven by Playwright (Playwright cannot download a browser here)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from analysis.core.store import Store
from tests.shared import PROJECT_ROOT, closed_store

CHROMIUM = "/usr/bin/chromium"

Serve = Callable[..., str]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve_app(db_path: Path, log_path: Path) -> Iterator[str]:
    """The real app under `streamlit run` on a free port, on the store at ``db_path``; yields
    its URL once /_stcore/health answers, and stops the server on exit.

    The server opens the file only while it uses it, so the test may write to it meanwhile.
    """
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


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """``serve(db=None, fill=None) -> url``: the real app on a free port, stopped after the test.

    ``db`` is a store file (default: a fresh one in tmp_path); ``fill``, when given, fills that
    store first and closes it.
    """
    with ExitStack() as servers:

        def start(db: Path | None = None, fill: Callable[[Store], object] | None = None) -> str:
            path = db if db is not None else tmp_path / "browser.duckdb"
            if fill is not None:
                closed_store(path, fill)
            return servers.enter_context(serve_app(path, tmp_path / "server.log"))

        yield start


@pytest.fixture
def app_server(serve: Serve) -> str:
    """The real app on a fresh, empty store; its URL."""
    return serve()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright."""
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
