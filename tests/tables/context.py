"""The context a table property runs in, built the one way every table test builds it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from analysis.tables.context import PropertyContext, TablesRequest
from analysis.tables.data import Table
from analysis.tables.encoding import TableEncoder


def property_context(
    prop: str, tables: Sequence[Table], encoders: Sequence[TableEncoder], **request: Any
) -> PropertyContext:
    """``tables`` and ``encoders`` with ``TablesRequest(prop, **request)``, no progress callback."""
    return PropertyContext(tables, encoders, TablesRequest(prop, **request))
