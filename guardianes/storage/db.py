"""Database engines, sessions and migrations (Alembic) for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from guardianes.storage.sqlite_inline import (
    InlineConnection,
    end_stray_transaction,
    inline_connector,
)

STORAGE_DIR = Path(__file__).resolve().parent
MIGRATIONS_DIR = STORAGE_DIR / "migrations"
# Negative: a size in KiB rather than in pages (SQLite's convention for cache_size).
SQLITE_CACHE_KIB = -16_000
# How long a writer waits for another process's write transaction before giving up.
SQLITE_BUSY_TIMEOUT_MS = 30_000


class SchemaOutdatedError(RuntimeError):
    """The database is behind the code's migrations."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers proceed while the single writer commits; foreign keys are off by
    # default in SQLite; busy_timeout makes concurrent writers wait instead of failing;
    # synchronous=NORMAL is durable across a crash of the process in WAL mode (fsync at
    # checkpoints, not per commit); a 16 MB page cache per connection (the default is 2 MB)
    # keeps the hot tables and indexes in memory, and temporary sorts stay there too.
    # Inline connections wait for other processes' writers asynchronously (sqlite_inline),
    # so SQLite's own busy handler, which would hold the event loop, stays off for them.
    inline = isinstance(getattr(dbapi_connection, "driver_connection", None), InlineConnection)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={0 if inline else SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA cache_size={SQLITE_CACHE_KIB}")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def create_engine(url: str, *, sqlite_threaded: bool = False, **kwargs: Any) -> AsyncEngine:
    """An async engine for the URL; SQLite folders are created and pragmas set.

    SQLite runs on the event loop's thread (storage/sqlite_inline.py) unless
    `sqlite_threaded`, which keeps aiosqlite's worker thread.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        on_file = bool(database) and database != ":memory:"
        if on_file:
            Path(str(database)).parent.mkdir(parents=True, exist_ok=True)
        inline = not sqlite_threaded and parsed.get_driver_name() == "aiosqlite"
        if inline:
            kwargs.setdefault(
                "async_creator",
                inline_connector(
                    database or ":memory:", busy_timeout=SQLITE_BUSY_TIMEOUT_MS / 1000
                ),
            )
            # Every session ends in a commit or a rollback already; the pool's extra rollback
            # on return cost as much as a statement. `end_stray_transaction` covers the rest.
            kwargs.setdefault("pool_reset_on_return", None)
            if on_file:  # (a memory database has one connection)
                # A connection is a file handle: keep enough that a burst of sessions reuses
                # them instead of opening (and setting up) overflow ones each time.
                kwargs.setdefault("pool_size", 20)
                kwargs.setdefault("max_overflow", 40)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        if inline:
            event.listen(engine.sync_engine.pool, "checkin", end_stray_transaction)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def unit_of_work(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction: committed when the block ends, rolled back on error.

    This is the one place Guardianes commits; everything inside only flushes.
    """
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic configuration pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    """The newest migration shipped with the code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    """The migration the database is at (None when empty)."""
    async with engine.connect() as conn:
        return await conn.run_sync(_current_revision)


async def schema_is_current(engine: AsyncEngine) -> bool:
    """True when the database is at the newest migration."""
    return await current_revision(engine) == head_revision()


def _upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)


async def upgrade_database(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply migrations up to `revision`."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, revision)


def _check(connection: Connection) -> None:
    command.check(alembic_config(connection))


async def check_models_match_migrations(engine: AsyncEngine) -> None:
    """Raise when the models hold changes no migration covers (`alembic check`)."""
    async with engine.connect() as conn:
        await conn.run_sync(_check)


async def ensure_schema(engine: AsyncEngine, *, migrate_sqlite: bool = True) -> None:
    """Migrate an embedded SQLite database; refuse an outdated PostgreSQL one."""
    if await schema_is_current(engine):
        return
    if engine.dialect.name == "sqlite" and migrate_sqlite:
        await upgrade_database(engine)
        return
    raise SchemaOutdatedError(
        f"The database schema is at {await current_revision(engine) or 'nothing'}, "
        f"the code needs {head_revision()}. Run `guardianes db upgrade` first."
    )


def _revision(connection: Connection, message: str) -> None:
    command.revision(alembic_config(connection), message=message, autogenerate=True)


async def make_revision(engine: AsyncEngine, message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    async with engine.connect() as conn:
        await conn.run_sync(_revision, message)
