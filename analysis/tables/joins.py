"""Join relationship (observatory.md, property 3): does the cosine of two column embeddings
follow how much their values overlap?

Overlaps are computed on the full distinct value sets (the embedding may see only the leading
rows that fit, the overlap never depends on the model). Containment is |A∩B| / |A| with A the
column with fewer distinct values, the direction in which a foreign key is contained in its key,
so a pair's score does not depend on which table was listed first. With several tables only
pairs across tables are scored (the join question); with one table, pairs within it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from itertools import combinations
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from analysis.core.config import DEMO_DIR
from analysis.tables.context import MAX_JOIN_COLUMNS, PropertyContext, PropertyOutput
from analysis.tables.data import Table
from analysis.tables.encoding import PER_ITEM
from analysis.tables.scores import SKIPPED, ScoreGroup, unmeasured
from analysis.tables.serialise import COLUMN, column_texts

PROPERTY = "join"
CONDITION = "column pairs"
OVERLAPS = ("containment", "jaccard", "weighted_jaccard")
TOP_PAIRS = 10
ALL_TABLES = "all tables"


def scope_name(tables: Sequence[Table]) -> str:
    """The table field of a group that spans the chosen tables: the name when there is one."""
    return tables[0].name if len(tables) == 1 else ALL_TABLES


def overlaps(a: Counter[str], b: Counter[str]) -> dict[str, float]:
    """Containment of the smaller distinct set in the other, Jaccard, and weighted Jaccard
    (sum of min over sum of max of the value counts)."""
    common = len(a.keys() & b.keys())
    union = len(a.keys() | b.keys())
    smaller = min(len(a), len(b))
    values = a.keys() | b.keys()
    low = sum(min(a[v], b[v]) for v in values)
    high = sum(max(a[v], b[v]) for v in values)
    return {
        "containment": common / smaller if smaller else 0.0,
        "jaccard": common / union if union else 0.0,
        "weighted_jaccard": low / high if high else 0.0,
    }


def value_counts(table: Table, column: str) -> Counter[str]:
    """Counts of the non-empty canonical texts: an empty cell matches nothing."""
    return Counter(v for v in table.texts[column] if v)


def column_pairs(
    columns: dict[str, list[str]],
) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """(table, column) pairs across every two tables, or within the only table."""
    names = list(columns)
    if len(names) == 1:
        only = names[0]
        return [((only, a), (only, b)) for a, b in combinations(columns[only], 2)]
    return [
        ((t1, a), (t2, b))
        for t1, t2 in combinations(names, 2)
        for a in columns[t1]
        for b in columns[t2]
    ]


def documented_joins(tables: Sequence[Table]) -> set[frozenset[tuple[str, str]]]:
    """Joins the demo manifest documents ("a.x = b.y"), for the bundled tables only."""
    demo = {t.name for t in tables if t.source.startswith("demo:")}
    if not demo:
        return set()
    entries = json.loads((DEMO_DIR / "manifest.json").read_text(encoding="utf-8"))
    joins = set()
    for entry in entries:
        for join in entry.get("joins", ()):
            left, right = (side.strip().split(".", 1) for side in join.split("="))
            if left[0] in demo and right[0] in demo:
                joins.add(frozenset({(left[0], left[1]), (right[0], right[1])}))
    return joins


MIN_PAIRS_FOR_P = 10


def spearman(x: Sequence[float], y: Sequence[float]) -> dict[str, Any]:
    """Spearman's rho with its p-value and n, or None with the reason it is undefined."""
    n = len(x)
    reason = None
    if n < 3:
        reason = "fewer than 3 pairs"
    elif np.ptp(x) == 0 or np.ptp(y) == 0:
        reason = "one of the two is constant over the pairs"
    if reason is not None:
        return {"rho": None, "p_value": None, "n": n, "note": reason}
    result = spearmanr(x, y)
    if n < MIN_PAIRS_FOR_P:
        note = f"no p-value below {MIN_PAIRS_FOR_P} pairs (the asymptotic one would mislead)"
        return {"rho": float(result.statistic), "p_value": None, "n": n, "note": note}
    return {"rho": float(result.statistic), "p_value": float(result.pvalue), "n": n, "note": ""}


def _column_vectors(
    ctx: PropertyContext, columns: dict[str, list[str]]
) -> tuple[dict[str, dict[tuple[str, str], np.ndarray]], dict[str, dict[str, int]], dict]:
    """Per model, each (table, column) embedding, rows used per table, and skipped tables."""
    vectors: dict[str, dict[tuple[str, str], np.ndarray]] = {}
    rows: dict[str, dict[str, int]] = {}
    skipped: dict[str, dict[str, str]] = {}
    for encoder, table in ctx.units():
        texts = table.texts[columns[table.name]]
        fitted = encoder.fit(texts, COLUMN)
        own = vectors.setdefault(encoder.name, {})
        if fitted.skipped:
            skipped.setdefault(encoder.name, {})[table.name] = fitted.skipped
            continue
        rows.setdefault(encoder.name, {})[table.name] = fitted.rows
        encoded = encoder.encode(column_texts(texts.iloc[: fitted.rows]))
        own.update({(table.name, c): v for c, v in zip(texts.columns, encoded, strict=True)})
    return vectors, rows, skipped


def run_join(ctx: PropertyContext) -> PropertyOutput:
    """One group per model: every column pair with its cosine and value overlaps."""
    tables = {t.name: t for t in ctx.tables}
    columns = {name: t.columns[:MAX_JOIN_COLUMNS] for name, t in tables.items()}
    left_out = {name: len(t.columns) - len(columns[name]) for name, t in tables.items()}
    pairs = column_pairs(columns)
    joins = documented_joins(ctx.tables)
    counts = {(t, c): value_counts(tables[t], c) for t, names in columns.items() for c in names}
    measured = {(a, b): overlaps(counts[a], counts[b]) for a, b in pairs}
    vectors, rows, skipped = _column_vectors(ctx, columns)
    scope = scope_name(ctx.tables)
    groups: list[ScoreGroup] = []
    spearmans: dict[str, dict] = {}
    top_pairs: dict[str, list] = {}
    for encoder in ctx.encoders:
        own = vectors[encoder.name]
        items = [
            {
                "item": f"{a[0]}.{a[1]} ~ {b[0]}.{b[1]}",
                "table_a": a[0],
                "column_a": a[1],
                "table_b": b[0],
                "column_b": b[1],
                "cosine": float(own[a] @ own[b]),
                **measured[(a, b)],
                "documented_join": frozenset({a, b}) in joins,
            }
            for a, b in pairs
            if a in own and b in own
        ]
        extra = {"rows_used": rows.get(encoder.name, {}), "skipped": skipped.get(encoder.name, {})}
        if not items:
            reasons = "; ".join(f"{t}: {r}" for t, r in extra["skipped"].items())
            group = unmeasured(
                PROPERTY,
                encoder.name,
                scope,
                COLUMN,
                PER_ITEM,
                SKIPPED,
                f"no column pair to score ({reasons or 'too few columns'})",
                CONDITION,
            )
            group.extra = extra
            groups.append(group)
            continue
        groups.append(
            ScoreGroup(
                property=PROPERTY,
                model=encoder.name,
                table=scope,
                granularity=COLUMN,
                mode=PER_ITEM,
                condition=CONDITION,
                items=items,
                extra=extra,
            )
        )
        cosines = [i["cosine"] for i in items]
        spearmans[encoder.name] = {m: spearman(cosines, [i[m] for i in items]) for m in OVERLAPS}
        top_pairs[encoder.name] = sorted(items, key=lambda i: -i["cosine"])[:TOP_PAIRS]
    return PropertyOutput(
        groups=groups,
        extra={
            "spearman": spearmans,
            "top_pairs": top_pairs,
            "pairs": len(pairs),
            "scope": "within one table" if len(tables) == 1 else "across tables",
            "columns_left_out": left_out,
            "max_columns": MAX_JOIN_COLUMNS,
        },
    )


def reading_join(groups: Sequence[ScoreGroup], extra: dict[str, Any]) -> str:
    """Per model: how strongly cosine ranks pairs like each overlap measure, and the top pair."""
    parts = [f"{extra['pairs']} column pairs {extra['scope']}"]
    left_out = sum(extra["columns_left_out"].values())
    if left_out:
        parts.append(f"{left_out} column(s) beyond the first {extra['max_columns']} left out")
    for group in groups:
        if group.model not in extra["spearman"]:
            parts.append(f"{group.model}: not measured ({group.note})")
            continue
        top = extra["top_pairs"][group.model][0]
        parts.append(
            f"{group.model}: {_rhos(extra['spearman'][group.model])}; the most similar pair is "
            f"{top['item']} (cosine {top['cosine']:.3f}, containment {top['containment']:.2f})"
        )
    return "; ".join(parts) + "."


def _p_text(stat: dict[str, Any]) -> str:
    return f"p = {stat['p_value']:.2g}, " if stat["p_value"] is not None else "too few for p, "


def _rhos(spearman: dict[str, dict[str, Any]]) -> str:
    """The defined correlations with p and n, then the undefined ones once with their reason."""
    defined = [
        f"{name.replace('_', ' ')} {stat['rho']:.2f} ({_p_text(stat)}n = {stat['n']})"
        for name, stat in spearman.items()
        if stat["rho"] is not None
    ]
    undefined: dict[str, list[str]] = {}
    for name, stat in spearman.items():
        if stat["rho"] is None:
            undefined.setdefault(stat["note"], []).append(name.replace("_", " "))
    clauses = [f"Spearman ρ of cosine with {', '.join(defined)}"] if defined else []
    clauses += [f"ρ undefined for {', '.join(names)} ({note})" for note, names in undefined.items()]
    return "; ".join(clauses)
