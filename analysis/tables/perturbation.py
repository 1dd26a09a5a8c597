"""Perturbation robustness (observatory.md, property 7): do harmless header and value-format
changes move the column embeddings?

Each variant rewrites the whole table (every header, or every value a format applies to); only
the columns whose kept text actually changed are scored, so an untouched column never adds a free
1.0. A header with no known synonym or abbreviation, or a column a format does not apply to, is
counted rather than dropped: every group says how many columns the variant changed. All variants
of a table are cut to the same leading rows, the fewest that fit in any of them, so each perturbed
column is compared with one and the same original, on the same rows.

Value formats start from the typed frame (an integer is written as 1,234 or 1234.0), never from
re-parsed text, and dates are recognised only when every value of a column is an ISO date.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from analysis.core.config import DATA_DIR
from analysis.tables.context import PropertyContext, PropertyOutput, TablesRequest
from analysis.tables.data import Table
from analysis.tables.encoding import CONTEXTUAL, PER_ITEM, TableEncoder
from analysis.tables.readings import models_of, skipped_text, summarise
from analysis.tables.scores import SKIPPED, ScoreGroup, unmeasured
from analysis.tables.serialise import COLUMN
from analysis.tables.variants import (
    column_fit,
    column_mode_groups,
    fit_for,
    measured_group,
)

PERTURBATION = "perturbation"
HEADER = "header"
VALUE = "value"
SYNONYMS_FILE = DATA_DIR / "header_synonyms.json"

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@cache
def header_words() -> dict[str, dict[str, str]]:
    """Header word (or two-word phrase) -> its 'synonym' and/or 'abbreviation'."""
    return json.loads(SYNONYMS_FILE.read_text(encoding="utf-8"))["words"]


def split_header(header: str) -> tuple[list[str], str]:
    """The words of a header and what joins them ('' for camelCase), losslessly."""
    for separator in ("_", " ", "-"):
        if separator in header:
            return header.split(separator), separator
    return _CAMEL_BOUNDARY.split(header), ""


def _match_case(original: str, replacement: str) -> str:
    if len(original) > 1 and original.isupper():
        return replacement.upper()
    if original[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def replace_words(header: str, field: str) -> str:
    """The header with every word (two-word phrases first) that has a ``field`` entry replaced."""
    words, separator = split_header(header)
    known = header_words()
    out: list[str] = []
    i = 0
    while i < len(words):
        for width in (2, 1):
            span = words[i : i + width]
            entry = known.get(" ".join(span).lower(), {})
            if len(span) == width and field in entry:
                out.append(_match_case(span[0], entry[field]))
                i += width
                break
        else:
            out.append(words[i])
            i += 1
    return separator.join(out)


def _title(header: str) -> str:
    words, separator = split_header(header)
    return separator.join(w[:1].upper() + w[1:] for w in words)


def _camel(header: str) -> str:
    words = [w for w in split_header(header)[0] if w]
    if len(words) < 2:
        return header
    return words[0].lower() + "".join(w[:1].upper() + w[1:].lower() for w in words[1:])


def _separator(header: str) -> str:
    """snake_case and camelCase become spaced words; spaced words become snake_case."""
    words, separator = split_header(header)
    if len(words) < 2:
        return header
    if separator == " ":
        return "_".join(words)
    return " ".join(w.lower() if separator == "" else w for w in words)


HEADER_VARIANTS: dict[str, Callable[[str], str]] = {
    "abbreviation": lambda h: replace_words(h, "abbreviation"),
    "synonym": lambda h: replace_words(h, "synonym"),
    "upper case": str.upper,
    "title case": _title,
    "camel case": _camel,
    "word separator": _separator,
}


def _numbers(format_number: Callable[[float], str | None]) -> Callable[..., pd.Series]:
    """A value variant for numeric columns; a None from the format keeps the value's text."""

    def change(typed: pd.Series, texts: pd.Series) -> pd.Series:
        if not pd.api.types.is_numeric_dtype(typed) or pd.api.types.is_bool_dtype(typed):
            return texts
        out = [
            (format_number(float(v)) or t) if t else t
            for v, t in zip(typed.to_numpy(), texts, strict=True)
        ]
        return pd.Series(out, index=texts.index)

    return change


def _dates(format_date: Callable[[pd.Timestamp], str]) -> Callable[..., pd.Series]:
    """A value variant for columns whose every value is an ISO date (YYYY-MM-DD)."""

    def change(typed: pd.Series, texts: pd.Series) -> pd.Series:
        filled = texts != ""
        parsed = pd.to_datetime(texts.where(filled), format="%Y-%m-%d", errors="coerce")
        if not filled.any() or parsed[filled].isna().any():
            return texts
        out = [format_date(d) if f else t for d, f, t in zip(parsed, filled, texts, strict=True)]
        return pd.Series(out, index=texts.index)

    return change


def _texts(change_text: Callable[[str], str]) -> Callable[..., pd.Series]:
    def change(typed: pd.Series, texts: pd.Series) -> pd.Series:
        return texts.map(lambda t: change_text(t) if t else t)

    return change


VALUE_VARIANTS: dict[str, Callable[[pd.Series, pd.Series], pd.Series]] = {
    "thousands separators": _numbers(lambda v: f"{int(v):,}" if v.is_integer() else f"{v:,}"),
    "decimal point": _numbers(lambda v: f"{int(v)}.0" if v.is_integer() else None),
    "date d/m/y": _dates(lambda d: d.strftime("%d/%m/%Y")),
    "date long": _dates(lambda d: f"{d.strftime('%B')} {d.day}, {d.year}"),
    "values upper case": _texts(str.upper),
    "values lower case": _texts(str.lower),
    "whitespace": _texts(lambda t: f"  {t}  "),
}
KINDS = {**dict.fromkeys(HEADER_VARIANTS, HEADER), **dict.fromkeys(VALUE_VARIANTS, VALUE)}


def perturbed(table: Table, variant: str) -> pd.DataFrame:
    """The table's texts under one variant (same shape, same column positions)."""
    texts = table.texts
    if variant in HEADER_VARIANTS:
        rename = HEADER_VARIANTS[variant]
        taken = set(texts.columns)
        renames = {}
        for column in texts.columns:
            new = rename(column)
            if new != column and new not in taken:  # never two columns of one name
                renames[column] = new
                taken.add(new)
        return texts.rename(columns=renames)
    change = VALUE_VARIANTS[variant]
    return pd.DataFrame(
        {c: change(table.frame[c], texts[c]) for c in texts.columns}, index=texts.index
    )


def _change(original: pd.DataFrame, variant: pd.DataFrame, j: int) -> str | None:
    """'before → after' for column j when its kept text differs, else None."""
    before, after = str(original.columns[j]), str(variant.columns[j])
    if before != after:
        return f"{before} → {after}"
    differs = original.iloc[:, j].to_numpy() != variant.iloc[:, j].to_numpy()
    if not differs.any():
        return None
    row = int(np.argmax(differs))
    return f"{original.iat[row, j]!r} → {variant.iat[row, j]!r}"


@dataclass(frozen=True)
class _Changed:
    """A variant's kept rows and its changed columns, waiting for embeddings."""

    variant: str
    frames: list[pd.DataFrame]  # the one perturbed table
    columns: list[int]
    changes: list[str]


def _unit(
    encoder: TableEncoder, table: Table, request: TablesRequest, variants: dict[str, pd.DataFrame]
) -> list[ScoreGroup]:
    def plan(mode: str) -> tuple[pd.DataFrame | None, list[ScoreGroup | _Changed]]:
        def not_measured(variant: str, note: str, changed: int | None = None) -> ScoreGroup:
            group = unmeasured(
                PERTURBATION, encoder.name, table.name, COLUMN, mode, SKIPPED, note, variant
            )
            group.extra = {"kind": KINDS[variant], "columns": len(table.columns)}
            if changed is not None:
                group.extra["columns_changed"] = changed
            return group

        fitted = column_fit(encoder, request, mode, table.texts)
        if fitted.skipped is not None:
            return None, [not_measured(v, fitted.skipped) for v in variants]
        # Every variant is scored on the fewest rows that fit any of them, found within r.
        fits = {
            v: fit_for(encoder, COLUMN, mode, f.iloc[: fitted.rows]) for v, f in variants.items()
        }
        rows = min([fitted.rows, *(f.rows for f in fits.values() if f.skipped is None)])
        original = table.texts.iloc[:rows]
        slots: list[ScoreGroup | _Changed] = []
        for variant, frame in variants.items():
            if fits[variant].skipped is not None:
                slots.append(not_measured(variant, str(fits[variant].skipped)))
                continue
            kept = frame.iloc[:rows]
            changes = [_change(original, kept, j) for j in range(kept.shape[1])]
            columns = [j for j, c in enumerate(changes) if c is not None]
            if not columns:
                what = "header" if KINDS[variant] == HEADER else "kept value"
                slots.append(not_measured(variant, f"this variant changes no {what}", 0))
                continue
            slots.append(_Changed(variant, [kept], columns, [changes[j] for j in columns]))
        return original, slots

    def score(
        mode: str,
        original: pd.DataFrame,
        slot: _Changed,
        reference: np.ndarray,
        vectors: list[np.ndarray],
    ) -> ScoreGroup:
        columns = slot.columns
        return measured_group(
            PERTURBATION,
            encoder,
            table,
            COLUMN,
            mode,
            reference[columns],
            [vectors[0][columns]],
            names=[str(original.columns[j]) for j in columns],
            rows_used=len(original),
            condition=slot.variant,
            extra={
                "kind": KINDS[slot.variant],
                "columns": original.shape[1],
                "columns_changed": len(columns),
            },
            item_extra=[{"change": change} for change in slot.changes],
        )

    return column_mode_groups(encoder, plan, score)


def run_perturbation(ctx: PropertyContext) -> PropertyOutput:
    """Column embeddings of header and value-format variants against the original's."""
    variants = {t.name: {v: perturbed(t, v) for v in KINDS} for t in ctx.tables}
    groups: list[ScoreGroup] = []
    for encoder, table in ctx.units():
        groups.extend(_unit(encoder, table, ctx.request, variants[table.name]))
    return PropertyOutput(groups=groups, extra={"variant_kinds": KINDS})


def _variant_scores(
    groups: list[ScoreGroup], model: str, mode: str, kind: str
) -> list[tuple[str, float]]:
    """(variant, mean cosine) of one kind, lowest first."""
    found = [
        (variant, summary.cosine)
        for variant in KINDS
        if KINDS[variant] == kind
        and (summary := summarise(groups, COLUMN, mode, variant).get(model)) is not None
    ]
    return sorted(found, key=lambda pair: pair[1])


def reading_perturbation(groups: list[ScoreGroup], extra: dict[str, Any]) -> str:
    labels = ((HEADER, "headers"), (VALUE, "value formats"))
    sentences = []
    for model in models_of(groups):
        parts = []
        for kind, label in labels:
            if scored := _variant_scores(groups, model, PER_ITEM, kind):
                parts.append(f"{label}: " + ", ".join(f"{v} {c:.3f}" for v, c in scored))
        contextual = [
            f"{label} {np.mean([c for _, c in scored]):.3f}"
            for kind, label in labels
            if (scored := _variant_scores(groups, model, CONTEXTUAL, kind))
        ]
        if contextual:
            parts.append("contextual mode, mean over variants: " + ", ".join(contextual))
        if parts:
            sentences.append(
                f"Perturbations move {model} column embeddings (changed columns only, mean "
                "cosine to the original) — " + "; ".join(parts) + "."
            )
        else:
            sentences.append(f"Perturbation robustness was not measured for {model}.")
    return " ".join(sentences) + skipped_text(groups)
