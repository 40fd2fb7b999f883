"""SQLite on the event loop's thread: writers take turns, other processes are awaited."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from guardianes.storage.db import create_engine, create_session_factory, unit_of_work
from guardianes.storage.sqlite_inline import inline_connector


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "inline.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE notes (body TEXT)")
    return path


@pytest.fixture
async def engine(database: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    yield engine
    await engine.dispose()


async def _bodies(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return list((await conn.execute(text("SELECT body FROM notes ORDER BY rowid"))).scalars())


async def test_writers_of_one_engine_take_turns_instead_of_failing(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    first_wrote = asyncio.Event()

    async def first() -> None:
        async with unit_of_work(sessions) as session:
            await session.execute(text("INSERT INTO notes VALUES ('first, 1')"))
            first_wrote.set()
            await asyncio.sleep(0.05)  # holds the write lock across an await
            await session.execute(text("INSERT INTO notes VALUES ('first, 2')"))

    async def second() -> None:
        await first_wrote.wait()
        async with unit_of_work(sessions) as session:
            await session.execute(text("INSERT INTO notes VALUES ('second')"))

    await asyncio.gather(first(), second())
    assert await _bodies(engine) == ["first, 1", "first, 2", "second"]


async def test_a_writer_waits_for_another_process_without_holding_the_loop(
    engine: AsyncEngine, database: Path
) -> None:
    other_process = sqlite3.connect(database, isolation_level=None)
    other_process.execute("BEGIN IMMEDIATE")  # the write lock, held elsewhere
    ten_ticks = asyncio.Event()

    async def ticker() -> None:
        for _ in range(10):
            await asyncio.sleep(0.005)
        ten_ticks.set()

    async def write() -> None:
        async with unit_of_work(create_session_factory(engine)) as session:
            await session.execute(text("INSERT INTO notes VALUES ('after the other')"))

    ticking = asyncio.create_task(ticker())
    writing = asyncio.create_task(write())
    try:
        await asyncio.wait_for(ten_ticks.wait(), 5)  # the loop runs while the writer waits
        assert not writing.done()
        other_process.execute("COMMIT")
        await asyncio.wait_for(writing, 5)
    finally:
        ticking.cancel()
        other_process.close()
    assert await _bodies(engine) == ["after the other"]


async def test_a_writer_gives_up_when_the_other_process_holds_the_lock_too_long(
    database: Path,
) -> None:
    engine = create_engine(
        f"sqlite+aiosqlite:///{database}",
        async_creator=inline_connector(str(database), busy_timeout=0.05),
    )
    other_process = sqlite3.connect(database, isolation_level=None)
    other_process.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="locked"):
            async with unit_of_work(create_session_factory(engine)) as session:
                await session.execute(text("INSERT INTO notes VALUES ('never')"))
        # The lock of this engine is free again: the next writer goes through.
        other_process.execute("COMMIT")
        async with unit_of_work(create_session_factory(engine)) as session:
            await session.execute(text("INSERT INTO notes VALUES ('later')"))
        assert await _bodies(engine) == ["later"]
    finally:
        other_process.close()
        await engine.dispose()


async def test_a_transaction_left_open_is_rolled_back_when_its_connection_returns(
    engine: AsyncEngine,
) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("INSERT INTO notes VALUES ('never committed')"))
    async with asyncio.timeout(5):  # the write lock was given back with the connection
        async with unit_of_work(create_session_factory(engine)) as session:
            await session.execute(text("INSERT INTO notes VALUES ('committed')"))
    assert await _bodies(engine) == ["committed"]


async def test_an_in_memory_database_keeps_its_tables_across_sessions() -> None:
    engine = create_engine("sqlite+aiosqlite://")
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            await session.execute(text("CREATE TABLE notes (body TEXT)"))
            await session.execute(text("INSERT INTO notes VALUES ('kept')"))
        assert await _bodies(engine) == ["kept"]
    finally:
        await engine.dispose()
