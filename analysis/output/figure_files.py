"""Figures out of EmbedLens: PNG, SVG and PDF through kaleido and Debian's Chromium, and HTML.

Static images need a browser: kaleido drives headless Chromium to run plotly.js. Starting one
takes seconds, so each process keeps one browser, started on the first export, on its own
event-loop thread; every Streamlit session and CLI batch renders through it, one figure at a time
behind a lock. Nothing is fetched from the network: the browser is the system's Chromium, never a
download; plotly.js comes from the plotly package and MathJax is off (its default is a CDN).
HTML export needs no browser at all, so it keeps working where Chromium is missing.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import datetime as dt
import os
import re
import shutil
import threading
from collections.abc import Coroutine, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

import plotly
import plotly.graph_objects as go
import plotly.io as pio

from analysis.core.errors import UserError

IMAGE_FORMATS = ("png", "svg", "pdf")
FORMATS = (*IMAGE_FORMATS, "html")
MIME_TYPES = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "html": "text/html",
}
DEFAULT_SCALE = 2  # report resolution: a 900 px wide chart becomes an 1800 px PNG
DEFAULT_WIDTH = 900  # px, for figures that do not set their own width
DEFAULT_HEIGHT = 480  # px, house style height (figure_style) for figures without one
START_TIMEOUT = 60.0  # s for Chromium to come up on a loaded 2-core machine
RENDER_TIMEOUT = 120.0  # s per figure: a 200k-point WebGL map takes a while
BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
DEBIAN_CHROMIUM = "/usr/bin/chromium"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
HTML_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"scale": DEFAULT_SCALE}}
MISSING_CHROMIUM = (
    "PNG/SVG/PDF export needs Chromium: install it with `apt-get install chromium` "
    "(make test does this); HTML export works without it."
)
SLUG_PART_CHARS = 60


class ExportUnavailable(UserError):
    """Static image export cannot run here (no Chromium, or it failed); HTML still works."""


def find_chromium() -> str | None:
    """The system's Chromium: $BROWSER_PATH (kaleido's own override), else PATH, else Debian's.

    Looked up here and passed to kaleido explicitly, so kaleido never falls back to a browser it
    downloaded (or would download) itself.
    """
    override = os.environ.get("BROWSER_PATH")
    candidates = [override] if override else []
    candidates += [shutil.which(name) for name in BROWSER_NAMES]
    candidates.append(DEBIAN_CHROMIUM)
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def require_chromium() -> str:
    """The browser path, or ExportUnavailable with the install hint; cheap, call it freely."""
    path = find_chromium()
    if path is None:
        raise ExportUnavailable(MISSING_CHROMIUM)
    return path


class _Renderer:
    """One headless Chromium under kaleido, driven from a private asyncio loop thread.

    kaleido's own start_sync_server would do the same, but its calls wait without a timeout and
    hang for good if the browser fails to start or dies; here every call has a deadline.
    """

    def __init__(self, browser: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="kaleido-renderer", daemon=True
        )
        self._thread.start()
        try:
            self._kaleido = self._run(self._open(browser), START_TIMEOUT)
        except BaseException:
            self._stop_loop()
            raise

    @staticmethod
    async def _open(browser: str) -> Any:
        import kaleido

        instance = kaleido.Kaleido(
            n=1, timeout=RENDER_TIMEOUT, plotlyjs=PLOTLY_JS, mathjax=False, path=browser
        )
        await instance.open()
        return instance

    def _run(self, coroutine: Coroutine[Any, Any, Any], timeout: float) -> Any:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(timeout)
        except FutureTimeout:
            future.cancel()
            raise TimeoutError(f"no answer from Chromium within {timeout:.0f} s.") from None

    def render(self, spec: dict[str, Any], opts: dict[str, Any]) -> bytes:
        return self._run(self._kaleido.calc_fig(spec, opts), RENDER_TIMEOUT + 10)

    def close(self) -> None:
        """Best effort: a browser that no longer answers is left to die with the process."""
        with contextlib.suppress(Exception):  # must not mask the error that got us here
            self._run(self._kaleido.close(), 10)
        self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()


_RENDER_LOCK = threading.Lock()
_renderer: _Renderer | None = None


def _render(spec: dict[str, Any], opts: dict[str, Any]) -> bytes:
    """Render one figure on the shared browser; a failed browser is replaced on the next call.

    A figure plotly.js itself rejects (kaleido's KaleidoError) is a bug and propagates as is;
    a browser that does not start, crashes or hangs becomes ExportUnavailable.
    """
    global _renderer
    from kaleido.errors import KaleidoError

    browser = require_chromium()
    with _RENDER_LOCK:
        try:
            if _renderer is None:
                _renderer = _Renderer(browser)
            return _renderer.render(spec, opts)
        except KaleidoError:
            raise
        except Exception as exc:
            if _renderer is not None:
                _renderer.close()
                _renderer = None
            reason = exc.args[0] if exc.args else type(exc).__name__
            raise ExportUnavailable(
                f"Chromium ({browser}) could not render the figure: {reason} Try again; "
                "HTML export works without Chromium."
            ) from exc


def shutdown() -> None:
    """Close the shared browser (at exit, or in tests that need a fresh one).

    Gives up after a few seconds if a render is stuck, so exiting never waits for its timeout;
    the renderer thread is a daemon and the browser goes down with the process.
    """
    global _renderer
    if not _RENDER_LOCK.acquire(timeout=15):
        return
    try:
        if _renderer is not None:
            _renderer.close()
            _renderer = None
    finally:
        _RENDER_LOCK.release()


atexit.register(shutdown)


def _check_format(fmt: str, allowed: Sequence[str]) -> str:
    fmt = fmt.lower()
    if fmt not in allowed:
        raise UserError(f"Unknown export format '{fmt}'; choose {', '.join(allowed)}.")
    return fmt


def _opts(fig: go.Figure, fmt: str, scale: float, width: int | None, height: int | None) -> dict:
    """Pixel size from the arguments, else the figure's own layout, else the house defaults.

    Scale multiplies pixels only: SVG and PDF are vector files whose nominal size stays the
    figure's size (a 900 px chart is a 675 pt PDF page), so fonts keep their print size.
    """
    if scale <= 0:
        raise UserError(f"Export scale must be positive, got {scale}.")
    return {
        "format": fmt,
        "scale": scale if fmt == "png" else 1,
        "width": width or fig.layout.width or DEFAULT_WIDTH,
        "height": height or fig.layout.height or DEFAULT_HEIGHT,
    }


def export_figure(
    fig: go.Figure,
    fmt: str,
    scale: float = DEFAULT_SCALE,
    width: int | None = None,
    height: int | None = None,
) -> bytes:
    """A figure as PNG, SVG or PDF bytes, rendered by the process's shared Chromium."""
    return export_figures([fig], fmt, scale, width, height)[0]


def export_figures(
    figs: Sequence[go.Figure],
    fmt: str,
    scale: float = DEFAULT_SCALE,
    width: int | None = None,
    height: int | None = None,
) -> list[bytes]:
    """Several figures in one format; after the browser's start each costs a few tenths of a s.

    Figures are serialised here, in the caller's thread, so a page cannot change one mid-render.
    """
    fmt = _check_format(fmt, IMAGE_FORMATS)
    return [_render(fig.to_dict(), _opts(fig, fmt, scale, width, height)) for fig in figs]


def figure_html(fig: go.Figure, *, full: bool = True) -> str:
    """Interactive HTML that works offline: plotly.js inline, MathJax off, no CDN link.

    ``full=False`` gives a bare ``<div>`` + script for a page that already carries plotly.js
    (a report embeds it once for all its charts).
    """
    return pio.to_html(
        fig,
        include_plotlyjs=full,
        include_mathjax=False,
        full_html=full,
        config=HTML_CONFIG,
    )


def _slug(text: str | None) -> str:
    """File-name safe on every OS: word characters (any script), '.', '-'; the rest as '_'."""
    cleaned = re.sub(r"[^\w.-]+", "_", text or "").strip("._-")
    return cleaned[:SLUG_PART_CHARS].strip("._-")


def export_stem(
    corpus: str, analysis: str, model: str | None, date: dt.date | str | None = None
) -> str:
    """File name without extension: corpus, analysis, model (left out when empty), date."""
    if isinstance(date, dt.datetime):
        date = date.date()
    day = date.isoformat() if isinstance(date, dt.date) else date or dt.date.today().isoformat()
    parts = [_slug(corpus) or "corpus", _slug(analysis) or "chart", _slug(model), _slug(day)]
    return "-".join(part for part in parts if part)


def export_filename(
    corpus: str,
    analysis: str,
    model: str | None,
    fmt: str,
    date: dt.date | str | None = None,
) -> str:
    """E.g. ``stdlib_docs-map-all-MiniLM-L6-v2-2026-11-22.png``."""
    return f"{export_stem(corpus, analysis, model, date)}.{_check_format(fmt, FORMATS)}"
