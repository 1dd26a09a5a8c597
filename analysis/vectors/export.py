"""Taking a corpus's embeddings elsewhere: doc id, text and vector as Parquet, or a bare .npy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.core.arrow_vectors import matrix_to_arrow
from analysis.core.errors import UserError
from analysis.core.store import Store
from analysis.corpus.corpora import load_documents
from analysis.vectors.catalogue import load_model_vectors


def export_vectors(store: Store, corpus_name: str, out: Path, model: str | None) -> dict[str, Any]:
    """Write the vectors; .npy holds the matrix only (row i = doc_id i), Parquet adds the text."""
    suffix = out.suffix.lower()
    if suffix not in (".parquet", ".npy"):
        raise UserError(f"--out {out}: use a .parquet or .npy file name.")
    if not out.parent.exists():
        raise UserError(f"--out {out}: the folder {out.parent} does not exist.")
    corpus, record, vectors = load_model_vectors(store, corpus_name, model)
    if suffix == ".npy":
        np.save(out, vectors)
    else:
        documents = load_documents(store, corpus, with_metadata=False)
        table = pa.table(
            {
                "doc_id": pa.array(documents["doc_id"].to_numpy(np.int32)),
                "text": pa.array(documents["text"].tolist(), pa.string()),
                "vector": matrix_to_arrow(vectors),
            }
        )
        metadata = {b"embedlens_model": record.model_key.encode(), b"corpus": corpus.name.encode()}
        pq.write_table(table.replace_schema_metadata(metadata), out)
    return {
        "corpus": corpus.name,
        "model": record.name,
        "rows": int(vectors.shape[0]),
        "dim": int(vectors.shape[1]),
        "path": str(out),
    }
