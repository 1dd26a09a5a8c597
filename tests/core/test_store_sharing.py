"""One store file, several processes: the app and the command line take turns on DuckDB's lock.

Each test plays the app in this process and runs the other party as a real child process.
"""

from __future__ import annotations

import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from analysis.core.errors import UserError
from analysis.core.store import Store
from analysis.corpus.corpora import list_corpora
from tests.shared import spawn_python


def other_process(code: str) -> subprocess.Popen[str]:
    """A second Python process (the 'command line') running ``code``."""
    return spawn_python("-c", textwrap.dedent(code))


def cli(db: Path, *argv: str) -> subprocess.Popen[str]:
    return spawn_python("-m", "analysis", "--db", str(db), *argv)


def test_an_idle_store_releases_the_file(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    app = Store(db, idle_seconds=0.05)
    assert app.fetch_all("SELECT count(*) FROM corpora") == [(0,)]
    time.sleep(0.3)
    assert not app.is_open
    child = other_process(
        f"""
        from analysis.core.store import Store
        with Store({str(db)!r}, lock_wait_seconds=0).transaction() as cur:
            cur.execute("INSERT INTO meta VALUES ('from', 'child')")
        """
    )
    _, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    # The app sees the other process's write on its next use.
    assert app.fetch_all("SELECT value FROM meta WHERE key = 'from'") == [("child",)]


def test_a_busy_store_makes_the_other_process_wait_not_fail(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    app = Store(db, idle_seconds=0.05)
    with app.connection() as cur:
        child = other_process(
            f"""
            import time
            from analysis.core.store import Store
            start = time.monotonic()
            Store({str(db)!r}, lock_wait_seconds=30).fetch_all("SELECT 1")
            print(round(time.monotonic() - start, 2))
            """
        )
        time.sleep(2.0)
        assert child.poll() is None  # still waiting for the file
        cur.execute("SELECT 1").fetchall()
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert float(out) >= 1.0


def test_a_store_locked_too_long_is_a_clear_user_error(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    Store(db).close()
    holder = other_process(
        f"""
        import sys, time
        import duckdb
        con = duckdb.connect({str(db)!r})
        print("holding", flush=True)
        time.sleep(30)
        """
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        start = time.monotonic()
        with pytest.raises(UserError, match="Another process kept it for more than 1 s"):
            Store(db, lock_wait_seconds=1)
        assert time.monotonic() - start < 10
    finally:
        holder.kill()
        holder.wait()


def test_nested_blocks_share_a_cursor_so_reads_see_the_open_transaction(store: Store) -> None:
    with store.transaction() as cur:
        cur.execute("INSERT INTO meta VALUES ('pending', 'yes')")
        with store.connection() as inner:
            assert inner is cur
        assert store.fetch_all("SELECT value FROM meta WHERE key = 'pending'") == [("yes",)]
    assert store.is_open or store.idle_seconds > 0


def test_command_line_ingest_works_while_the_app_holds_the_store(
    tmp_path: Path, tiny_csv: Path
) -> None:
    db = tmp_path / "shared.duckdb"
    app = Store(db)  # the app's store, used just before the command runs
    assert list_corpora(app) == []
    child = cli(db, "ingest", str(tiny_csv), "--name", "from the shell")
    _, err = child.communicate(timeout=300)
    assert child.returncode == 0, err
    assert [c.name for c in list_corpora(app)] == ["from the shell"]


def test_a_long_command_line_embed_does_not_lock_the_app_out(
    tmp_path: Path, tiny_csv: Path
) -> None:
    db = tmp_path / "shared.duckdb"
    app = Store(db)
    ingest = cli(db, "ingest", str(tiny_csv), "--name", "notes")
    assert ingest.wait(timeout=300) == 0
    embed = cli(db, "embed", "notes")
    slowest = 0.0
    polls = 0
    while embed.poll() is None:
        start = time.monotonic()
        assert [c.name for c in list_corpora(app)] == ["notes"]
        slowest = max(slowest, time.monotonic() - start)
        polls += 1
        time.sleep(0.2)
    _, err = embed.communicate()
    assert embed.returncode == 0, err
    assert polls >= 5  # model loading alone takes seconds: the app kept reading meanwhile
    assert slowest < 3.0


def test_a_store_used_without_pause_still_lets_another_process_in(tmp_path: Path) -> None:
    """A page polling in a tight loop is never idle; it still hands the file over in turns."""
    db = tmp_path / "s.duckdb"
    app = Store(db)
    child = other_process(
        f"""
        import time
        from analysis.core.store import Store
        start = time.monotonic()
        Store({str(db)!r}, lock_wait_seconds=30).fetch_all("SELECT 1")
        print(round(time.monotonic() - start, 2))
        """
    )
    deadline = time.monotonic() + 60
    while child.poll() is None and time.monotonic() < deadline:
        app.fetch_all("SELECT count(*) FROM corpora")  # no pause at all
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert float(out) < 5.0
    assert not db.with_name("s.duckdb.waiting").exists()  # the flag is down once served
