"""The command line in-process: ``cli(*argv)`` runs ``analysis.cli.main.main`` and returns the
exit code, the JSON printed on stdout (None when nothing was printed) and stderr."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest


class CliResult(NamedTuple):
    code: int
    payload: dict[str, Any] | None
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """``cli(*argv) -> CliResult(code, payload, err)``; unpacks as ``code, out, err``."""
    from analysis.cli.main import main

    def run(*argv: str) -> CliResult:
        code = main(list(argv))
        captured = capsys.readouterr()
        payload = json.loads(captured.out) if captured.out.strip() else None
        return CliResult(code, payload, captured.err)

    return run
