"""The configured database for one command: migrated as `serve` does, disposed after."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from guardianes.config import Settings
from guardianes.storage.db import create_engine, create_session_factory, ensure_schema, unit_of_work

T = TypeVar("T")


@asynccontextmanager
async def engine_of(url: str) -> AsyncIterator[AsyncEngine]:
    """An engine of `url`, disposed when the block ends."""
    # The engine's pooled connections belong to the event loop that opened them: open and
    # dispose in one loop, or disposing from another raises "Event loop is closed".
    engine = create_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()


@asynccontextmanager
async def configured_sessions(
    settings: Settings | None = None,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions of the configured database (SQLite migrated first, as `serve` does)."""
    async with engine_of((settings or Settings()).database_url) as engine:
        await ensure_schema(engine)
        yield create_session_factory(engine)


def with_sessions(
    job: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]],
    settings: Settings | None = None,
) -> T:
    """Run `job` with the configured database's sessions, for jobs of several units of work."""

    async def run() -> T:
        async with configured_sessions(settings) as sessions:
            return await job(sessions)

    return asyncio.run(run())


def in_unit_of_work(
    job: Callable[[AsyncSession], Awaitable[T]], settings: Settings | None = None
) -> T:
    """Run `job` in one unit of work of the configured database, committed when it returns."""

    async def run(sessions: async_sessionmaker[AsyncSession]) -> T:
        async with unit_of_work(sessions) as session:
            return await job(session)

    return with_sessions(run, settings)
