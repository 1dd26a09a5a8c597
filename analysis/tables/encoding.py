"""One model as the table properties use it: serialised items through the cache, and
Observatory's contextual encoding of a whole table in one sequence.

Per-item mode embeds each column (row, table) text on its own with the model's sentence
embedding. Contextual mode builds ``[CLS] col1 [CLS] col2 ... [SEP]`` from the tokenizer's own
special tokens; a column's embedding is the last-layer state at its ``[CLS]`` and a cell's is the
mean of the states of its own tokens (special tokens excluded). Cells are tokenised piece by
piece, so their token spans are exact and no cell is ever cut: rows that do not fit go to the
next sequence (cells) or are left out (columns, reported as fewer rows used). For WordPiece
tokenizers (MiniLM, BERT) piecewise tokenisation equals tokenising the whole text; BPE and
SentencePiece models may merge across a boundary differently, so their contextual sequences are
a close, not an identical, rendering of the serialised table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.core.errors import UserError
from analysis.core.progress import ProgressFn
from analysis.core.store import Store
from analysis.models.encoders import Encoder, load_encoder
from analysis.models.tokens import default_tokenizer
from analysis.tables.serialise import (
    COLUMN,
    Fitted,
    TokenCounter,
    column_texts,
    fit_rows,
    row_texts,
)
from analysis.vectors.texts import encode_texts

PER_ITEM = "per-item"
CONTEXTUAL = "contextual"
DEFAULT_MAX_LENGTH = 128  # observatory.md: column text on a 2-core CPU
THOROUGH_MAX_LENGTH = 256


@dataclass(frozen=True)
class _Pieces:
    """Token ids of every header and cell of a table, for assembling contextual sequences."""

    headers: list[list[int]]
    cells: list[list[list[int]]]  # [row][column] -> ids
    comma: list[int]

    def cell_lengths(self) -> np.ndarray:
        return np.array([[len(ids) for ids in row] for row in self.cells], dtype=np.int64)


class TableEncoder:
    """A loaded model plus the tokenizer that decides how many rows fit."""

    def __init__(self, store: Store, encoder: Encoder, max_length: int = DEFAULT_MAX_LENGTH):
        self.store = store
        self.encoder = encoder
        self.info = encoder.info
        own = encoder.tokenizer
        # LSA has no tokenizer: rows are counted with MiniLM's, so every model sees equal content.
        self.tokenizer: Any = own if own is not None else default_tokenizer()
        self.contextual = own is not None
        model_limit = self.info.max_length or THOROUGH_MAX_LENGTH
        self.max_length = min(max_length, model_limit)
        self.context_length = model_limit
        self.count = TokenCounter(self.tokenizer)
        specials = self.tokenizer("")["input_ids"]  # the special tokens around an empty text
        cls = getattr(self.tokenizer, "cls_token_id", None)
        sep = getattr(self.tokenizer, "sep_token_id", None)
        self.start_id = int(cls if cls is not None else specials[0])
        self.end_id = int(sep if sep is not None else specials[-1])

    @property
    def name(self) -> str:
        return self.info.name

    def describe(self) -> dict[str, Any]:
        """Provenance of every number this model contributes."""
        return {
            "name": self.info.name,
            "model_key": self.info.model_key,
            "kind": self.info.kind,
            "revision": self.info.revision,
            "pooling": self.info.pooling,
            "max_length": self.max_length,
            "context_length": self.context_length if self.contextual else None,
        }

    # --- per-item texts ------------------------------------------------------------------------

    def encode(self, texts: Sequence[str], progress: ProgressFn | None = None) -> np.ndarray:
        """Normalised sentence embeddings of texts, via the cache, one encode call."""
        return encode_texts(self.store, self.encoder, texts, progress)

    def fit(self, texts: pd.DataFrame, granularity: str) -> Fitted:
        """Rows that fit: column text within the chosen maximum (128, or 256 when thorough),
        row and table text within the model's own window."""
        limit = self.max_length if granularity == COLUMN else self.context_length
        return fit_rows(texts, granularity, self.count, limit)

    # --- contextual sequences ------------------------------------------------------------------

    def _require_context(self) -> None:
        if not self.contextual:
            raise UserError(
                f"{self.name} has no token states, so it has no contextual mode; use per-item "
                "mode, or a transformer model."
            )

    def _pieces(self, texts: pd.DataFrame) -> _Pieces:
        headers = [f"{c}:" for c in texts.columns]
        values = texts.to_numpy().ravel().tolist()
        encoded = self.tokenizer(
            [*headers, ",", *values] if values else [*headers, ","],
            add_special_tokens=False,
            truncation=False,
            return_attention_mask=False,
            return_token_type_ids=False,
            verbose=False,
        )["input_ids"]
        n_cols = len(headers)
        flat = encoded[n_cols + 1 :]
        cells = [flat[i * n_cols : (i + 1) * n_cols] for i in range(len(texts))]
        return _Pieces(headers=encoded[:n_cols], cells=cells, comma=encoded[n_cols])

    def _sequence_length(self, pieces: _Pieces, lengths: np.ndarray, start: int, stop: int) -> int:
        n_cols = len(pieces.headers)
        rows = stop - start
        header = sum(len(h) for h in pieces.headers)
        commas = n_cols * max(rows - 1, 0) * len(pieces.comma)
        return n_cols + header + int(lengths[start:stop].sum()) + commas + 1

    def context_fit(self, texts: pd.DataFrame) -> Fitted:
        """Leading rows that fit, with every column, in one contextual sequence."""
        self._require_context()
        pieces = self._pieces(texts)
        lengths = self._pieces_lengths(pieces)
        n = len(texts)
        rows = 0
        limit = self.context_length
        while rows < n and self._sequence_length(pieces, lengths, 0, rows + 1) <= limit:
            rows += 1
        if rows == 0:
            return Fitted(
                "contextual",
                0,
                n,
                f"the headers and first row need more than {self.context_length} tokens in one "
                "contextual sequence; pick fewer columns",
            )
        return Fitted("contextual", rows, n)

    @staticmethod
    def _pieces_lengths(pieces: _Pieces) -> np.ndarray:
        lengths = pieces.cell_lengths()
        return lengths.sum(axis=1) if lengths.size else np.zeros(0, np.int64)

    def _assemble(
        self, pieces: _Pieces, start: int, stop: int
    ) -> tuple[list[int], list[int], list[list[tuple[int, int]]]]:
        """Ids of one sequence, the [CLS] position of each column and each cell's token span."""
        ids: list[int] = []
        cls_positions: list[int] = []
        spans: list[list[tuple[int, int]]] = [[] for _ in range(stop - start)]
        for j, header in enumerate(pieces.headers):
            cls_positions.append(len(ids))
            ids.append(self.start_id)
            ids.extend(header)
            for offset, i in enumerate(range(start, stop)):
                if offset:
                    ids.extend(pieces.comma)
                cell = pieces.cells[i][j]
                spans[offset].append((len(ids), len(ids) + len(cell)))
                ids.extend(cell)
        ids.append(self.end_id)
        return ids, cls_positions, spans

    def contextual_columns(self, tables: Sequence[pd.DataFrame]) -> list[np.ndarray]:
        """Last-layer [CLS] states, [C, dim] per table in its own column order, one batch.

        Each table must fit one sequence (take ``context_fit`` rows first).
        """
        self._require_context()
        sequences, positions = [], []
        for texts in tables:
            pieces = self._pieces(texts)
            ids, cls_positions, _ = self._assemble(pieces, 0, len(texts))
            if len(ids) > self.context_length:
                raise ValueError(f"{len(ids)} tokens exceed {self.context_length}; fit rows first")
            sequences.append(ids)
            positions.append(cls_positions)
        states = self.encoder.token_states(sequences)
        return [s[-1, p] for s, p in zip(states, positions, strict=True)]

    def contextual_cells(self, texts: pd.DataFrame, layers: Sequence[int] = (-1,)) -> np.ndarray:
        """Cell embeddings of every row, [len(layers), n_rows, C, dim]; NaN for empty cells.

        Rows are packed greedily into as few sequences as fit, so each cell is read in the
        context of its neighbouring rows and all columns.
        """
        self._require_context()
        pieces = self._pieces(texts)
        lengths = self._pieces_lengths(pieces)
        n, n_cols = texts.shape
        chunks: list[tuple[int, int]] = []
        start = 0
        while start < n:
            stop = start
            while (
                stop < n
                and self._sequence_length(pieces, lengths, start, stop + 1) <= self.context_length
            ):
                stop += 1
            if stop == start:
                raise UserError(
                    f"Row {start + 1} alone needs more than {self.context_length} tokens in one "
                    "contextual sequence; pick fewer columns."
                )
            chunks.append((start, stop))
            start = stop
        assembled = [self._assemble(pieces, a, b) for a, b in chunks]
        states = self.encoder.token_states([ids for ids, _, _ in assembled])
        dim = states[0].shape[-1]
        out = np.full((len(layers), n, n_cols, dim), np.nan, dtype=np.float32)
        for (a, _), (_, _, spans), state in zip(chunks, assembled, states, strict=True):
            chosen = state[list(layers)]
            for offset, row_spans in enumerate(spans):
                for j, (lo, hi) in enumerate(row_spans):
                    if hi > lo:
                        out[:, a + offset, j] = chosen[:, lo:hi].mean(axis=1)
        return out

    def cell_vectors(self, texts: pd.DataFrame, layers: Sequence[int] = (-1,)) -> np.ndarray:
        """Cell embeddings in context when the model has token states, else each value alone.

        Context-free cells make within-group variances trivially zero: callers that measure
        context (functional dependencies) check ``self.contextual`` and say so.
        """
        if self.contextual:
            return self.contextual_cells(texts, layers)
        values = texts.to_numpy()
        flat = values.ravel().tolist()
        vectors = self.encode(flat).reshape(*values.shape, -1)
        vectors[values == ""] = np.nan
        return np.broadcast_to(vectors, (len(layers), *vectors.shape)).copy()


def load_table_encoders(
    store: Store,
    specs: Sequence[str],
    fit_texts: Sequence[str],
    max_length: int = DEFAULT_MAX_LENGTH,
) -> list[TableEncoder]:
    """Encoders for the chosen model specs; LSA is fitted on the serialised tables themselves."""
    if not specs:
        raise UserError("Choose at least one model.")
    encoders = []
    for spec in dict.fromkeys(specs):
        corpus_texts = list(fit_texts) if spec == "lsa" else None
        encoders.append(TableEncoder(store, load_encoder(spec, corpus_texts), max_length))
    return encoders


def lsa_fit_texts(tables: Sequence[pd.DataFrame]) -> list[str]:
    """What the LSA baseline is fitted on: every column and row text of the chosen tables."""
    texts: list[str] = []
    for frame in tables:
        texts.extend(column_texts(frame))
        texts.extend(row_texts(frame))
    return texts
