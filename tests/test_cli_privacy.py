"""`guardianes privacy retention` and `guardianes privacy erase` from the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _guardianes(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "GUARDIANES_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "GUARDIANES_MEDIA_DIR": str(tmp_path / "media"),
        "GUARDIANES_MEDIA_RETENTION_DAYS": "30",
    }
    return subprocess.run(
        [sys.executable, "-m", "guardianes", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
        cwd=tmp_path,
    )


def test_retention_runs_once_and_reports_what_it_removed(tmp_path: Path) -> None:
    result = _guardianes(tmp_path, "privacy", "retention")
    assert result.returncode == 0, result.stderr
    printed = " ".join(result.stdout.split())  # rich wraps long lines
    assert "photos marked deleted: 0" in printed
    assert "retention 30 days" in printed


def test_erasing_an_unknown_guardian_says_so(tmp_path: Path) -> None:
    result = _guardianes(tmp_path, "privacy", "erase", "999")
    assert result.returncode == 1
    assert "guardian 999 not found" in " ".join(result.stdout.split())
