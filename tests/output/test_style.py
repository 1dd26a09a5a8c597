"""User text shown through Markdown renderers (Streamlit messages, the report's index.md)."""

from __future__ import annotations

from markdown_it import MarkdownIt

from analysis.output.style import literal

HOSTILE = "[click here](https:evil.example) **BOLD** <b>x</b> `code` $x$ _i_ ~~s~~ :red[r] 1. # h"


def test_literal_escapes_every_markup_character_and_removes_nothing() -> None:
    shown = literal(HOSTILE)
    assert shown.startswith(r"\[click here\]\(https:evil.example\) \*\*BOLD\*\*")
    assert r"\<b\>x\</b\> \`code\` \$x\$ \_i\_ \~\~s\~\~ :red\[r\] 1. \# h" in shown
    assert shown.replace("\\", "") == HOSTILE.replace("\\", "")  # only backslashes added
    assert literal("a\\b") == "a\\\\b" and literal("") == "" and literal(3) == "3"


def test_list_markers_are_escaped_only_where_a_line_starts_a_list() -> None:
    assert literal("- item") == r"\- item" and literal("2. step\n  - sub") == "2\\. step\n  \\- sub"
    assert literal("UMAP 2-D of docs.csv") == "UMAP 2-D of docs.csv"
    rendered = MarkdownIt("commonmark").render(literal("1. one\n- two"))
    assert "<ol" not in rendered and "<ul" not in rendered


def test_literal_text_renders_as_typed() -> None:
    rendered = MarkdownIt("commonmark").render(literal(HOSTILE))
    assert "<a " not in rendered and "<strong>" not in rendered and "<em>" not in rendered
    assert "<code>" not in rendered and "<h1>" not in rendered and "<ol" not in rendered
    assert "[click here](https:evil.example) **BOLD** &lt;b&gt;x&lt;/b&gt;" in rendered
