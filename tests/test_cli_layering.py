"""The command line sits on top: no module of the package imports it."""

from __future__ import annotations

from pathlib import Path

from tests.module_imports import imported_names, is_within

PACKAGE = Path(__file__).resolve().parents[1] / "guardianes"
CLI = "guardianes.cli"
# `python -m guardianes` is the command line's second door.
ENTRY_POINTS = {PACKAGE / "__main__.py"}


def test_nothing_outside_the_cli_imports_it() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path not in ENTRY_POINTS and (PACKAGE / "cli") not in path.parents
        for name in sorted(imported_names(path))
        if is_within(name, CLI)
    ]
    assert offenders == []
