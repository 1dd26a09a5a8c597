"""Tables page: Observatory-style properties of table embeddings (observatory.md)."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from analysis.core.config import Limits
from analysis.core.errors import UserError
from analysis.output.style import literal
from analysis.tables.context import (
    DEFAULT_ENTITY_K,
    DEFAULT_RATIOS,
    DEFAULT_SAMPLES,
    TablesRequest,
)
from analysis.tables.data import MAX_COLUMNS_DEFAULT, Table, read_table_bytes
from analysis.tables.encoding import DEFAULT_MAX_LENGTH, THOROUGH_MAX_LENGTH
from analysis.tables.permutations import DEFAULT_PERMUTATIONS, MAX_PERMUTATIONS
from analysis.tables.properties import CITATION, PROPERTIES
from analysis.tables.property_run import TablePropertyRun
from analysis.tables.runs import stored_runs
from analysis.tables.store import (
    available_tables,
    delete_stored_table,
    save_table,
    stored_tables,
)
from pages._tables_ui import property_section
from pages._ui import delete_with_confirmation, layer_model_choices, require_navigation
from pages._ui import store as open_store

require_navigation()
st.title("Tables")
st.caption(
    "Do table embeddings respect what the relational model says is irrelevant (row and column "
    f"order) or meaningful (joins, dependencies)? {CITATION}"
)

DEFAULT_TABLES = ("countries", "employees")
RATIO_CHOICES = (0.1, 0.25, 0.5, 0.75, 0.9)
TABLE_TYPES = ["csv", "tsv", "parquet", "jsonl", "ndjson", "json"]


def upload_tables() -> None:
    """Uploaded tables are validated and stored, then chosen in the Tables box below."""
    files = st.file_uploader(
        "Add tables (CSV, TSV, Parquet, JSON Lines)",
        type=TABLE_TYPES,
        accept_multiple_files=True,
        key="tab_upload",
    )
    if not files or not st.button("Add the uploaded tables", key="tab_add"):
        return
    limits = Limits.from_env()
    uploaded = []
    for file in files:
        try:
            table = read_table_bytes(file.getvalue(), file.name, limits)
            added = save_table(open_store(), table)
        except UserError as exc:
            st.error(literal(exc.message))
            continue
        uploaded.append(table.name)
        if added:
            st.success(
                f"Added '{literal(table.name)}' ({table.n_rows:,} rows × "
                f"{len(table.columns)} cols) and chose it below."
            )
        else:
            st.info(
                f"'{literal(table.name)}' is stored already with the same content; chose it below."
            )
        for notice in table.notices:
            st.warning(literal(f"{table.name}: {notice}"))
    if uploaded:  # before the Tables box is drawn in this run, so it shows them
        st.session_state["tab_tables"] = uploaded


def manage_uploads() -> None:
    uploads = stored_tables(open_store())
    if not uploads:
        return
    with st.expander(f"Uploaded tables ({len(uploads)})"):
        for info in uploads:
            st.caption(
                f"**{literal(info.name)}**: {info.n_rows:,} rows × {info.n_cols} columns, from "
                f"{literal(info.source)}, added {info.created_at[:16]}"
            )
        name = st.selectbox("Table", [u.name for u in uploads], key="tab_delete_choice")
        delete_with_confirmation(
            name,
            f"Delete the uploaded table '{name}'? Stored runs on it stay readable under "
            "Stored runs; the table itself cannot be brought back.",
            lambda: delete_stored_table(open_store(), name),
            key="tab_delete",
        )


def pick_tables(known: dict[str, Table]) -> list[Table]:
    """The chosen tables (the demo defaults at first, the uploaded ones right after an upload)
    with the columns to use."""
    chosen_names = st.session_state.get("tab_tables")
    if chosen_names is None:
        chosen_names = [n for n in DEFAULT_TABLES if n in known]
    st.session_state["tab_tables"] = [n for n in chosen_names if n in known]  # deleted: gone
    names = st.multiselect(
        "Tables",
        list(known),
        key="tab_tables",
        help="The demo tables ship with documented keys, functional dependencies and joins.",
    )
    chosen = []
    for name in names:
        table = known[name]
        with st.expander(f"{literal(name)}: {table.n_rows:,} rows × {len(table.columns)} columns"):
            st.caption(literal(table.source))
            columns = st.multiselect(
                "Columns to use",
                table.columns,
                default=table.columns[:MAX_COLUMNS_DEFAULT],
                key=f"tab_cols_{name}",
                help=f"Up to {MAX_COLUMNS_DEFAULT} columns is comfortable on a 2-core CPU.",
            )
            st.dataframe(table.texts.head(8), hide_index=True, key=f"tab_preview_{name}")
        if len(columns) < 2:
            st.warning(f"{literal(name)}: pick at least two columns; it is left out until then.")
            continue
        chosen.append(table.with_columns(columns))
    return chosen


def pick_models() -> tuple[str, ...]:
    builtin = {label: spec for label, spec in layer_model_choices().items() if spec != "path"}
    labels = st.multiselect(
        "Models (compared in one figure)",
        list(builtin),
        default=list(builtin)[:1],
        key="tab_models",
    )
    path = st.text_input(
        "Also a local sentence-transformers folder (optional)",
        key="tab_model_path",
        placeholder="/models/my-sentence-transformer",
    )
    specs = [builtin[label] for label in labels]
    if path.strip():
        specs.append(path.strip())
    return tuple(specs)


def settings(models: tuple[str, ...], properties: list[str]) -> TablesRequest:
    """The settings the chosen properties use (the others keep their defaults)."""
    cols = st.columns(4)
    k, ratios, samples, entity_k = (
        DEFAULT_PERMUTATIONS,
        list(DEFAULT_RATIOS),
        DEFAULT_SAMPLES,
        DEFAULT_ENTITY_K,
    )
    if {"row-order", "column-order"} & set(properties):
        k = cols[0].number_input(
            "Permutations K", 1, MAX_PERMUTATIONS, DEFAULT_PERMUTATIONS, key="tab_k"
        )
    if "sample-fidelity" in properties:
        ratios = cols[1].multiselect(
            "Sample ratios", RATIO_CHOICES, default=list(DEFAULT_RATIOS), key="tab_ratios"
        )
        samples = cols[2].number_input(
            "Samples per ratio", 1, 20, DEFAULT_SAMPLES, key="tab_samples"
        )
    if "entity-stability" in properties:
        entity_k = cols[3].number_input(
            "Neighbours K (entities)", 1, 100, DEFAULT_ENTITY_K, key="tab_entity_k"
        )
    cols = st.columns(3)
    seed = cols[0].number_input("Seed", 0, 2**31 - 1, 0, key="tab_seed")
    thorough = cols[1].checkbox(
        f"Thorough ({THOROUGH_MAX_LENGTH}-token column text)",
        key="tab_thorough",
        help=f"Column text is cut by whole rows to {DEFAULT_MAX_LENGTH} tokens by default.",
    )
    contextual = cols[2].checkbox(
        "Contextual column embeddings too",
        value=True,
        key="tab_contextual",
        help="Observatory's encoding of the whole table in one sequence, [CLS] per column.",
    )
    return TablesRequest(
        property=properties[0] if properties else "row-order",
        models=models,
        permutations=int(k),
        ratios=tuple(sorted(ratios)),
        samples=int(samples),
        seed=int(seed),
        max_length=THOROUGH_MAX_LENGTH if thorough else DEFAULT_MAX_LENGTH,
        contextual=bool(contextual),
        entity_k=int(entity_k),
    )


def run_section(tables: list[Table], request: TablesRequest, properties: list[str]) -> None:
    """Each chosen property: its stored result at once, or its estimate and a Run button."""
    for prop in properties:
        run = TablePropertyRun(open_store(), tables, replace(request, property=prop))
        property_section(f"tab_{prop}", run)


def reopen_section() -> None:
    runs = stored_runs(open_store())
    if not runs:
        return
    with st.expander(f"Stored runs ({len(runs)})"):
        chosen = st.selectbox(
            "Reopen a stored run",
            runs,
            format_func=lambda r: r.label(),
            index=None,
            key="tab_reopen",
        )
        if chosen is not None:
            run = TablePropertyRun.reopen(open_store(), chosen.result_id)
            property_section(f"tab_old_{chosen.result_id}", run)


def main() -> None:
    upload_tables()
    manage_uploads()
    known = available_tables(open_store())
    tables = pick_tables(known)
    models = pick_models()
    properties = st.multiselect(
        "Properties",
        list(PROPERTIES),
        default=["row-order"],
        format_func=lambda p: PROPERTIES[p].title,
        key="tab_properties",
    )
    for prop in properties:
        st.caption(f"**{PROPERTIES[prop].title}** — {PROPERTIES[prop].question}")
    try:
        request = settings(models, properties)
    except UserError as exc:
        st.error(literal(exc.message))
        return
    if not tables or not models or not properties:
        st.info("Choose at least one table, one model and one property.")
    else:
        run_section(tables, request, properties)
    reopen_section()


main()
