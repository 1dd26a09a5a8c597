"""Issue #12's acceptance, measured: embedding uncached texts in the app with the tab open on the
progress bar, against `python -m analysis embed` on the same texts, alternating, side by side.

Both sides start from a store where the texts are not cached, and both report the seconds of
`embed_corpus` itself (model loading excluded: the app's server and the CLI process each load the
model first, on a small warm-up corpus). The app side is the real server under `streamlit run`
driven by Debian's Chromium through Playwright, the page left on the job's progress bar.

    .venv/bin/python bench/watched_embed.py [--texts 600] [--rounds 2]

Prints one line per run and a summary; exits 1 when the app takes more than 1.3x the command line.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.core.config import Limits  # noqa: E402
from analysis.core.store import Store  # noqa: E402
from analysis.corpus.corpora import IngestOptions  # noqa: E402
from analysis.corpus.readers import read_bytes  # noqa: E402
from analysis.vectors.ingest import ingest  # noqa: E402
from tests.browser.conftest import CHROMIUM, serve_app  # noqa: E402

DEMO = ROOT / "data" / "demo" / "stdlib_docs.csv"
ALLOWED = 1.3
WARM_UP = [f"warm-up sentence number {i}" for i in range(20)]


def fill(db: Path, texts: list[str]) -> None:
    """A store with a tiny warm-up corpus and the measured one, nothing embedded."""
    store = Store(db)
    try:
        for name, rows in (("warm", WARM_UP), ("timed", texts)):
            csv = pd.DataFrame({"text": rows}).to_csv(index=False).encode("utf-8")
            ingest(store, [read_bytes(csv, f"{name}.csv", Limits())], IngestOptions(name=name))
    finally:
        store.close()


def command_line_seconds(db: Path) -> float:
    """`embed` of the measured corpus in a process that embedded the warm-up corpus first."""
    code = (
        "import json, sys\n"
        "from analysis.core.store import Store\n"
        "from analysis.vectors.embedding import embed_corpus\n"
        f"store = Store({str(db)!r})\n"
        "embed_corpus(store, 'warm')\n"
        "print(json.dumps({'seconds': embed_corpus(store, 'timed').seconds}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return float(json.loads(out.strip().splitlines()[-1])["seconds"])


def app_seconds(db: Path, workdir: Path, n_texts: int) -> float:
    """The same `embed` started from the Corpora page, the tab watching the progress bar."""
    from playwright.sync_api import expect, sync_playwright

    with serve_app(db, workdir / "server.log") as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.set_default_timeout(600_000)
        page.goto(url)
        main = page.get_by_test_id("stMainBlockContainer")
        for name, rows in (("warm", len(WARM_UP)), ("timed", n_texts)):
            page.get_by_role("combobox", name="Inspect").click()
            page.get_by_role("option", name=name, exact=True).click()
            expect(page.get_by_text(f"{name}.csv")).to_be_visible()
            page.get_by_role("button", name="Embed", exact=True).click()
            done = main.get_by_text(f"Embedded {name} with all-MiniLM-L6-v2: {rows:,} texts")
            expect(done).to_be_visible(timeout=600_000)
        message = done.inner_text()
        browser.close()
    found = re.search(r"([\d.]+) s\.\s*$", message)
    if found is None:
        raise RuntimeError(f"no time in {message!r}")
    return float(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    texts = pd.read_csv(DEMO)["text"].iloc[:: max(1, 2000 // args.texts)].head(args.texts).tolist()
    app: list[float] = []
    cli: list[float] = []
    for round_ in range(args.rounds):
        for side in ("cli", "app") if round_ % 2 == 0 else ("app", "cli"):
            with tempfile.TemporaryDirectory() as tmp:
                db = Path(tmp) / "bench.duckdb"
                fill(db, texts)
                start = time.perf_counter()
                if side == "cli":
                    cli.append(command_line_seconds(db))
                else:
                    app.append(app_seconds(db, Path(tmp), len(texts)))
                wall = time.perf_counter() - start
            latest = cli[-1] if side == "cli" else app[-1]
            print(f"round {round_ + 1} {side}: embed {latest:.1f} s (wall {wall:.0f} s)")
    ratio = statistics.median(app) / statistics.median(cli)
    print(
        f"{len(texts)} uncached texts: app watched {statistics.median(app):.1f} s, command line "
        f"{statistics.median(cli):.1f} s (medians of {args.rounds}); app / CLI = {ratio:.2f} "
        f"(target <= {ALLOWED})"
    )
    return 0 if ratio <= ALLOWED else 1


if __name__ == "__main__":
    raise SystemExit(main())
