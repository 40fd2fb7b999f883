"""The domain package is the lowest layer: it imports only the standard library."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "guardianes" / "domain"


def _top_level_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_domain_imports_only_the_standard_library() -> None:
    imported = set().union(*(_top_level_imports(p) for p in DOMAIN.rglob("*.py")))
    assert {name for name in imported if name not in sys.stdlib_module_names} == set()
