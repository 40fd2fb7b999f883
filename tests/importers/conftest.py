"""Fixtures for importer tests: the shipped demo data and temporary input files.

The database `session` and the real-data folder `chihuahua_data` come from tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DIR = REPO_ROOT / "sample_data"

WriteFile = Callable[[str, str | bytes], Path]


@pytest.fixture
def sample_dir() -> Path:
    """The shipped demo data."""
    return SAMPLE_DIR


@pytest.fixture
def write_file(tmp_path: Path) -> WriteFile:
    """Write a file under tmp_path and return its path."""

    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write
