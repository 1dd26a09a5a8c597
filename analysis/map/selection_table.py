"""The documents of a map selection, a page at a time, and its exports built in batches.

A box over a million-point map can hold hundreds of thousands of documents: the page shows one
page of them (texts read from DuckDB for that page only) and the exports read the selection in
Arrow batches, writing each batch before reading the next, so no step holds every document of
the corpus as Python objects. An optional filter keeps the documents whose text contains a
string (case-insensitive, literal: no pattern syntax).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.core.store import Store
from analysis.corpus.corpora import Corpus
from analysis.map.map_rows import DOCUMENT_COLUMNS, documents_sql, wanted_ids
from analysis.output.data_files import formula_safe

EXPORT_BATCH_ROWS = 50_000


@dataclass(frozen=True)
class SelectedDocuments:
    """Selected doc ids (sorted) of a corpus, with an optional text filter."""

    store: Store
    corpus: Corpus
    doc_ids: np.ndarray
    needle: str = ""

    @property
    def columns(self) -> list[str]:
        return [*DOCUMENT_COLUMNS, *self.corpus.metadata_names]

    def _where(self) -> tuple[str, list[object]]:
        if not self.needle:
            return "", []
        return " WHERE strpos(lower(d.text), lower(?)) > 0", [self.needle]

    def count(self) -> int:
        """How many selected documents pass the filter."""
        if not self.needle:
            return int(self.doc_ids.size)
        where, params = self._where()
        with wanted_ids(self.store, self.doc_ids) as cur:
            sql = f"SELECT count(*) FROM ({documents_sql(self.corpus, ['doc_id'], where)})"
            return int(cur.execute(sql, [self.corpus.corpus_id, *params]).fetchall()[0][0])

    def page(self, number: int, size: int) -> pd.DataFrame:
        """Page ``number`` (from 1) of ``size`` rows, in doc_id order."""
        where, params = self._where()
        sql = documents_sql(self.corpus, self.columns, where) + " ORDER BY w.pos LIMIT ? OFFSET ?"
        with wanted_ids(self.store, self.doc_ids) as cur:
            reader = cur.sql(
                sql, params=[self.corpus.corpus_id, *params, size, (number - 1) * size]
            )
            return reader.to_arrow_reader().read_all().to_pandas()

    def batches(self) -> Iterator[pa.RecordBatch]:
        """Every selected document passing the filter, in doc_id order, EXPORT_BATCH_ROWS at a
        time."""
        where, params = self._where()
        sql = documents_sql(self.corpus, self.columns, where) + " ORDER BY w.pos"
        with wanted_ids(self.store, self.doc_ids) as cur:
            reader = cur.sql(sql, params=[self.corpus.corpus_id, *params]).to_arrow_reader(
                EXPORT_BATCH_ROWS
            )
            yield from reader

    def csv_bytes(self) -> bytes:
        """CSV (CRLF rows, formula-safe cells, as ``data_files.csv_bytes``) of the selection."""
        buffer = io.BytesIO()
        header = True
        for batch in self.batches():
            frame = formula_safe(batch.to_pandas())
            buffer.write(frame.to_csv(index=False, header=header, lineterminator="\r\n").encode())
            header = False
        if header:  # nothing selected passed the filter: still a file with its header
            empty = pd.DataFrame(columns=self.columns)
            buffer.write(formula_safe(empty).to_csv(index=False, lineterminator="\r\n").encode())
        return buffer.getvalue()

    def parquet_bytes(self) -> bytes:
        """Parquet of the selection, values exactly as stored, written batch by batch."""
        buffer = io.BytesIO()
        writer = None
        for batch in self.batches():
            if writer is None:
                writer = pq.ParquetWriter(buffer, batch.schema)
            writer.write_batch(batch)
        if writer is None:
            empty = self.page(1, 1).iloc[:0]
            pq.write_table(pa.Table.from_pandas(empty, preserve_index=False), buffer)
        else:
            writer.close()
        return buffer.getvalue()
