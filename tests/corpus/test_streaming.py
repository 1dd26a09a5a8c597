"""Files read in batches: the corpus a whole read gives, nothing on a late bad row, progress."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analysis.core.config import Limits
from analysis.core.errors import UserError
from analysis.core.store import Store
from analysis.corpus.corpora import IngestOptions, get_corpus, list_corpora, load_documents
from analysis.corpus.readers import read_path
from analysis.corpus.streaming import stream_path
from analysis.vectors.catalogue import load_model_vectors
from analysis.vectors.ingest import ingest
from tests.shared import PROJECT_ROOT, store_snapshot

N = 2_500
BATCH = 400  # several batches, and a first batch smaller than the 1,000 detection rows


def _frame(n: int = N) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    words = np.array(["alpha", "beta", "gamma", "delta", "echo", "fox", "golf", "hotel"])
    texts = [" ".join(rng.choice(words, size=int(rng.integers(3, 9)))) for _ in range(n)]
    texts[7] = "   "  # dropped as empty
    texts[11] = texts[10]  # a duplicate
    score = rng.integers(0, 100, size=n).astype(object)
    score[min(1_900, n - 1)] = ""  # one empty cell late in the file makes the whole column float
    return pd.DataFrame(
        {
            "text": texts,
            "topic": rng.choice(["a", "b", "c"], size=n),
            "score": score,
            "code": [f"{i:03d}" for i in range(n)],  # leading zeros: stays text
            "source": rng.choice(["web", "mail"], size=n),  # reserved name
        }
    )


def _same_corpus(store: Store, a: str, b: str) -> None:
    first, second = get_corpus(store, a), get_corpus(store, b)
    for field in (
        "text_column",
        "label_columns",
        "metadata_columns",
        "n_rows",
        "dropped_empty",
        "duplicates",
        "sources",
        "notices",
    ):
        assert getattr(first, field) == getattr(second, field), field
    pd.testing.assert_frame_equal(load_documents(store, first), load_documents(store, second))


def test_streamed_csv_is_stored_exactly_like_a_whole_file_read(store: Store, tmp_path: Path):
    path = tmp_path / "docs.csv"
    _frame().to_csv(path, index=False)
    ingest(store, [read_path(path, Limits())], IngestOptions(name="whole"))
    streamed = stream_path(path, Limits(), batch_rows=BATCH)
    ingest(store, [streamed], IngestOptions(name="streamed"))
    _same_corpus(store, "whole", "streamed")
    corpus = get_corpus(store, "streamed")
    types = {c["name"]: c["type"] for c in corpus.metadata_columns}
    assert types == {
        "topic": "VARCHAR",
        "score": "DOUBLE",
        "code": "VARCHAR",
        "source_original": "VARCHAR",
    }
    texts = _frame()["text"].drop(index=7)
    assert (corpus.n_rows, corpus.dropped_empty) == (N - 1, 1)
    assert corpus.duplicates == int(texts.duplicated().sum()) > 0


def test_streamed_parquet_with_vectors_matches_a_whole_file_read(store: Store, tmp_path: Path):
    frame = _frame()
    vectors = np.random.default_rng(5).standard_normal((N, 8)).astype(np.float32)
    table = pa.Table.from_pandas(frame.assign(score=pd.to_numeric(frame["score"])))
    table = table.append_column(
        "embedding", pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), 8)
    )
    path = tmp_path / "docs.parquet"
    pq.write_table(table, path, row_group_size=700)
    ingest(store, [read_path(path, Limits())], IngestOptions(name="whole", vector_model="v"))
    streamed = stream_path(path, Limits(), batch_rows=BATCH)
    ingest(store, [streamed], IngestOptions(name="streamed", vector_model="v"))
    _same_corpus(store, "whole", "streamed")
    _, _, whole = load_model_vectors(store, "whole", "v")
    _, _, stored = load_model_vectors(store, "streamed", "v")
    np.testing.assert_array_equal(whole, stored)
    texts = frame["text"].drop(index=7).tolist()
    kept = np.delete(vectors, 7, axis=0)
    first = {text: row for row, text in reversed(list(enumerate(texts)))}
    # A repeated text keeps the vector of its first occurrence, in either read.
    np.testing.assert_array_equal(stored, kept[[first[text] for text in texts]])


def test_bad_row_late_in_a_multi_batch_file_leaves_no_corpus(store: Store, tmp_path: Path):
    frame = _frame()
    frame.loc[N - 3, "text"] = "word " * 60
    path = tmp_path / "late.csv"
    frame.to_csv(path, index=False)
    before = store_snapshot(store)
    seen: list[int] = []
    with pytest.raises(UserError, match=rf"late.csv row {N - 2}, column 'text'"):
        ingest(
            store,
            [stream_path(path, Limits(max_chars_per_text=200), batch_rows=BATCH)],
            IngestOptions(name="late"),
            Limits(max_chars_per_text=200),
            lambda done, total: seen.append(done),
        )
    assert seen[-1] == N  # the whole file was read before the error
    assert store_snapshot(store) == before and list_corpora(store) == []


def test_bad_vector_late_in_parquet_names_the_file_row(store: Store, tmp_path: Path):
    cells = [[0.5, 0.5]] * N
    cells[N - 5] = [0.5, float("nan")]
    table = pa.table({"text": [f"text number {i}" for i in range(N)], "vec": cells})
    path = tmp_path / "v.parquet"
    pq.write_table(table, path)
    before = store_snapshot(store)
    with pytest.raises(UserError, match=rf"column 'vec': row {N - 4} has NaN/inf"):
        ingest(store, [stream_path(path, Limits(), batch_rows=BATCH)], IngestOptions(name="v"))
    assert store_snapshot(store) == before


def test_progress_is_reported_after_every_batch(store: Store, tmp_path: Path):
    path = tmp_path / "docs.csv"
    _frame().to_csv(path, index=False)
    calls: list[tuple[int, int]] = []
    ingest(
        store,
        [stream_path(path, Limits(), batch_rows=BATCH)],
        IngestOptions(name="p"),
        progress=lambda done, total: calls.append((done, total)),
    )
    # The header takes a line of the first batch of lines.
    expected = [min(N, BATCH * (i + 1) - 1) for i in range(-(-(N + 1) // BATCH))]
    assert calls == [(done, N) for done in expected]


def test_row_limit_is_checked_while_streaming(tmp_path: Path):
    path = tmp_path / "many.csv"
    _frame(1_200).to_csv(path, index=False)
    with pytest.raises(UserError, match="more than 1,000 rows"):
        stream_path(path, Limits(max_rows=1_000), batch_rows=BATCH)


def test_streamed_files_ignore_the_file_size_limit_but_whole_reads_keep_it(tmp_path: Path):
    path = tmp_path / "docs.csv"
    _frame(50).to_csv(path, index=False)
    tiny = Limits(max_file_bytes=100)
    assert stream_path(path, tiny).n_rows == 50
    with pytest.raises(UserError, match="file-size limit"):
        read_path(path, tiny)


def test_latin1_file_is_decoded_and_noted_like_a_whole_read(store: Store, tmp_path: Path):
    path = tmp_path / "latin.csv"
    path.write_bytes("text,label\ncaf\xe9 au lait,a\nna\xefve text,b\n".encode("latin-1"))
    streamed = stream_path(path, Limits())
    assert streamed.notices == read_path(path, Limits()).notices
    assert "byte 15, line 2" in streamed.notices[0]


def test_ragged_line_late_in_the_file_names_its_line(tmp_path: Path):
    path = tmp_path / "ragged.csv"
    lines = ["text,label", *[f"row {i},a" for i in range(1_500)], "bad,row,extra"]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(UserError, match="line 1502 \\(data row 1501\\) has 3 fields"):
        stream_path(path, Limits(), batch_rows=BATCH)


def test_duckdb_memory_limit_is_restored_after_a_failed_ingest(store: Store, tmp_path: Path):
    def limit() -> str:
        return store.fetch_all("SELECT current_setting('memory_limit')")[0][0]

    before = limit()
    path = tmp_path / "late.csv"
    path.write_text("text\nshort text\n" + "word " * 60 + "\n")
    with pytest.raises(UserError, match="over the limit"):
        ingest(
            store,
            [stream_path(path, Limits())],
            IngestOptions(name="x"),
            Limits(max_chars_per_text=200),
        )
    assert limit() == before


@pytest.mark.slow
def test_a_killed_ingest_leaves_no_corpus(tmp_path: Path):
    import signal
    import subprocess
    import sys

    path = tmp_path / "big.csv"
    frame = _frame()
    pd.concat([frame] * 24, ignore_index=True).to_csv(path, index=False)  # 60,000 rows
    db = tmp_path / "killed.duckdb"
    command = [
        sys.executable,
        "-m",
        "analysis",
        "ingest",
        str(path),
        "--name",
        "k",
        "--db",
        str(db),
    ]
    child = subprocess.Popen(command, cwd=PROJECT_ROOT, stderr=subprocess.PIPE, text=True)
    assert child.stderr is not None
    for line in child.stderr:  # the first batch is written, the transaction is open
        if line.startswith("Ingesting k: "):
            break
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    reopened = Store(db)
    try:
        assert list_corpora(reopened) == []
        assert reopened.fetch_all("SELECT count(*) FROM documents")[0][0] == 0
    finally:
        reopened.close()
