"""Every SQLite connection is set up for one busy writer and many readers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from guardianes.storage.db import SQLITE_BUSY_TIMEOUT_MS, SQLITE_CACHE_KIB, create_engine


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'pragmas.db'}")
    yield engine
    await engine.dispose()


async def _pragma(engine: AsyncEngine, name: str) -> object:
    async with engine.connect() as conn:
        return (await conn.execute(text(f"PRAGMA {name}"))).scalar_one()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("journal_mode", "wal"),
        ("synchronous", 1),  # NORMAL
        ("busy_timeout", 0),  # inline: other processes' writers are awaited, not spun on
        ("foreign_keys", 1),
        ("cache_size", SQLITE_CACHE_KIB),
        ("temp_store", 2),  # MEMORY
    ],
)
async def test_a_sqlite_connection_has_its_pragma_set(
    sqlite_engine: AsyncEngine, name: str, expected: object
) -> None:
    assert await _pragma(sqlite_engine, name) == expected


async def test_a_threaded_sqlite_connection_keeps_sqlites_own_busy_timeout(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'threaded.db'}", sqlite_threaded=True)
    try:
        assert await _pragma(engine, "busy_timeout") == SQLITE_BUSY_TIMEOUT_MS
    finally:
        await engine.dispose()
