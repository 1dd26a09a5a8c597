"""What a probe is trained on: labelled rows of a corpus, checked, and the folds every probe shares.

Every refusal a user can act on happens here, before any model runs: a label with one class,
classes too small for the folds, a missing column. Problems that only weaken the result (small
classes, duplicate texts with different labels, a subsample) become notices shown with it.

Real labels are long-tailed, so a refusal over small classes names every one of them and the
size that would do; the user can then ask for classes below a minimum size to be dropped or
merged into "other", and the notice of the run names every class that was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.core.errors import UserError
from analysis.core.store import Store
from analysis.corpus.corpora import Corpus, load_documents

MIN_PER_FOLD = 5  # examples of every class in every test fold
WARN_PER_CLASS = 50
SUBSAMPLE_ABOVE = 5_000
SUBSAMPLE_SIZE = 2_000
MAX_CLASSES = 100
SMALL_CLASS_RULES = ("drop", "merge")
OTHER = "other"


def check_small_classes(min_class_size: int, rule: str) -> None:
    """Refuse a minimum class size or a treatment of the classes below it that cannot be used."""
    if min_class_size < 0:
        raise UserError("The minimum class size cannot be negative (0 keeps every class).")
    if rule not in SMALL_CLASS_RULES:
        raise UserError(
            f"Classes below the minimum size can be dropped or merged, not '{rule}'; choose "
            f"{' or '.join(SMALL_CLASS_RULES)}."
        )


class SmallClassesError(UserError):
    """Classes too small for the folds, every one of them, and the size each class needs.

    A front end offers its own way out (a control on the page, a flag on the command line):
    ``minimum`` is the smallest minimum class size that drops or merges all of ``classes``.
    """

    def __init__(self, message: str, classes: dict[str, int], minimum: int) -> None:
        super().__init__(message)
        self.classes = classes
        self.minimum = minimum


@dataclass(frozen=True)
class ProbeData:
    """Labelled rows, in doc_id order; ``rows`` are doc ids (row positions of the corpus)."""

    rows: np.ndarray
    texts: list[str]
    labels: np.ndarray  # int codes into ``classes``
    classes: list[str]
    groups: np.ndarray | None
    n_corpus: int
    notices: list[str]
    label_column: str = ""
    small_classes: dict[str, Any] | None = None  # what a minimum class size dropped or merged

    @property
    def n(self) -> int:
        return int(self.rows.size)

    @property
    def k(self) -> int:
        return len(self.classes)

    def class_counts(self) -> dict[str, int]:
        counts = np.bincount(self.labels, minlength=self.k)
        return {name: int(c) for name, c in zip(self.classes, counts, strict=True)}


def _column(corpus: Corpus, documents: pd.DataFrame, name: str, role: str) -> pd.Series:
    if name not in documents.columns or name not in corpus.metadata_names:
        known = ", ".join(corpus.metadata_names) or "none"
        raise UserError(
            f"Corpus '{corpus.name}' has no column '{name}' to use as the {role}; "
            f"its columns are: {known}."
        )
    return documents[name]


def _as_text(values: pd.Series) -> pd.Series:
    """Labels as strings ('' for missing), so 1 and '1' and 1.0 from a CSV read the same."""
    text = values.astype("string").fillna("").str.strip()
    return (
        text.str.replace(r"\.0$", "", regex=True) if pd.api.types.is_float_dtype(values) else text
    )


def _conflicting_duplicates(documents: pd.DataFrame, labels: pd.Series) -> str | None:
    frame = pd.DataFrame(
        {"h": documents["text_sha256"], "label": labels, "text": documents["text"]}
    )
    per_text = frame.groupby("h")["label"].nunique()
    conflicting = per_text[per_text > 1]
    if conflicting.empty:
        return None
    example = frame.loc[frame["h"] == conflicting.index[0], "text"].iloc[0]
    example = example if len(example) <= 60 else example[:59] + "…"
    return (
        f"{conflicting.size:,} text(s) occur more than once with different labels (e.g. "
        f"'{example}'); no probe can get all of their copies right."
    )


def _named(counts: dict[str, int]) -> str:
    """Every class with its count, rarest first: "'a' (3), 'b' (7)"."""
    ordered = sorted(counts.items(), key=lambda item: (item[1], item[0]))
    return ", ".join(f"'{name}' ({count:,})" for name, count in ordered)


def _merged_name(classes: set[str], small: dict[str, int]) -> str:
    """'other', unless a kept class is already called that."""
    name, suffix = OTHER, 1
    while name in classes and name not in small:
        suffix += 1
        name = f"{OTHER} ({suffix})"
    return name


def apply_min_class_size(
    labels: pd.Series, min_class_size: int, rule: str
) -> tuple[pd.Series, dict[str, Any] | None]:
    """Drop the classes below ``min_class_size`` (label ''), or merge them into one class.

    Returns the labels and what was done (the minimum, the rule, every class affected with its
    count, the merged class's name), or None when no class is below the minimum.
    """
    check_small_classes(min_class_size, rule)
    counts = labels[labels != ""].value_counts()
    small = {str(name): int(n) for name, n in counts.items() if n < min_class_size}
    if not small:
        return labels, None
    done: dict[str, Any] = {"min_class_size": min_class_size, "rule": rule, "classes": small}
    if rule == "merge":
        done["merged_into"] = _merged_name(set(counts.index), small)
    replacement = done.get("merged_into", "")
    return labels.where(~labels.isin(list(small)), replacement), done


def small_classes_notice(label_column: str, done: dict[str, Any]) -> str:
    """The sentence shown with a result: which classes a minimum size dropped or merged."""
    classes = done["classes"]
    rows = sum(classes.values())
    what = (
        f"Merged {len(classes)} class(es) of '{label_column}' with fewer than "
        f"{done['min_class_size']:,} examples into '{done['merged_into']}'"
        if done["rule"] == "merge"
        else f"Dropped {len(classes)} class(es) of '{label_column}' with fewer than "
        f"{done['min_class_size']:,} examples"
    )
    return f"{what} ({rows:,} row(s)): {_named(classes)}."


def _stratified_subsample(labels: np.ndarray, size: int, seed: int) -> np.ndarray:
    from sklearn.model_selection import train_test_split

    try:
        keep, _ = train_test_split(
            np.arange(labels.size), train_size=size, stratify=labels, random_state=seed
        )
    except ValueError as exc:  # a class with a single example cannot be stratified
        raise UserError(f"Cannot draw a stratified subsample of {size:,} rows: {exc}") from exc
    return np.sort(keep)


def probed_rows(n_labelled: int, subsample: int | None) -> int:
    """How many labelled rows a probe uses: None = automatic, 0 = all, else at most that many."""
    if subsample is None:
        return SUBSAMPLE_SIZE if n_labelled > SUBSAMPLE_ABOVE else n_labelled
    return min(n_labelled, subsample) if subsample else n_labelled


def probe_data(
    store: Store,
    corpus: Corpus,
    label_column: str,
    group_column: str | None = None,
    subsample: int | None = None,
    seed: int = 0,
    min_class_size: int = 0,
    small_classes: str = "drop",
) -> ProbeData:
    """The labelled rows of a corpus, validated; refuses what no probe could learn from.

    ``subsample``: None = automatic (a stratified 2,000 above 5,000 rows), 0 = every row,
    otherwise a stratified sample of that many rows when the corpus has more.
    ``min_class_size``: classes with fewer labelled rows are dropped, or merged into one class
    (``small_classes`` 'drop' or 'merge'), before anything else is checked; 0 keeps them all.
    """
    documents = load_documents(store, corpus)
    labels = _as_text(_column(corpus, documents, label_column, "label"))
    has_text = documents["text"].str.strip() != ""
    keep = (labels != "") & has_text
    notices = []
    if (labels == "").any():
        notices.append(
            f"Dropped {int((labels == '').sum()):,} row(s) without a '{label_column}' label."
        )
    if (~has_text).any():
        notices.append(f"Dropped {int((~has_text).sum()):,} empty text(s).")
    if group_column:
        groups = _as_text(_column(corpus, documents, group_column, "group column"))
        ungrouped = keep & (groups == "")
        if ungrouped.any():
            notices.append(
                f"Dropped {int(ungrouped.sum()):,} row(s) without a value in the group column "
                f"'{group_column}'."
            )
        keep &= groups != ""
    documents, labels = documents[keep], labels[keep]
    labels, done = apply_min_class_size(labels, min_class_size, small_classes)
    if done is not None:
        notices.append(small_classes_notice(label_column, done))
        documents, labels = documents[labels != ""], labels[labels != ""]
    classes = sorted(labels.unique())
    if len(classes) < 2:
        found = f"only one class ('{classes[0]}')" if classes else "no labelled rows"
        after = (
            f" once the classes below {min_class_size:,} examples are {done['rule']}d"
            "; lower the minimum class size or merge them"
            if done is not None
            else ""
        )
        raise UserError(
            f"Label column '{label_column}' has {found}{after}; a probe needs at least 2 "
            "classes to tell apart."
        )
    if len(classes) > MAX_CLASSES:
        raise UserError(
            f"Label column '{label_column}' has {len(classes):,} distinct values; a probe takes at "
            f"most {MAX_CLASSES} classes. Is it a free-text or numeric column? If it has a long "
            "tail of rare values, set a minimum class size to drop them or merge them into "
            f"'{OTHER}'."
        )
    conflict = _conflicting_duplicates(documents, labels)
    if conflict:
        notices.append(conflict)
    codes = labels.map({name: i for i, name in enumerate(classes)}).to_numpy(dtype=np.int64)
    rows = documents["doc_id"].to_numpy(dtype=np.int64)
    size = probed_rows(rows.size, subsample)
    if size < rows.size:
        if size < len(classes) * 2:
            raise UserError(
                f"A subsample of {size:,} rows is too small for {len(classes)} classes."
            )
        chosen = _stratified_subsample(codes, size, seed)
        notices.append(
            f"Probing a stratified random subsample of {size:,} of {rows.size:,} labelled texts "
            f"(seed {seed}); ask for more with a larger subsample, or all of them with 0."
        )
        documents, codes, rows = documents.iloc[chosen], codes[chosen], rows[chosen]
    counts = np.bincount(codes, minlength=len(classes))
    small = [f"'{c}' ({n})" for c, n in zip(classes, counts, strict=True) if n < WARN_PER_CLASS]
    if small:
        notices.append(
            f"{len(small)} class(es) have fewer than {WARN_PER_CLASS} examples: "
            f"{', '.join(small[:5])}{' …' if len(small) > 5 else ''}; expect wide intervals."
        )
    return ProbeData(
        rows=rows,
        texts=documents["text"].tolist(),
        labels=codes,
        classes=classes,
        groups=(_as_text(documents[group_column]).to_numpy(dtype=object) if group_column else None),
        n_corpus=corpus.n_rows,
        notices=notices,
        label_column=label_column,
        small_classes=done,
    )


Folds = list[tuple[np.ndarray, np.ndarray]]


def make_folds(data: ProbeData, n_folds: int, seed: int) -> Folds:
    """The one split every layer, dimension and probe of a run is evaluated on (paired results).

    StratifiedKFold(shuffle, seed); StratifiedGroupKFold when groups are given, so no group is in
    both a training and a test fold. Refuses folds that would hold fewer than 5 examples of a class.
    """
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    if not 2 <= n_folds <= 20:
        raise UserError(f"Use between 2 and 20 folds, not {n_folds}.")
    counts = np.bincount(data.labels, minlength=data.k)
    if counts.min() < n_folds * MIN_PER_FOLD:  # some test fold must get fewer than 5
        raise _too_small(data, counts, n_folds)
    if data.groups is None:
        splitter = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
        splits = splitter.split(np.zeros(data.n), data.labels)
    else:
        n_groups = len(set(data.groups))
        if n_groups < n_folds:
            raise UserError(f"{n_groups} groups cannot fill {n_folds} folds; use fewer folds.")
        splitter = StratifiedGroupKFold(n_folds, shuffle=True, random_state=seed)
        splits = splitter.split(np.zeros(data.n), data.labels, data.groups)
    folds = [(np.asarray(train), np.asarray(test)) for train, test in splits]
    per_fold = np.array([np.bincount(data.labels[test], minlength=data.k) for _, test in folds])
    if per_fold.min() < MIN_PER_FOLD:  # groups can make folds uneven
        fold, cls = np.unravel_index(per_fold.argmin(), per_fold.shape)
        raise UserError(
            f"With these groups, test fold {fold + 1} gets only {per_fold[fold, cls]} examples "
            f"of class '{data.classes[cls]}'; every fold needs at least {MIN_PER_FOLD} of each "
            f"class. {_advice(counts)}"
        )
    return folds


def _too_small(data: ProbeData, counts: np.ndarray, n_folds: int) -> SmallClassesError:
    """Every class too small for the folds, named, and the two ways out."""
    needed = n_folds * MIN_PER_FOLD
    small = {c: int(n) for c, n in zip(data.classes, counts, strict=True) if n < needed}
    several = len(small) > 1
    usable = int(counts.min()) // MIN_PER_FOLD
    fewer_folds = f", or use at most {usable} folds" if usable >= 2 else ""
    return SmallClassesError(
        f"{len(small)} class{'es' if several else ''} of '{data.label_column}' "
        f"{'have' if several else 'has'} fewer than {needed} examples, too few for {n_folds} "
        f"folds, where every test fold needs at least {MIN_PER_FOLD} of each class: "
        f"{_named(small)}. Set a minimum class size of {needed} to drop "
        f"{'them' if several else 'it'} or merge {'them' if several else 'it'} into "
        f"'{OTHER}'{fewer_folds}.",
        small,
        needed,
    )


def _advice(counts: np.ndarray) -> str:
    usable = int(counts.min()) // MIN_PER_FOLD
    if usable >= 2:
        return f"Use at most {usable} folds, or merge or drop the small classes."
    return "Merge or drop the small classes, or label more texts."
