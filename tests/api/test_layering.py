"""The staff API never imports the web layer (pages may use the API's dependencies)."""

from __future__ import annotations

from pathlib import Path

from tests.module_imports import imported_names, is_within

API = Path(__file__).resolve().parents[2] / "guardianes" / "api"
WEB = "guardianes.web"


def test_no_api_module_imports_the_web_layer() -> None:
    offenders = [
        f"{path.relative_to(API)} imports {name}"
        for path in sorted(API.rglob("*.py"))
        for name in sorted(imported_names(path))
        if is_within(name, WEB)
    ]
    assert offenders == []
