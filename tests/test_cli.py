"""The command line: every command listed, and `serve` refuses an outdated PostgreSQL schema."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid

import pytest

from tests.conftest import _create_database, _drop_database

EXPECTED_COMMANDS = (
    "serve",
    "db",
    "import",
    "forms",
    "chat",
    "staff",
    "broadcast",
    "locales",
    "privacy",
)


def _guardianes(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "guardianes", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_help_lists_every_command() -> None:
    result = _guardianes("--help")
    assert result.returncode == 0, result.stderr
    for command in EXPECTED_COMMANDS:
        assert command in result.stdout


def test_serve_refuses_an_outdated_postgres_schema(postgres_url: str, tmp_path) -> None:
    name = f"guardianes_empty_{uuid.uuid4().hex[:10]}"
    asyncio.run(_create_database(name))
    try:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "GUARDIANES_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}",
        }
        result = _guardianes("serve", env=env)
    finally:
        asyncio.run(_drop_database(name))
    assert result.returncode == 2
    assert "guardianes db upgrade" in result.stdout


@pytest.mark.parametrize("check", ["locales", "db"])
def test_drift_checks_pass(check: str) -> None:
    result = _guardianes(check, "check")
    assert result.returncode == 0, result.stdout + result.stderr
