"""Corpora page: add a corpus (demo, upload, paste), embed it, inspect it, delete it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from analysis.core.config import Limits
from analysis.core.errors import UserError
from analysis.corpus.columns import detect_label_columns, detect_text_column
from analysis.corpus.corpora import (
    IngestOptions,
    delete_corpus,
    get_corpus,
    list_corpora,
    load_documents,
)
from analysis.corpus.demo import demo_corpora
from analysis.corpus.figures import label_counts, length_histogram
from analysis.corpus.readers import SUPPORTED_SUFFIXES, ParsedTable, read_pasted, read_path
from analysis.corpus.uploads import parse_uploads
from analysis.models.encoders import DEFAULT_MODEL_NAME
from analysis.models.int8_encoder import INT8_SPEC
from analysis.output.style import literal
from analysis.vectors.catalogue import corpus_models
from analysis.vectors.embedding import embed_corpus, embed_job_key
from analysis.vectors.ingest import ingest
from analysis.vectors.int8_fidelity import corpus_int8_fidelity
from pages._ui import (
    chart_actions,
    delete_with_confirmation,
    job_status,
    model_spec_input,
    require_navigation,
    start_job,
    store,
)

require_navigation()
st.title("Corpora")
st.caption(
    "Bring texts in, embed them, and check what you have. Everything is kept in the DuckDB store "
    "and is still here after a restart."
)


@st.cache_data(show_spinner="Reading…", max_entries=4)
def _read_demo(path: str) -> ParsedTable:
    return read_path(Path(path), Limits.from_env())


@st.cache_data(show_spinner="Reading…", max_entries=4)
def _read_uploads(files: tuple[tuple[str, bytes], ...]) -> list[ParsedTable]:
    return parse_uploads(list(files), Limits.from_env())


def _source_tables() -> tuple[list[ParsedTable], str] | None:
    """Let the user pick where texts come from; returns the parsed tables and a default name."""
    source = st.radio(
        "Source", ["Demo corpus", "Upload files", "Paste text"], horizontal=True, key="source"
    )
    if source == "Demo corpus":
        demos = {d.name: d for d in demo_corpora()}
        name = st.selectbox("Demo corpus", list(demos), key="demo_name")
        demo = demos[name]
        st.caption(f"{demo.description} ({demo.rows:,} rows)")
        return [_read_demo(str(demo.path))], name
    if source == "Upload files":
        uploaded = st.file_uploader(
            "Files (CSV, TSV, JSON Lines, JSON, Parquet, TXT; a .npy beside a CSV adds vectors)",
            type=[s.lstrip(".") for s in (*SUPPORTED_SUFFIXES, ".npy")],
            accept_multiple_files=True,
            key="uploads",
        )
        if not uploaded:
            return None
        files = tuple((f.name, f.getvalue()) for f in uploaded)
        return _read_uploads(files), Path(uploaded[0].name).stem
    text = st.text_area(
        "Paste texts: one per line, or paragraphs separated by a blank line",
        height=180,
        key="pasted",
    )
    if not text.strip():
        return None
    return [read_pasted(text, Limits.from_env())], "pasted"


def _column_choices(tables: list[ParsedTable]) -> IngestOptions | None:
    first = tables[0].frame
    columns = [str(c) for c in first.columns]
    for table in tables:
        for notice in table.notices:
            st.info(literal(f"{table.source}: {notice}"))
        if table.vectors is not None:
            st.info(
                literal(
                    f"{table.source}: {table.vectors.shape[1]}-dimensional vectors from "
                    f"{table.vector_source} will be imported as their own model."
                )
            )
    st.dataframe(first.head(20), hide_index=True, width="stretch")
    detected = detect_text_column(first)
    text_column = st.selectbox(
        "Text column",
        columns,
        index=columns.index(detected) if detected in columns else 0,
        key="text_column",
    )
    others = [c for c in columns if c != text_column]
    labels = st.multiselect(
        "Label columns (categories to colour by and probe)",
        others,
        default=[c for c in detect_label_columns(first, text_column) if c in others],
        key="label_columns",
    )
    keep = st.multiselect("Metadata columns to keep", others, default=others, key="keep_columns")
    vector_model = None
    if any(t.vectors is not None for t in tables):
        vector_model = st.text_input("Name for the imported vectors", "imported", key="vec_name")
    return IngestOptions(
        name="",
        text_column=text_column,
        label_columns=[c for c in labels if c in keep],
        metadata_columns=keep,
        vector_model=vector_model,
    )


def start_embedding(corpus: str, spec: str) -> None:
    """Embed a corpus in the background: one job per corpus and model spec."""
    start_job(
        "embed",
        f"Embedding {corpus} with {spec}",
        lambda progress: embed_corpus(store(), corpus, spec, progress),
        key=embed_job_key(corpus, spec),
        unit="texts",
    )


def add_corpus() -> None:
    try:
        picked = _source_tables()
    except UserError as exc:
        st.error(literal(exc.message))
        return
    if picked is None:
        return
    tables, default_name = picked
    options = _column_choices(tables)
    if options is None:
        return
    if st.session_state.get("corpus_name_default") != default_name:
        # A new source brings a new suggested name; keyed widgets would keep the old one.
        st.session_state["corpus_name_default"] = default_name
        st.session_state["corpus_name"] = default_name
    name = st.text_input("Corpus name", key="corpus_name")
    embed_now = st.checkbox("Embed with the bundled all-MiniLM-L6-v2 right away", value=True)
    if not st.button("Create corpus", type="primary", key="create"):
        return
    options.name = name
    try:
        corpus, _ = ingest(store(), tables, options, Limits.from_env())
    except UserError as exc:
        st.error(literal(exc.message))
        return
    st.success(
        f"Created '{literal(corpus.name)}': {corpus.n_rows:,} texts, {corpus.dropped_empty:,} "
        f"empty dropped, {corpus.duplicates:,} duplicates kept."
    )
    # The Inspect box (drawn below, later in this run) switches to the new corpus, so its
    # embedding's progress and outcome show there, not another corpus's.
    st.session_state["inspect"] = st.session_state["inspect_select"] = corpus.name
    if embed_now:
        start_embedding(corpus.name, "default")


def corpus_table() -> list[str]:
    corpora = list_corpora(store())
    if not corpora:
        st.info("No corpora yet: add one above (the demo corpus takes a few seconds).")
        return []
    rows = [
        {
            "corpus": c.name,
            "texts": c.n_rows,
            "models": ", ".join(m.name for m in corpus_models(store(), c)) or "not embedded",
            "labels": ", ".join(c.label_columns),
            "created": c.created_at[:19],
        }
        for c in corpora
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    return [c.name for c in corpora]


def inspect(name: str) -> None:
    corpus = get_corpus(store(), name)
    st.markdown(
        f"**Sources:** {literal(', '.join(corpus.sources))} · text column "
        f"{literal(corpus.text_column)}"
    )
    for notice in corpus.notices:
        st.caption(literal(notice))
    models = corpus_models(store(), corpus)
    if models:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "model": m.name,
                        "backend": m.backend,
                        "revision": m.revision,
                        "dim": m.dim,
                        "layers": m.n_layers,
                        "pooling": m.pooling,
                        "max tokens": m.max_length,
                        "seconds": round(m.seconds, 1),
                        "source": m.source,
                    }
                    for m in models
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    embed_controls(corpus.name)
    documents = load_documents(store(), corpus)
    st.subheader("Sample")
    shown = documents.drop(columns=["text_sha256"]).head(10)
    st.dataframe(shown, hide_index=True, width="stretch")
    left, right = st.columns(2)
    with left:
        lengths = length_histogram(documents["n_tokens"].to_numpy(), corpus.name)
        st.plotly_chart(lengths)
        chart_actions(
            lengths,
            key="lengths",
            corpus=corpus.name,
            analysis="lengths",
            model=DEFAULT_MODEL_NAME,
            data=documents[["doc_id", "n_tokens", "n_chars"]],
        )
    if corpus.label_columns:
        with right:
            column = st.selectbox("Label column", corpus.label_columns, key="inspect_label")
            counts = label_counts(documents[column], corpus.name, column)
            st.plotly_chart(counts)
            chart_actions(
                counts,
                key="labels",
                corpus=corpus.name,
                analysis=f"labels-{column}",
                model="none",
                data=documents[column].value_counts(dropna=False).rename_axis(column).reset_index(),
            )
    delete_controls(corpus.name)


def embed_controls(name: str) -> None:
    with st.form(f"embed_{name}", border=False):
        spec = model_spec_input("embed")
        submitted = st.form_submit_button("Embed")
    if spec == INT8_SPEC:
        int8_fidelity(name)
    if submitted:
        if spec is None:
            st.error("Enter the folder of a sentence-transformers model.")
        else:
            start_embedding(name, spec)
    # After a reload (a new session) the embedding still running for this corpus is found again.
    job = job_status("embed", embed_job_key(name, spec) if spec else None)
    if job is not None and job.status == "done" and job.result is not None:
        result = job.result
        st.success(
            f"Embedded {literal(result.corpus)} with {literal(result.model)}: "
            f"{result.rows:,} texts, {result.dim} dims, {result.encoded:,} encoded, "
            f"{result.cached:,} from the cache, {result.duplicates:,} duplicates of another "
            f"text, {result.seconds:.1f} s."
        )


def int8_fidelity(name: str) -> None:
    """What the int8 model costs in accuracy, measured on this corpus's own first texts."""
    try:
        with st.spinner("Measuring int8 against fp32 on this corpus…"):
            fidelity = corpus_int8_fidelity(store(), get_corpus(store(), name))
    except UserError as exc:
        st.warning(literal(exc.message))
        return
    st.caption(fidelity.describe())


def delete_controls(name: str) -> None:
    def delete() -> None:
        delete_corpus(store(), name)
        st.session_state.pop("inspect", None)
        st.session_state.pop("inspect_select", None)

    delete_with_confirmation(
        name,
        f"Delete corpus '{name}' with its documents and embeddings? This cannot be undone.",
        delete,
        key="delete",
    )


# Decided once per session: if it followed the live corpus count, the expander would fold up in
# the middle of an upload whenever another session created a corpus.
st.session_state.setdefault("add_expanded", not list_corpora(store()))
with st.expander("Add a corpus", expanded=st.session_state["add_expanded"]):
    add_corpus()

st.subheader("Your corpora")
names = corpus_table()
if names:
    current = st.session_state.get("inspect")
    chosen = st.selectbox(
        "Inspect",
        names,
        index=names.index(current) if current in names else 0,
        key="inspect_select",
    )
    st.session_state["inspect"] = chosen
    inspect(chosen)
