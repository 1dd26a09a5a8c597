"""Tables out of EmbedLens as CSV or Parquet, safe to open in a spreadsheet.

A cell that starts with =, +, -, @, tab or carriage return is run as a formula by Excel, LibreOffice
and Google Sheets (CSV injection); such cells get a leading apostrophe in CSV exports, which
spreadsheets show as plain text. Parquet keeps values exactly as stored.
"""

from __future__ import annotations

import io

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy in which no text cell can be read as a spreadsheet formula."""
    safe = frame.copy()
    for column in safe.columns:
        values = safe[column]
        if pd.api.types.is_string_dtype(values) or values.dtype == object:
            safe[column] = values.map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_PREFIXES) else v
            )
    safe.columns = [
        "'" + c if isinstance(c, str) and c.startswith(FORMULA_PREFIXES) else c
        for c in safe.columns
    ]
    return safe


def csv_bytes(frame: pd.DataFrame) -> bytes:
    # CRLF rows (RFC 4180): the writer quotes every cell holding a character of the line
    # terminator, so a lone carriage return in a cell cannot start a new row (and a formula).
    return formula_safe(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()
