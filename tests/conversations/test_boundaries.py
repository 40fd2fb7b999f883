"""The engine stays platform-neutral and its outputs stay storable."""

from __future__ import annotations

import ast
from pathlib import Path

import guardianes.conversations as package
from guardianes.locales import catalog_differences

ALLOWED_ROOTS = {"pyxform", "guardianes", "openpyxl"}  # openpyxl: build_forms.py only


def test_the_engine_imports_only_the_standard_library_pyxform_and_locales():
    import sys

    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    offenders = []
    for path in Path(package.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                root = name.split(".")[0]
                if root not in stdlib and root not in ALLOWED_ROOTS:
                    offenders.append(f"{path.name}: {name}")
                if root == "guardianes" and not name.startswith(
                    ("guardianes.conversations", "guardianes.locales", "guardianes.domain")
                ):
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_locale_catalogs_have_the_same_keys_in_every_language():
    assert catalog_differences() == []
