"""Layering: the engine and storage never import a channel, web or HTTP library."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "guardianes"

FORBIDDEN = {
    "conversations": (
        "aiogram",
        "aiohttp",
        "fastapi",
        "starlette",
        "httpx",
        "sqlalchemy",
        "guardianes.bot",
        "guardianes.api",
        "guardianes.web",
        "guardianes.storage",
        "guardianes.services",
    ),
    "storage": (
        "aiogram",
        "aiohttp",
        "fastapi",
        "starlette",
        "httpx",
        "guardianes.bot",
        "guardianes.api",
        "guardianes.web",
        "guardianes.services",
    ),
}


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_layer_imports_no_forbidden_library(folder: str) -> None:
    offenders = []
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        for module in _imported_modules(path):
            if any(module == bad or module.startswith(bad + ".") for bad in FORBIDDEN[folder]):
                offenders.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert offenders == []
