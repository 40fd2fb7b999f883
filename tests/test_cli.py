"""The command line: every command listed, and `serve` refuses an outdated PostgreSQL schema."""

from __future__ import annotations

import subprocess
import sys

import pytest

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


def test_serve_refuses_an_outdated_postgres_schema(new_postgres_url: str, tmp_path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "GUARDIANES_DATABASE_URL": new_postgres_url,
    }
    result = _guardianes("serve", env=env)
    assert result.returncode == 2
    assert "guardianes db upgrade" in result.stdout


@pytest.mark.parametrize("check", ["locales", "db"])
def test_drift_checks_pass(check: str) -> None:
    result = _guardianes(check, "check")
    assert result.returncode == 0, result.stdout + result.stderr
