"""Build EmbedLens' bundled demo data from material already on this machine.

Run from the project root::

    python scripts/build_demo_data.py

It (re)writes everything under ``data/demo/`` plus ``data/README.md``.  Nothing is
downloaded: the text corpus is the docstrings of the running interpreter's standard
library (PSF licence), and the tables are either well-known public facts typed in
below or synthetic rows drawn from fixed seeds.  Output is deterministic for a given
CPython version (fixed seeds, sorted iteration), so re-running it gives a clean diff.

``full_stdlib_corpus()`` is importable (``from scripts.build_demo_data import
full_stdlib_corpus``) so benchmarks and tests can build the large real corpus on the
fly instead of the repository bundling it.

Only the standard library is imported at module level: the docstring extraction
re-runs this file in a clean ``python -I -S`` subprocess, where third-party packages
are not importable.  pandas is imported lazily inside ``full_stdlib_corpus``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import importlib
import inspect
import io
import json
import math
import os
import pkgutil
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
DEMO_DIR = DATA_DIR / "demo"

SEED = 20240611
SAMPLE_SIZE = 2000
SMALL_SIZE = 300
MAX_CHARS = 2000  # texts are kept strictly shorter than this
MIN_WORDS = 3
LONG_WORDS = 200  # "long" rows: the sample must hold >= LONG_SHARE of these
LONG_SHARE = 0.25  # at most this share of a topic quota is reserved for long rows
SHORT_WORDS = 6  # "short" rows: 3-6 words, to exercise the other end
SHORT_SHARE = 0.05

CORPUS_COLUMNS = ["text", "module", "kind", "topic", "qualname"]

# --------------------------------------------------------------------------------------
# Standard-library docstring corpus
# --------------------------------------------------------------------------------------

# Top-level modules never imported: GUIs, jokes that print or open a browser, test
# suites, and packages whose only content is generated data.
SKIP_TOP_LEVEL = frozenset(
    {
        "antigravity",
        "idlelib",
        "lib2to3",
        "pydoc_data",
        "this",
        "tkinter",
        "turtle",
        "turtledemo",
    }
)
# Submodule name parts that mark test suites or private code.
SKIP_PARTS = frozenset({"test", "tests", "idle_test", "__main__"})
# Packages whose submodules are machine-generated boilerplate (codec tables).
SKIP_CHILDREN_OF = frozenset({"encodings"})

# Hand-made coarse topic of each top-level module.  Modules not listed are dropped
# (they are few and hard to place: see ``unmapped`` in the build log).
TOPIC_MODULES: dict[str, tuple[str, ...]] = {
    "text processing": (
        "codecs",
        "difflib",
        "encodings",
        "gettext",
        "locale",
        "re",
        "readline",
        "rlcompleter",
        "shlex",
        "sre_compile",
        "sre_constants",
        "sre_parse",
        "string",
        "stringprep",
        "textwrap",
        "unicodedata",
    ),
    "data formats": (
        "aifc",
        "audioop",
        "base64",
        "binascii",
        "bz2",
        "chunk",
        "configparser",
        "copyreg",
        "csv",
        "dbm",
        "gzip",
        "hashlib",
        "hmac",
        "html",
        "imghdr",
        "json",
        "lzma",
        "marshal",
        "netrc",
        "pickle",
        "pickletools",
        "plistlib",
        "pyexpat",
        "shelve",
        "sndhdr",
        "sqlite3",
        "struct",
        "sunau",
        "tarfile",
        "tomllib",
        "uu",
        "uuid",
        "wave",
        "xdrlib",
        "xml",
        "zipfile",
        "zlib",
    ),
    "files & OS": (
        "crypt",
        "ctypes",
        "curses",
        "errno",
        "fcntl",
        "filecmp",
        "fileinput",
        "fnmatch",
        "genericpath",
        "getpass",
        "glob",
        "grp",
        "io",
        "linecache",
        "mmap",
        "ntpath",
        "os",
        "ossaudiodev",
        "pathlib",
        "pipes",
        "platform",
        "posix",
        "posixpath",
        "pty",
        "pwd",
        "resource",
        "shutil",
        "signal",
        "spwd",
        "stat",
        "sysconfig",
        "syslog",
        "tempfile",
        "termios",
        "tty",
    ),
    "networking & internet": (
        "asynchat",
        "asyncore",
        "cgi",
        "cgitb",
        "ftplib",
        "http",
        "imaplib",
        "ipaddress",
        "nis",
        "nntplib",
        "nturl2path",
        "poplib",
        "select",
        "selectors",
        "smtpd",
        "smtplib",
        "socket",
        "socketserver",
        "ssl",
        "telnetlib",
        "urllib",
        "webbrowser",
        "wsgiref",
        "xmlrpc",
    ),
    "email & mime": ("email", "mailbox", "mailcap", "mimetypes", "quopri"),
    "concurrency": (
        "asyncio",
        "concurrent",
        "contextvars",
        "multiprocessing",
        "queue",
        "sched",
        "subprocess",
        "threading",
    ),
    "math & numbers": (
        "cmath",
        "colorsys",
        "decimal",
        "fractions",
        "math",
        "numbers",
        "random",
        "secrets",
        "statistics",
    ),
    "dates & time": ("calendar", "datetime", "time", "zoneinfo"),
    "development & debugging": (
        "argparse",
        "ast",
        "atexit",
        "bdb",
        "cProfile",
        "cmd",
        "code",
        "codeop",
        "compileall",
        "dis",
        "distutils",
        "doctest",
        "ensurepip",
        "faulthandler",
        "gc",
        "getopt",
        "imp",
        "importlib",
        "inspect",
        "keyword",
        "logging",
        "modulefinder",
        "opcode",
        "optparse",
        "pdb",
        "pkgutil",
        "pprint",
        "profile",
        "pstats",
        "py_compile",
        "pyclbr",
        "pydoc",
        "reprlib",
        "runpy",
        "site",
        "symtable",
        "sys",
        "tabnanny",
        "timeit",
        "token",
        "tokenize",
        "trace",
        "traceback",
        "tracemalloc",
        "unittest",
        "venv",
        "warnings",
        "zipapp",
        "zipimport",
    ),
    "data structures & algorithms": (
        "abc",
        "array",
        "bisect",
        "builtins",
        "collections",
        "contextlib",
        "copy",
        "dataclasses",
        "enum",
        "functools",
        "graphlib",
        "heapq",
        "itertools",
        "operator",
        "types",
        "typing",
        "weakref",
    ),
}
MODULE_TOPIC: dict[str, str] = {
    module: topic for topic, modules in TOPIC_MODULES.items() for module in modules
}

# A docstring that is nothing but a call signature, e.g. dataclasses' "P(x: int)".
_SIGNATURE_ONLY = re.compile(r"^[\w.]+\(.*\)(\s*->\s*\S.*)?$")
_SENTENCE_END = re.compile(r"[.!?](?=\s)")


def _stdlib_dir() -> str:
    """Directory holding the pure-Python stdlib (used to reject shadowing modules)."""
    return os.path.realpath(os.path.dirname(os.__file__))


def _is_stdlib_file(module: Any, stdlib_dir: str) -> bool:
    """True for built-in modules and files of this interpreter's stdlib, not site-packages."""
    filename = getattr(module, "__file__", None)
    if not filename:
        return True
    path = os.path.realpath(filename)
    if not path.startswith(stdlib_dir + os.sep):
        return False
    parts = Path(path[len(stdlib_dir) :]).parts
    return "site-packages" not in parts and "dist-packages" not in parts


def _quiet_import(name: str) -> Any | None:
    """Import ``name``, or None if it fails or writes anything while importing.

    Warnings (mostly DeprecationWarning of old modules) are silenced, not counted;
    a module that prints on import is skipped as the brief asks.
    """
    sink = io.StringIO()
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(sink),
            contextlib.redirect_stderr(sink),
        ):
            warnings.simplefilter("ignore")
            module = importlib.import_module(name)
    except BaseException:  # SystemExit, platform errors... all mean "skip"
        return None
    return None if sink.getvalue() else module


def _iter_modules(top: str, stdlib_dir: str) -> Iterator[tuple[str, Any]]:
    """Yield (dotted name, module) for ``top`` and its public submodules, sorted."""
    module = _quiet_import(top)
    if module is None or not _is_stdlib_file(module, stdlib_dir):
        return
    yield top, module
    path = getattr(module, "__path__", None)
    if path is None or top.split(".")[0] in SKIP_CHILDREN_OF:
        return
    try:
        children = sorted(info.name for info in pkgutil.iter_modules(path))
    except Exception:
        return
    for child in children:
        if child.startswith("_") or child in SKIP_PARTS:
            continue
        yield from _iter_modules(f"{top}.{child}", stdlib_dir)


def _is_private_module(name: str) -> bool:
    return any(part.startswith("_") for part in name.split("."))


def _record(module: str, qualname: str, kind: str, obj: Any) -> dict[str, str] | None:
    doc = getattr(obj, "__doc__", None)
    if not isinstance(doc, str) or not doc.strip():
        return None
    return {"module": module, "qualname": qualname, "kind": kind, "doc": doc}


def _class_records(top: str, qualname: str, cls: type) -> Iterator[dict[str, str]]:
    """The class docstring, then its own public methods (not inherited ones)."""
    rec = _record(top, qualname, "class", cls)
    if rec:
        yield rec
    try:
        members = dict(vars(cls))
    except TypeError:
        return
    for name in sorted(members):
        if name.startswith("_"):
            continue
        raw = members[name]
        if isinstance(raw, (staticmethod, classmethod)):
            raw = raw.__func__
        if not inspect.isroutine(raw):
            continue
        rec = _record(top, f"{qualname}.{name}", "method", raw)
        if rec:
            yield rec


def _module_records(
    top: str, modname: str, module: Any, seen: set[int]
) -> Iterator[dict[str, str]]:
    """Records for a module: its docstring, then public classes and functions it defines.

    Objects implemented in a private accelerator module (``_io``, ``_socket``...) are
    credited to the first public module re-exporting them; ``seen`` holds ids of
    objects already emitted so nothing is listed twice.
    """
    rec = _record(top, modname, "module", module)
    if rec:
        yield rec
    namespace = dict(vars(module))
    exported = namespace.get("__all__")
    for name in sorted(namespace):
        if name.startswith("_"):
            continue
        obj = namespace[name]
        if inspect.ismodule(obj) or id(obj) in seen:
            continue
        if not (inspect.isclass(obj) or inspect.isroutine(obj)):
            continue
        owner = getattr(obj, "__module__", None)
        if not isinstance(owner, str):
            continue
        if owner != modname:
            if not _is_private_module(owner):
                continue
            if isinstance(exported, (list, tuple)) and name not in exported:
                continue
        seen.add(id(obj))
        qualname = f"{modname}.{name}"
        if inspect.isclass(obj):
            yield from _class_records(top, qualname, obj)
        else:
            rec = _record(top, qualname, "function", obj)
            if rec:
                yield rec


def extract_raw_docstrings() -> list[dict[str, str]]:
    """Walk the interpreter's stdlib and return raw docstring records in traversal order.

    Meant to run in a throw-away ``python -I -S`` process (see ``_run_extraction``):
    importing ~700 modules has side effects (signal handlers, registered codecs,
    deprecation warnings) that should not leak into the caller.
    """
    stdlib_dir = _stdlib_dir()
    seen: set[int] = set()
    keep_alive: list[Any] = []  # keep objects alive so ids in ``seen`` stay unique
    records: list[dict[str, str]] = []
    for top in sorted(sys.stdlib_module_names):
        if top.startswith("_") or top in SKIP_TOP_LEVEL or top not in MODULE_TOPIC:
            continue
        for modname, module in _iter_modules(top, stdlib_dir):
            keep_alive.append(module)
            records.extend(_module_records(top, modname, module, seen))
    return records


def _unmapped_modules() -> list[str]:
    """Public top-level stdlib modules that have no topic (reported in the build log)."""
    names = sys.stdlib_module_names
    return sorted(
        n
        for n in names
        if not n.startswith("_") and n not in SKIP_TOP_LEVEL and n not in MODULE_TOPIC
    )


def _run_extraction() -> list[dict[str, str]]:
    """Run ``extract_raw_docstrings`` in an isolated interpreter and read its JSON."""
    env = {
        k: v for k, v in os.environ.items() if k not in {"DISPLAY", "WAYLAND_DISPLAY", "BROWSER"}
    }
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "docstrings.json"
        cmd = [sys.executable, "-I", "-S", str(Path(__file__).resolve())]
        proc = subprocess.run(
            [*cmd, "--extract-to", str(out)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            cwd=tmp,
            timeout=900,
            check=False,
        )
        if proc.returncode != 0:
            tail = proc.stderr.decode("utf-8", "replace")[-2000:]
            raise RuntimeError(f"docstring extraction failed:\n{tail}")
        return json.loads(out.read_text(encoding="utf-8"))


def _truncate(text: str, limit: int = MAX_CHARS) -> str:
    """Cut ``text`` to fewer than ``limit`` chars, at a sentence end when possible."""
    if len(text) < limit:
        return text
    head = text[: limit - 1]
    ends = [m.end() for m in _SENTENCE_END.finditer(head + " ")]
    if ends and ends[-1] >= limit // 4:
        return head[: ends[-1]].rstrip()
    cut = head[: limit - 2].rsplit(None, 1)[0]  # word boundary, leave room for "…"
    return cut.rstrip() + "…"


def clean_docstring(doc: str) -> str:
    """Normalise a raw docstring: dedent, single spaces in paragraphs, < 2000 chars.

    Paragraphs stay separated by a blank line because they are meaningful units for
    chunking demos; control characters are dropped so the CSV stays plain text.
    """
    text = inspect.cleandoc(doc)
    text = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C")
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", text))
    return _truncate("\n\n".join(p for p in paragraphs if p))


def _word_count(text: str) -> int:
    return len(text.split())


def build_corpus_rows(raw: Iterable[dict[str, str]]) -> list[dict[str, str]]:
    """Clean, filter and de-duplicate raw docstring records (first occurrence wins)."""
    rows: list[dict[str, str]] = []
    seen_texts: set[str] = set()
    for rec in raw:
        text = clean_docstring(rec["doc"])
        if _word_count(text) < MIN_WORDS or _SIGNATURE_ONLY.match(text):
            continue
        if text in seen_texts:
            continue
        seen_texts.add(text)
        rows.append(
            {
                "text": text,
                "module": rec["module"],
                "kind": rec["kind"],
                "topic": MODULE_TOPIC[rec["module"]],
                "qualname": rec["qualname"],
            }
        )
    return rows


def _sort_key(row: dict[str, Any]) -> tuple[str, ...]:
    return (row["topic"], row["module"], row["qualname"], row["kind"], row["text"])


def full_stdlib_rows() -> list[dict[str, str]]:
    """All de-duplicated docstring rows as plain dicts, sorted like the CSV files."""
    return sorted(build_corpus_rows(_run_extraction()), key=_sort_key)


def full_stdlib_corpus() -> pd.DataFrame:
    """Every de-duplicated stdlib docstring row (columns as in ``stdlib_docs.csv``).

    Built on the fly (some seconds) so benchmarks and tests get a large, real corpus
    without the repository shipping it.
    """
    import pandas as pd

    return pd.DataFrame(full_stdlib_rows(), columns=CORPUS_COLUMNS)


def _quotas(available: dict[str, int], total: int) -> dict[str, int]:
    """Equal per-topic cap, raised until ``total`` rows are used (water-filling)."""
    quotas = dict.fromkeys(available, 0)
    remaining = min(total, sum(available.values()))
    open_topics = sorted(available)
    while remaining > 0 and open_topics:
        share = max(1, remaining // len(open_topics))
        for topic in list(open_topics):
            if remaining == 0:
                break
            add = min(share, available[topic] - quotas[topic], remaining)
            quotas[topic] += add
            remaining -= add
            if quotas[topic] == available[topic]:
                open_topics.remove(topic)
    return quotas


def balanced_sample(
    rows: Sequence[dict[str, str]], total: int = SAMPLE_SIZE, seed: int = SEED
) -> list[dict[str, str]]:
    """Topic-balanced random sample that keeps both very short and very long texts.

    A plain random sample would be dominated by mid-length method docstrings; the
    demo needs the extremes (3-6 words, 200+ words) to show truncation and length
    effects, so each topic first reserves a share for them.
    """
    by_topic: dict[str, list[dict[str, str]]] = {}
    for row in sorted(rows, key=_sort_key):
        by_topic.setdefault(row["topic"], []).append(row)
    quotas = _quotas({t: len(r) for t, r in by_topic.items()}, total)
    picked: list[dict[str, str]] = []
    for index, topic in enumerate(sorted(by_topic)):
        rng = random.Random(seed + index)
        pool, quota = by_topic[topic], quotas[topic]
        long_rows = [r for r in pool if _word_count(r["text"]) >= LONG_WORDS]
        short_rows = [r for r in pool if _word_count(r["text"]) <= SHORT_WORDS]
        chosen = rng.sample(long_rows, min(len(long_rows), math.ceil(LONG_SHARE * quota)))
        n_short = min(len(short_rows), math.ceil(SHORT_SHARE * quota))
        chosen += rng.sample(short_rows, n_short)
        taken = {id(r) for r in chosen}
        rest = [r for r in pool if id(r) not in taken]
        chosen += rng.sample(rest, max(0, quota - len(chosen)))
        picked.extend(chosen)
    return sorted(picked, key=_sort_key)


def stratified_subsample(
    rows: Sequence[dict[str, str]], total: int = SMALL_SIZE
) -> list[dict[str, str]]:
    """Topic-proportional subsample spread evenly over each topic's length range.

    Deterministic without a RNG: within a topic rows are ordered by word count and
    taken at evenly spaced positions, so short and long texts both survive.
    """
    by_topic: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_topic.setdefault(row["topic"], []).append(row)
    n = len(rows)
    exact = {t: total * len(r) / n for t, r in by_topic.items()}
    alloc = {t: int(v) for t, v in exact.items()}
    leftovers = sorted(exact, key=lambda t: (alloc[t] - exact[t], t))
    for topic in leftovers[: total - sum(alloc.values())]:
        alloc[topic] += 1
    picked: list[dict[str, str]] = []
    for topic in sorted(by_topic):
        pool = sorted(by_topic[topic], key=lambda r: (_word_count(r["text"]), _sort_key(r)))
        k = min(alloc[topic], len(pool))
        picked.extend(pool[int((i + 0.5) * len(pool) / k)] for i in range(k))
    return sorted(picked, key=_sort_key)


# --------------------------------------------------------------------------------------
# Relational tables
# --------------------------------------------------------------------------------------

# One real country per line: country | ISO 3166-1 alpha-3 | capital | continent (of the
# capital) | currency | one principal official language | population (millions, approx.
# early 2020s) | commonly quoted area in km² (rounded to 3 significant figures on output).
_COUNTRY_FACTS = """
Algeria|DZA|Algiers|Africa|Algerian dinar|Arabic|45.6|2381741
Angola|AGO|Luanda|Africa|Angolan kwanza|Portuguese|36.7|1246700
Argentina|ARG|Buenos Aires|South America|Argentine peso|Spanish|46.0|2780400
Australia|AUS|Canberra|Oceania|Australian dollar|English|26.6|7692024
Austria|AUT|Vienna|Europe|Euro|German|9.1|83871
Bangladesh|BGD|Dhaka|Asia|Bangladeshi taka|Bengali|171.5|148460
Brazil|BRA|Brasília|South America|Brazilian real|Portuguese|203.1|8515767
Canada|CAN|Ottawa|North America|Canadian dollar|English|40.1|9984670
Chile|CHL|Santiago|South America|Chilean peso|Spanish|19.6|756102
China|CHN|Beijing|Asia|Renminbi|Standard Chinese|1410.7|9596960
Colombia|COL|Bogotá|South America|Colombian peso|Spanish|52.1|1141748
Costa Rica|CRI|San José|North America|Costa Rican colón|Spanish|5.2|51100
Croatia|HRV|Zagreb|Europe|Euro|Croatian|3.9|56594
Cuba|CUB|Havana|North America|Cuban peso|Spanish|11.1|109884
Czech Republic|CZE|Prague|Europe|Czech koruna|Czech|10.9|78867
Denmark|DNK|Copenhagen|Europe|Danish krone|Danish|5.9|43094
Ecuador|ECU|Quito|South America|US dollar|Spanish|18.0|283561
Egypt|EGY|Cairo|Africa|Egyptian pound|Arabic|112.7|1001450
Ethiopia|ETH|Addis Ababa|Africa|Ethiopian birr|Amharic|126.5|1104300
Fiji|FJI|Suva|Oceania|Fijian dollar|English|0.9|18274
Finland|FIN|Helsinki|Europe|Euro|Finnish|5.6|338145
France|FRA|Paris|Europe|Euro|French|68.2|643801
Germany|DEU|Berlin|Europe|Euro|German|84.5|357022
Ghana|GHA|Accra|Africa|Ghanaian cedi|English|34.1|238533
Greece|GRC|Athens|Europe|Euro|Greek|10.4|131957
Guatemala|GTM|Guatemala City|North America|Guatemalan quetzal|Spanish|17.6|108889
Hungary|HUN|Budapest|Europe|Hungarian forint|Hungarian|9.6|93028
Iceland|ISL|Reykjavík|Europe|Icelandic króna|Icelandic|0.4|103000
India|IND|New Delhi|Asia|Indian rupee|Hindi|1428.6|3287263
Indonesia|IDN|Jakarta|Asia|Indonesian rupiah|Indonesian|277.5|1904569
Iran|IRN|Tehran|Asia|Iranian rial|Persian|89.2|1648195
Iraq|IRQ|Baghdad|Asia|Iraqi dinar|Arabic|45.5|438317
Ireland|IRL|Dublin|Europe|Euro|English|5.2|70273
Italy|ITA|Rome|Europe|Euro|Italian|58.9|301340
Jamaica|JAM|Kingston|North America|Jamaican dollar|English|2.8|10991
Japan|JPN|Tokyo|Asia|Japanese yen|Japanese|124.5|377915
Kenya|KEN|Nairobi|Africa|Kenyan shilling|Swahili|55.1|580367
Malaysia|MYS|Kuala Lumpur|Asia|Malaysian ringgit|Malay|33.9|329847
Mexico|MEX|Mexico City|North America|Mexican peso|Spanish|128.5|1964375
Mongolia|MNG|Ulaanbaatar|Asia|Mongolian tögrög|Mongolian|3.4|1564116
Morocco|MAR|Rabat|Africa|Moroccan dirham|Arabic|37.8|446550
Nepal|NPL|Kathmandu|Asia|Nepalese rupee|Nepali|30.9|147181
Netherlands|NLD|Amsterdam|Europe|Euro|Dutch|17.9|41543
New Zealand|NZL|Wellington|Oceania|New Zealand dollar|English|5.2|268021
Nigeria|NGA|Abuja|Africa|Nigerian naira|English|223.8|923768
Norway|NOR|Oslo|Europe|Norwegian krone|Norwegian|5.5|323802
Pakistan|PAK|Islamabad|Asia|Pakistani rupee|Urdu|240.5|796095
Panama|PAN|Panama City|North America|Panamanian balboa|Spanish|4.4|75417
Paraguay|PRY|Asunción|South America|Paraguayan guaraní|Spanish|6.9|406752
Peru|PER|Lima|South America|Peruvian sol|Spanish|34.4|1285216
Philippines|PHL|Manila|Asia|Philippine peso|Filipino|113.0|300000
Poland|POL|Warsaw|Europe|Polish złoty|Polish|37.6|312696
Portugal|PRT|Lisbon|Europe|Euro|Portuguese|10.4|92212
Romania|ROU|Bucharest|Europe|Romanian leu|Romanian|19.0|238397
Russia|RUS|Moscow|Europe|Russian ruble|Russian|144.4|17098246
Saudi Arabia|SAU|Riyadh|Asia|Saudi riyal|Arabic|32.2|2149690
Senegal|SEN|Dakar|Africa|West African CFA franc|French|17.8|196722
South Korea|KOR|Seoul|Asia|South Korean won|Korean|51.7|100210
Spain|ESP|Madrid|Europe|Euro|Spanish|48.1|505990
Sweden|SWE|Stockholm|Europe|Swedish krona|Swedish|10.5|450295
Tanzania|TZA|Dodoma|Africa|Tanzanian shilling|Swahili|65.5|947303
Thailand|THA|Bangkok|Asia|Thai baht|Thai|71.8|513120
Tunisia|TUN|Tunis|Africa|Tunisian dinar|Arabic|12.5|163610
Turkey|TUR|Ankara|Asia|Turkish lira|Turkish|85.3|783562
Uganda|UGA|Kampala|Africa|Ugandan shilling|English|48.6|241038
United Arab Emirates|ARE|Abu Dhabi|Asia|UAE dirham|Arabic|9.5|83600
United Kingdom|GBR|London|Europe|Pound sterling|English|68.3|243610
United States|USA|Washington, D.C.|North America|US dollar|English|334.9|9833517
Uruguay|URY|Montevideo|South America|Uruguayan peso|Spanish|3.4|176215
Venezuela|VEN|Caracas|South America|Venezuelan bolívar|Spanish|28.3|916445
Vietnam|VNM|Hanoi|Asia|Vietnamese đồng|Vietnamese|100.3|331212
"""


def _parse_countries(block: str) -> list[tuple[str, str, str, str, str, str, float, int]]:
    """Turn the pipe-separated fact block into typed tuples."""
    out = []
    for line in block.strip().splitlines():
        name, iso, capital, continent, currency, language, pop, area = line.split("|")
        out.append((name, iso, capital, continent, currency, language, float(pop), int(area)))
    return out


COUNTRIES = _parse_countries(_COUNTRY_FACTS)

# Rough population of the city (thousands).  "City" means different things in
# different countries (municipality, province-level city, metropolitan area), so
# these are order-of-magnitude demo values, not reference figures.  Capitals come
# from COUNTRIES; these are further large cities.
CAPITAL_POPULATION_K: dict[str, int] = {
    "Abu Dhabi": 1500, "Abuja": 1200, "Accra": 2500, "Addis Ababa": 3800,
    "Algiers": 2900, "Amsterdam": 920, "Ankara": 5800, "Asunción": 520,
    "Athens": 640, "Baghdad": 7500, "Bangkok": 5500, "Beijing": 21900,
    "Berlin": 3750, "Bogotá": 7900, "Brasília": 2800, "Bucharest": 1720,
    "Budapest": 1690, "Buenos Aires": 3100, "Cairo": 10000, "Canberra": 460,
    "Caracas": 2000, "Copenhagen": 650, "Dakar": 1100, "Dhaka": 10000,
    "Dodoma": 770, "Dublin": 590, "Guatemala City": 1000, "Hanoi": 8000,
    "Havana": 2100, "Helsinki": 660, "Islamabad": 1000, "Jakarta": 10600,
    "Kampala": 1700, "Kathmandu": 850, "Kingston": 660, "Kuala Lumpur": 1980,
    "Lima": 9700, "Lisbon": 550, "London": 8900, "Luanda": 2500,
    "Madrid": 3300, "Manila": 1850, "Mexico City": 9200, "Montevideo": 1300,
    "Moscow": 13000, "Nairobi": 4400, "New Delhi": 250, "Oslo": 710,
    "Ottawa": 1020, "Panama City": 880, "Paris": 2100, "Prague": 1360,
    "Quito": 2700, "Rabat": 580, "Reykjavík": 140, "Riyadh": 7000,
    "Rome": 2750, "San José": 350, "Santiago": 5600, "Seoul": 9400,
    "Stockholm": 980, "Suva": 90, "Tehran": 9000,
    "Tokyo": 14000, "Tunis": 640, "Ulaanbaatar": 1650, "Vienna": 2000,
    "Warsaw": 1860, "Washington, D.C.": 690, "Wellington": 210, "Zagreb": 770,
}  # fmt: skip

OTHER_CITIES: list[tuple[str, str, int]] = [
    ("Ahmedabad", "India", 5600),
    ("Alexandria", "Egypt", 5200),
    ("Auckland", "New Zealand", 1700),
    ("Barcelona", "Spain", 1640),
    ("Belo Horizonte", "Brazil", 2320),
    ("Bengaluru", "India", 8400),
    ("Birmingham", "United Kingdom", 1140),
    ("Boston", "United States", 650),
    ("Brisbane", "Australia", 2600),
    ("Busan", "South Korea", 3400),
    ("Casablanca", "Morocco", 3360),
    ("Chengdu", "China", 21000),
    ("Chennai", "India", 4650),
    ("Chicago", "United States", 2700),
    ("Cologne", "Germany", 1080),
    ("Córdoba", "Argentina", 1330),
    ("Dallas", "United States", 1300),
    ("Dar es Salaam", "Tanzania", 5400),
    ("Dubai", "United Arab Emirates", 3500),
    ("Edinburgh", "United Kingdom", 510),
    ("Florence", "Italy", 360),
    ("Frankfurt", "Germany", 770),
    ("Glasgow", "United Kingdom", 630),
    ("Guadalajara", "Mexico", 1390),
    ("Guangzhou", "China", 18700),
    ("Guayaquil", "Ecuador", 2650),
    ("Hamburg", "Germany", 1850),
    ("Ho Chi Minh City", "Vietnam", 9000),
    ("Houston", "United States", 2300),
    ("Hyderabad", "India", 6800),
    ("Istanbul", "Turkey", 15600),
    ("Jeddah", "Saudi Arabia", 3750),
    ("Karachi", "Pakistan", 14900),
    ("Kolkata", "India", 4500),
    ("Kraków", "Poland", 800),
    ("Kyoto", "Japan", 1460),
    ("Lagos", "Nigeria", 15000),
    ("Lahore", "Pakistan", 11100),
    ("Liverpool", "United Kingdom", 490),
    ("Los Angeles", "United States", 3900),
    ("Lyon", "France", 520),
    ("Manchester", "United Kingdom", 550),
    ("Marseille", "France", 870),
    ("Medellín", "Colombia", 2430),
    ("Melbourne", "Australia", 5100),
    ("Milan", "Italy", 1370),
    ("Monterrey", "Mexico", 1140),
    ("Montreal", "Canada", 1760),
    ("Mumbai", "India", 12400),
    ("Munich", "Germany", 1510),
    ("Nagoya", "Japan", 2330),
    ("Naples", "Italy", 910),
    ("New York", "United States", 8300),
    ("Osaka", "Japan", 2750),
    ("Perth", "Australia", 2200),
    ("Philadelphia", "United States", 1600),
    ("Phoenix", "United States", 1600),
    ("Quezon City", "Philippines", 2960),
    ("Rio de Janeiro", "Brazil", 6210),
    ("Rotterdam", "Netherlands", 650),
    ("Saint Petersburg", "Russia", 5600),
    ("San Diego", "United States", 1390),
    ("San Francisco", "United States", 810),
    ("Sapporo", "Japan", 1970),
    ("Seattle", "United States", 750),
    ("Seville", "Spain", 680),
    ("Shanghai", "China", 24900),
    ("Shenzhen", "China", 17600),
    ("Surabaya", "Indonesia", 2870),
    ("Sydney", "Australia", 5300),
    ("São Paulo", "Brazil", 11450),
    ("Toronto", "Canada", 2790),
    ("Toulouse", "France", 500),
    ("Turin", "Italy", 850),
    ("Valencia", "Spain", 800),
    ("Vancouver", "Canada", 660),
    ("Wuhan", "China", 13700),
    ("Yokohama", "Japan", 3770),
]

DEPARTMENTS: list[tuple[str, str, str, tuple[str, ...]]] = [
    (
        "D01",
        "Engineering",
        "Berlin",
        (
            "Software Engineer",
            "Senior Software Engineer",
            "Engineering Manager",
            "QA Engineer",
            "DevOps Engineer",
        ),
    ),
    (
        "D02",
        "Data Science",
        "Berlin",
        ("Data Scientist", "Senior Data Scientist", "Machine Learning Engineer", "Data Analyst"),
    ),
    (
        "D03",
        "Sales",
        "London",
        ("Account Executive", "Sales Manager", "Sales Development Representative"),
    ),
    (
        "D04",
        "Marketing",
        "Manchester",
        ("Marketing Specialist", "Content Strategist", "Marketing Manager"),
    ),
    ("D05", "Finance", "Amsterdam", ("Financial Analyst", "Accountant", "Finance Manager")),
    ("D06", "Human Resources", "Rotterdam", ("HR Generalist", "Recruiter", "HR Manager")),
    ("D07", "Customer Support", "Lisbon", ("Support Specialist", "Support Team Lead")),
    ("D08", "Legal", "Paris", ("Legal Counsel", "Paralegal")),
    (
        "D09",
        "Operations",
        "Toronto",
        ("Operations Analyst", "Logistics Coordinator", "Operations Manager"),
    ),
    ("D10", "Research", "Tokyo", ("Research Engineer", "Research Scientist")),
]
DEPARTMENT_WEIGHTS = (30, 12, 18, 9, 8, 5, 10, 4, 7, 6)

FIRST_NAMES = (
    "Aisha", "Alejandro", "Amara", "Anders", "Ana", "Arjun", "Beatriz", "Chen",
    "Chiara", "Daniel", "David", "Elena", "Emeka", "Emma", "Farah", "Felix",
    "Fatima", "Giulia", "Hana", "Hiroshi", "Ines", "Ivan", "Jakub", "James",
    "Jin", "Johan", "Julia", "Kwame", "Lars", "Laura", "Leila", "Lucas",
    "Maria", "Mateo", "Mei", "Mohammed", "Nadia", "Noah", "Olga", "Omar",
    "Priya", "Rafael", "Ravi", "Sakura", "Samuel", "Sara", "Sofia", "Tariq",
    "Thomas", "Wei", "Yusuf", "Zainab", "Zoe", "Nikos", "Ingrid", "Pablo",
)  # fmt: skip
LAST_NAMES = (
    "Adeyemi", "Andersen", "Bauer", "Becker", "Costa", "Dubois", "Fernandes",
    "Fischer", "Garcia", "Hansen", "Haddad", "Ivanova", "Jansen", "Kim",
    "Kowalski", "Kumar", "Larsen", "Lee", "Lopez", "Martin", "Moreau", "Müller",
    "Nakamura", "Nguyen", "Novak", "Okafor", "Olsen", "Patel", "Petrov",
    "Rossi", "Santos", "Schmidt", "Silva", "Singh", "Smith", "Suzuki",
    "Tanaka", "Taylor", "Van Dijk", "Wang", "Weber", "Williams", "Yilmaz",
    "Zhang", "Mensah", "Papadopoulos", "Lindqvist", "Horvat",
)  # fmt: skip

# Every title above belongs to exactly one department (job_title -> department_id).
TITLE_BASE_SALARY: dict[str, int] = {
    "Software Engineer": 62000, "Senior Software Engineer": 82000,
    "Engineering Manager": 98000, "QA Engineer": 55000, "DevOps Engineer": 68000,
    "Data Scientist": 66000, "Senior Data Scientist": 85000,
    "Machine Learning Engineer": 78000, "Data Analyst": 52000,
    "Account Executive": 58000, "Sales Manager": 80000,
    "Sales Development Representative": 42000, "Marketing Specialist": 48000,
    "Content Strategist": 50000, "Marketing Manager": 72000,
    "Financial Analyst": 56000, "Accountant": 50000, "Finance Manager": 84000,
    "HR Generalist": 47000, "Recruiter": 49000, "HR Manager": 70000,
    "Support Specialist": 36000, "Support Team Lead": 46000,
    "Legal Counsel": 90000, "Paralegal": 45000, "Operations Analyst": 54000,
    "Logistics Coordinator": 44000, "Operations Manager": 76000,
    "Research Engineer": 70000, "Research Scientist": 80000,
}  # fmt: skip

# product, category, unit price, supplier.  Each supplier serves one category.
PRODUCTS: list[tuple[str, str, float, str]] = [
    ("27-inch Monitor", "Electronics", 249.00, "Nordlicht Electronics"),
    ("A4 Paper Ream", "Office Supplies", 6.49, "Paperworks Supply"),
    ("Antivirus Licence (1 year)", "Software", 49.00, "Cloudberry Software"),
    ("Ballpoint Pens (10-pack)", "Office Supplies", 4.99, "Paperworks Supply"),
    ("Bookshelf", "Furniture", 129.00, "Oakline Furniture Co."),
    ("Ceramic Mug", "Kitchen", 7.50, "Brewhouse Trading"),
    ("Coffee Beans 1 kg", "Kitchen", 18.90, "Brewhouse Trading"),
    ("Electric Kettle", "Kitchen", 34.99, "Brewhouse Trading"),
    ("Ergonomic Chair", "Furniture", 329.00, "Oakline Furniture Co."),
    ("Espresso Machine", "Kitchen", 399.00, "Brewhouse Trading"),
    ("Filing Cabinet", "Furniture", 149.00, "Oakline Furniture Co."),
    ("Mechanical Keyboard", "Electronics", 89.00, "Voltaic Components"),
    ("Noise-Cancelling Headphones", "Electronics", 179.00, "Nordlicht Electronics"),
    ("Notebook A5", "Office Supplies", 3.95, "Paperworks Supply"),
    ("Office Suite Licence", "Software", 99.00, "Cloudberry Software"),
    ("Project Planner Subscription", "Software", 120.00, "Cloudberry Software"),
    ("Standing Desk", "Furniture", 499.00, "Oakline Furniture Co."),
    ("Stapler", "Office Supplies", 12.50, "Paperworks Supply"),
    ("Sticky Notes (12-pack)", "Office Supplies", 8.75, "Paperworks Supply"),
    ("USB-C Hub", "Electronics", 39.50, "Voltaic Components"),
    ("Webcam HD", "Electronics", 49.00, "Voltaic Components"),
    ("Whiteboard Markers (4-pack)", "Office Supplies", 7.50, "Paperworks Supply"),
    ("Wireless Mouse", "Electronics", 24.99, "Voltaic Components"),
]
QUANTITY_RANGE = {
    "Electronics": (1, 8),
    "Furniture": (1, 6),
    "Kitchen": (1, 12),
    "Office Supplies": (5, 60),
    "Software": (1, 25),
}

COMPANY_FIRST = (
    "Alder", "Amber", "Arrow", "Atlas", "Beacon", "Birch", "Blue Harbor",
    "Bright", "Cedar", "Cobalt", "Coral", "Crescent", "Delta", "Ember",
    "Falcon", "Granite", "Harbor", "Horizon", "Juniper", "Keystone", "Lumen",
    "Maple", "Meridian", "Northwind", "Oak", "Orchid", "Pinnacle", "Quartz",
    "Redwood", "Sage", "Silver", "Summit", "Terra", "Vertex", "Willow", "Zenith",
)  # fmt: skip
COMPANY_SECOND = (
    "Analytics", "Architects", "Bakery", "Clinic", "Consulting", "Design",
    "Foods", "Games", "Labs", "Legal", "Logistics", "Media", "Outfitters",
    "Partners", "Robotics", "Studios", "Systems", "Travel",
)  # fmt: skip
SEGMENTS = ("Small Business", "Mid-Market", "Enterprise")


def _round_sig(value: int, digits: int = 3) -> int:
    """Round to ``digits`` significant figures (areas are quoted approximately)."""
    if value == 0:
        return 0
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def _random_date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def countries_table() -> list[dict[str, Any]]:
    """Real countries; every column but continent/currency/language is a key."""
    return [
        {
            "country": c,
            "iso_code": iso,
            "capital": cap,
            "continent": cont,
            "currency": cur,
            "official_language": lang,
            "population_millions": f"{pop:.1f}",
            "area_km2": _round_sig(area),
        }
        for c, iso, cap, cont, cur, lang, pop, area in sorted(COUNTRIES)
    ]


def cities_table() -> list[dict[str, Any]]:
    """Capitals of COUNTRIES plus other large cities; city is a key."""
    continent = {c[0]: c[3] for c in COUNTRIES}
    rows = [
        {
            "city": cap,
            "country": c,
            "continent": continent[c],
            "population_thousands": CAPITAL_POPULATION_K[cap],
            "is_capital": "yes",
        }
        for c, _, cap, *_ in COUNTRIES
    ]
    rows += [
        {
            "city": city,
            "country": country,
            "continent": continent[country],
            "population_thousands": pop,
            "is_capital": "no",
        }
        for city, country, pop in OTHER_CITIES
    ]
    return sorted(rows, key=lambda r: (r["country"], r["city"]))


def employees_table(seed: int = SEED) -> list[dict[str, Any]]:
    """200 synthetic employees; department facts come from DEPARTMENTS only."""
    rng = random.Random(seed + 101)
    city_country = {r["city"]: r["country"] for r in cities_table()}
    names: set[tuple[str, str]] = set()
    rows = []
    for i in range(1, 201):
        dep_id, dep_name, city, titles = rng.choices(DEPARTMENTS, DEPARTMENT_WEIGHTS)[0]
        while True:
            name = (rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES))
            if name not in names:
                names.add(name)
                break
        title = rng.choice(titles)
        hired = _random_date(rng, dt.date(2012, 1, 1), dt.date(2024, 12, 31))
        seniority = (dt.date(2025, 1, 1) - hired).days / 365.25
        salary = TITLE_BASE_SALARY[title] * (1 + 0.02 * seniority) * rng.uniform(0.92, 1.1)
        rows.append(
            {
                "employee_id": f"E{i:04d}",
                "first_name": name[0],
                "last_name": name[1],
                "department_id": dep_id,
                "department_name": dep_name,
                "office_city": city,
                "office_country": city_country[city],
                "job_title": title,
                "salary": int(round(salary / 500) * 500),
                "hire_date": hired.isoformat(),
            }
        )
    return rows


def customers_table(seed: int = SEED) -> list[dict[str, Any]]:
    """80 synthetic customer companies located in real cities."""
    rng = random.Random(seed + 202)
    cities = sorted((r["city"], r["country"]) for r in cities_table())
    names = sorted(f"{a} {b}" for a in COMPANY_FIRST for b in COMPANY_SECOND)
    chosen = rng.sample(names, 80)
    rows = []
    for i, name in enumerate(chosen, start=1):
        city, country = rng.choice(cities)
        rows.append(
            {
                "customer_id": f"C{i:03d}",
                "customer_name": name,
                "segment": rng.choice(SEGMENTS),
                "city": city,
                "country": country,
                "signup_date": _random_date(
                    rng, dt.date(2019, 1, 1), dt.date(2022, 12, 31)
                ).isoformat(),
            }
        )
    return rows


def products_table() -> list[dict[str, Any]]:
    """Product catalogue: product is the key; supplier -> category holds."""
    return [
        {"product": p, "category": c, "unit_price": f"{price:.2f}", "supplier": s}
        for p, c, price, s in sorted(PRODUCTS)
    ]


def orders_table(seed: int = SEED) -> list[dict[str, Any]]:
    """300 synthetic orders; product facts are copied from PRODUCTS (exact FDs)."""
    rng = random.Random(seed + 303)
    customers = [r["customer_id"] for r in customers_table(seed)]
    # Skewed customer activity so group-bys are not uniform.
    weights = [1 + (rng.random() ** 3) * 12 for _ in customers]
    drafts = []
    for _ in range(300):
        product, category, price, _supplier = rng.choice(PRODUCTS)
        low, high = QUANTITY_RANGE[category]
        drafts.append(
            (
                _random_date(rng, dt.date(2023, 1, 1), dt.date(2024, 12, 31)),
                rng.choices(customers, weights)[0],
                product,
                category,
                price,
                rng.randint(low, high),
            )
        )
    drafts.sort()
    return [
        {
            "order_id": f"O{i:05d}",
            "customer_id": cust,
            "order_date": day.isoformat(),
            "product": product,
            "category": category,
            "unit_price": f"{price:.2f}",
            "quantity": qty,
            "total": f"{price * qty:.2f}",
        }
        for i, (day, cust, product, category, price, qty) in enumerate(drafts, start=1)
    ]


# Metadata used for the manifest and README; each FD is (determinant, dependent).
TABLE_META: dict[str, dict[str, Any]] = {
    "countries": {
        "description": "Real countries with capital, continent, currency, main official "
        "language, approximate population and area.",
        "notes": (
            "iso_code is ISO 3166-1 alpha-3. currency, continent and official_language are shared"
            " by several countries (e.g. Euro, US dollar), so no column depends on them. area_km2"
            " happens to be unique too, but that is incidental, not a key."
        ),
        "keys": ["country", "iso_code", "capital"],
        "fds": [
            ("country", "iso_code"),
            ("country", "capital"),
            ("country", "continent"),
            ("country", "currency"),
            ("country", "official_language"),
            ("iso_code", "country"),
            ("capital", "country"),
        ],
        "joins": ["countries.country = cities.country", "countries.capital = cities.city"],
        "subject": "country",
        "semantic_types": {
            "country": "country",
            "iso_code": "code",
            "capital": "city",
            "continent": "continent",
            "currency": "currency",
            "official_language": "language",
            "population_millions": "quantity",
            "area_km2": "quantity",
        },
    },
    "cities": {
        "description": "Real large cities (all capitals of countries.csv plus other big "
        "cities) with rough population.",
        "notes": (
            "is_capital is yes/no; every country of countries.csv has its capital here. "
            "population_thousands is rough."
        ),
        "keys": ["city"],
        "fds": [("city", "country"), ("country", "continent")],
        "joins": ["cities.country = countries.country"],
        "subject": "city",
        "semantic_types": {
            "city": "city",
            "country": "country",
            "continent": "continent",
            "population_thousands": "quantity",
            "is_capital": "category",
        },
    },
    "employees": {
        "description": "Synthetic employees of a fictional company with departments "
        "located in real cities.",
        "notes": (
            "salary is a synthetic annual gross amount (one currency for all offices); hire_date "
            "is YYYY-MM-DD. Names are random combinations, unique per row. Two countries have two"
            " office cities, so office_country -> office_city does not hold."
        ),
        "keys": ["employee_id"],
        "fds": [
            ("department_id", "department_name"),
            ("department_name", "department_id"),
            ("department_id", "office_city"),
            ("department_id", "office_country"),
            ("office_city", "office_country"),
            ("job_title", "department_id"),
            ("job_title", "department_name"),
        ],
        "joins": ["employees.office_city = cities.city"],
        "subject": "employee_id",
        "semantic_types": {
            "employee_id": "identifier",
            "first_name": "person name",
            "last_name": "person name",
            "department_id": "identifier",
            "department_name": "department",
            "office_city": "city",
            "office_country": "country",
            "job_title": "job title",
            "salary": "money",
            "hire_date": "date",
        },
    },
    "customers": {
        "description": "Synthetic customer companies located in real cities.",
        "notes": "segment is Small Business, Mid-Market or Enterprise; signup_date is YYYY-MM-DD.",
        "keys": ["customer_id", "customer_name"],
        "fds": [("city", "country")],
        "joins": ["customers.customer_id = orders.customer_id", "customers.city = cities.city"],
        "subject": "customer_name",
        "semantic_types": {
            "customer_id": "identifier",
            "customer_name": "organisation",
            "segment": "category",
            "city": "city",
            "country": "country",
            "signup_date": "date",
        },
    },
    "products": {
        "description": "Synthetic product catalogue with category, price and supplier.",
        "notes": "Each supplier serves exactly one category; unit_price has 2 decimals.",
        "keys": ["product"],
        "fds": [
            ("product", "category"),
            ("product", "unit_price"),
            ("product", "supplier"),
            ("supplier", "category"),
        ],
        "joins": ["products.product = orders.product"],
        "subject": "product",
        "semantic_types": {
            "product": "product",
            "category": "category",
            "unit_price": "money",
            "supplier": "organisation",
        },
    },
    "orders": {
        "description": "Synthetic orders: one product line per order, referencing "
        "customers and products.",
        "notes": (
            "total = unit_price * quantity (2 decimals), a two-column dependency. Order ids "
            "follow order_date. Two products share a price, so unit_price -> product does not "
            "hold."
        ),
        "keys": ["order_id"],
        "fds": [("product", "category"), ("product", "unit_price")],
        "joins": [
            "orders.customer_id = customers.customer_id",
            "orders.product = products.product",
        ],
        "subject": "order_id",
        "semantic_types": {
            "order_id": "identifier",
            "customer_id": "identifier",
            "order_date": "date",
            "product": "product",
            "category": "category",
            "unit_price": "money",
            "quantity": "quantity",
            "total": "money",
        },
    },
}


def check_fd(rows: Sequence[dict[str, Any]], lhs: str, rhs: str) -> bool:
    """True when every value of ``lhs`` maps to a single value of ``rhs``."""
    mapping: dict[Any, Any] = {}
    return all(mapping.setdefault(r[lhs], r[rhs]) == r[rhs] for r in rows)


def build_tables() -> dict[str, list[dict[str, Any]]]:
    """All demo tables, validated: keys unique, documented FDs exact, joins complete."""
    tables = {
        "countries": countries_table(),
        "cities": cities_table(),
        "employees": employees_table(),
        "customers": customers_table(),
        "products": products_table(),
        "orders": orders_table(),
    }
    for name, rows in tables.items():
        meta = TABLE_META[name]
        assert len(rows[0]) <= 12, name
        for key in meta["keys"]:
            assert len({r[key] for r in rows}) == len(rows), (name, key)
        for lhs, rhs in meta["fds"]:
            assert check_fd(rows, lhs, rhs), (name, lhs, rhs)
        assert list(meta["semantic_types"]) == list(rows[0]), name
        assert meta["subject"] in rows[0], name
    countries = {r["country"] for r in tables["countries"]}
    cities = {r["city"] for r in tables["cities"]}
    assert {r["country"] for r in tables["cities"]} <= countries
    assert {r["office_city"] for r in tables["employees"]} <= cities
    assert {r["city"] for r in tables["customers"]} <= cities
    assert {r["customer_id"] for r in tables["orders"]} <= {
        r["customer_id"] for r in tables["customers"]
    }
    price = {r["product"]: (r["category"], r["unit_price"]) for r in tables["products"]}
    assert all(price[r["product"]] == (r["category"], r["unit_price"]) for r in tables["orders"])
    return tables


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------


def write_csv(path: Path, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    """UTF-8 CSV with a header, ``\\n`` line ends and minimal quoting."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def length_summary(rows: Sequence[dict[str, str]]) -> dict[str, Any]:
    """Word-count distribution used in the log and the README."""
    words = sorted(_word_count(r["text"]) for r in rows)
    n = len(words)

    def q(p: float) -> int:
        return words[min(n - 1, int(p * (n - 1)))]

    return {
        "rows": n,
        "min": words[0],
        "q1": q(0.25),
        "median": q(0.5),
        "q3": q(0.75),
        "max": words[-1],
        "short_3_6": sum(3 <= w <= SHORT_WORDS for w in words),
        "long_200": sum(w >= LONG_WORDS for w in words),
    }


def _count(rows: Sequence[dict[str, str]], column: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in rows:
        counts[r[column]] = counts.get(r[column], 0) + 1
    return dict(sorted(counts.items()))


def build_manifest(
    docs: Sequence[dict[str, str]],
    small: Sequence[dict[str, str]],
    tables: dict[str, list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """Machine-readable list of demos so the app needs no hard-coded file names."""
    version = platform.python_version()
    corpus_licence = f"Python Software Foundation License (CPython {version} docstrings)"
    entries: list[dict[str, Any]] = [
        {
            "name": "stdlib_docs",
            "file": "stdlib_docs.csv",
            "kind": "corpus",
            "description": f"Docstrings of the CPython {version} standard library: a "
            "topic-balanced sample of modules, classes, functions and methods, from a "
            "few words to several hundred.",
            "text_column": "text",
            "label_columns": ["topic", "module", "kind"],
            "rows": len(docs),
            "license": corpus_licence,
        },
        {
            "name": "stdlib_docs_small",
            "file": "stdlib_docs_small.csv",
            "kind": "corpus",
            "description": f"A {len(small)}-row topic-stratified subsample of stdlib_docs "
            "for fast demos and tests.",
            "text_column": "text",
            "label_columns": ["topic", "module", "kind"],
            "rows": len(small),
            "license": corpus_licence,
        },
    ]
    for name, rows in tables.items():
        meta = TABLE_META[name]
        entries.append(
            {
                "name": name,
                "file": f"tables/{name}.csv",
                "kind": "table",
                "description": meta["description"],
                "rows": len(rows),
                "columns": list(rows[0]),
                "key_columns": meta["keys"],
                "functional_dependencies": [list(fd) for fd in meta["fds"]],
                "joins": meta["joins"],
                "subject_column": meta["subject"],
                "semantic_types": meta["semantic_types"],
                "license": "CC0-1.0",
            }
        )
    return entries


def _md_table(header: Sequence[str], body: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in body]
    return "\n".join(lines)


def render_readme(
    docs: Sequence[dict[str, str]],
    small: Sequence[dict[str, str]],
    full_count: int,
    tables: dict[str, list[dict[str, Any]]],
) -> str:
    """data/README.md, generated so row counts never drift from the files."""
    version = platform.python_version()
    stats = length_summary(docs)
    topic_rows = [
        (t, n, _count(small, "topic").get(t, 0)) for t, n in _count(docs, "topic").items()
    ]
    kind_rows = [(k, n) for k, n in _count(docs, "kind").items()]
    table_sections = []
    for name, rows in tables.items():
        meta = TABLE_META[name]
        fds = ", ".join(f"`{a} -> {b}`" for a, b in meta["fds"])
        table_sections.append(
            f"### `demo/tables/{name}.csv` ({len(rows)} rows)\n\n"
            f"{meta['description']}\n\n"
            f"- Columns: {', '.join(f'`{c}`' for c in rows[0])}\n"
            f"- Notes: {meta['notes']}\n"
            f"- Keys (unique columns): {', '.join(f'`{k}`' for k in meta['keys'])}\n"
            f"- Exact functional dependencies (checked by the script): {fds}\n"
            f"- Joins: {'; '.join(f'`{j}`' for j in meta['joins'])}\n"
        )
    return f"""# EmbedLens demo data

Everything under `data/demo/` is generated by

```bash
python scripts/build_demo_data.py
```

from material on the machine only (no downloads). The script is deterministic
(fixed seeds, sorted iteration); the corpus depends on the CPython version that
runs it (this build: CPython {version}). `data/demo/manifest.json` lists every file
with its kind, row count, text and label columns, so the app can offer the demos
without hard-coding names. File paths in the manifest are relative to `data/demo/`.

All files are UTF-8 CSV with a header row.

## Text corpora

### `demo/stdlib_docs.csv` ({len(docs)} rows)

Real English text: docstrings of the CPython {version} standard library, read by
importing the interpreter's own stdlib modules (`sys.stdlib_module_names` and their
public submodules; private, test, GUI and joke modules skipped) in an isolated
`python -I -S` subprocess. One row per documented public object.

| column | meaning |
|---|---|
| `text` | cleaned docstring (see below), under {MAX_CHARS} characters |
| `module` | top-level stdlib module (e.g. `email` for `email.mime.text`) |
| `kind` | `module`, `class`, `function` or `method` |
| `topic` | coarse hand-made topic of the top-level module (10 topics) |
| `qualname` | dotted path of the object, e.g. `json.decoder.JSONDecoder.decode` |

Useful label columns: `topic` (10 balanced classes, best for clustering and
retrieval demos), `module` (fine-grained), `kind`.

Construction: each docstring goes through `inspect.cleandoc`, whitespace is collapsed
to single spaces inside paragraphs (paragraphs stay separated by a blank line) and
texts of {MAX_CHARS}+ characters are cut at the last sentence end before the limit.
Docstrings shorter than {MIN_WORDS} words and bare call signatures are dropped, exact
duplicate texts are removed (first in sorted module order wins), then a topic-balanced
sample of {SAMPLE_SIZE} rows is drawn (seed {SEED}; equal per-topic cap, raised where a
topic has too few rows), reserving first every very long text (>= {LONG_WORDS} words, up
to {LONG_SHARE:.0%} of a topic's quota) and some very short ones (3-{SHORT_WORDS} words).

Word counts: min {stats["min"]}, quartiles {stats["q1"]} / {stats["median"]} / {stats["q3"]},
max {stats["max"]}; {stats["short_3_6"]} rows have 3-{SHORT_WORDS} words and
{stats["long_200"]} rows ({stats["long_200"] / stats["rows"]:.1%}) have >= {LONG_WORDS} words.

{_md_table(("topic", "stdlib_docs rows", "stdlib_docs_small rows"), topic_rows)}

{_md_table(("kind", "rows"), kind_rows)}

### `demo/stdlib_docs_small.csv` ({len(small)} rows)

Same columns. A topic-stratified subsample of `stdlib_docs.csv` (proportional
allocation; within a topic, rows evenly spaced over the word-count range), for fast
demos and tests.

### The full corpus (not bundled)

`from scripts.build_demo_data import full_stdlib_corpus` (run from the project root)
returns all {full_count} de-duplicated rows as a pandas DataFrame with the same
columns, rebuilt on the fly in about a second, for benchmarks and tests that need a
large real corpus.

## Relational tables

For table-embedding analyses (keys, functional dependencies, joins). Real facts in
`countries.csv` and `cities.csv` are general knowledge; numbers there are
approximate: `population_millions` is an early-2020s estimate; `area_km2` is the
commonly quoted area (e.g. Denmark without Greenland) rounded to 3 significant
figures; `continent` is that of the capital (Russia: Europe, Turkey: Asia);
`official_language` is one principal official or national language (many countries
have several: a simplification); capitals are the official ones (Tanzania: Dodoma);
`population_thousands` in `cities.csv` is a rough figure (what counts as "the city"
differs by country: municipality, province-level city, metro area). Fine for demos, not a
reference. All other tables are synthetic, drawn from fixed seeds.

{chr(10).join(table_sections)}
## Licences

- `stdlib_docs*.csv`: text from the docstrings of CPython {version}, © Python
  Software Foundation, under the Python Software Foundation License (PSF-2.0).
- `tables/*.csv`: facts are public-domain general knowledge; synthetic rows are
  generated by the script. Released under CC0 1.0.
"""


def build(out_dir: Path = DEMO_DIR) -> dict[str, Any]:
    """Regenerate every demo file and return a summary for the log."""
    started = time.perf_counter()
    full = full_stdlib_rows()
    extract_seconds = time.perf_counter() - started
    docs = balanced_sample(full)
    small = stratified_subsample(docs)
    write_csv(out_dir / "stdlib_docs.csv", docs, CORPUS_COLUMNS)
    write_csv(out_dir / "stdlib_docs_small.csv", small, CORPUS_COLUMNS)
    tables = build_tables()
    for name, rows in tables.items():
        write_csv(out_dir / "tables" / f"{name}.csv", rows, list(rows[0]))
    manifest = build_manifest(docs, small, tables)
    (out_dir / "manifest.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    readme = render_readme(docs, small, len(full), tables)
    (out_dir.parent / "README.md").write_text(readme, encoding="utf-8")
    return {
        "full_rows": len(full),
        "extract_seconds": round(extract_seconds, 1),
        "full_by_topic": _count(full, "topic"),
        "stdlib_docs": length_summary(docs),
        "stdlib_docs_small": length_summary(small),
        "tables": {name: len(rows) for name, rows in tables.items()},
        "unmapped_modules": _unmapped_modules(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extract-to", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.extract_to:  # internal: the isolated extraction subprocess
        records = extract_raw_docstrings()
        args.extract_to.write_text(json.dumps(records), encoding="utf-8")
        return 0
    print(json.dumps(build(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
