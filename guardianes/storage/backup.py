"""Copying the database out and back in: SQLite's online backup, PostgreSQL's pg_dump.

SQLite is copied page by page with `sqlite3.Connection.backup` while the service may keep
writing (the copy is one consistent state). PostgreSQL is dumped by `pg_dump` inside a
REPEATABLE READ transaction whose snapshot it shares (`--snapshot`), so the row counts the
manifest records are those of exactly the dumped state. The password travels to the client
tools in their environment (`PGPASSWORD`), never on a command line other users can read.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from enum import StrEnum
from pathlib import Path

from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from guardianes.storage.db import alembic_config


class BackupError(RuntimeError):
    """A backup or restore cannot go on; the message says why and what to do."""


class DumpFormat(StrEnum):
    """How the database is stored in a backup."""

    SQLITE = "sqlite"  # a SQLite database file
    CUSTOM = "custom"  # pg_dump's compressed archive, restored with pg_restore
    PLAIN = "plain"  # pg_dump's SQL script, restored with psql


DUMP_FILES = {
    DumpFormat.SQLITE: "database.sqlite3",
    DumpFormat.CUSTOM: "database.dump",
    DumpFormat.PLAIN: "database.sql",
}
POSTGRES_TOOLS_HINT = (
    "install the PostgreSQL client tools of the server's major version "
    "(Debian: apt-get install postgresql-client) or put them on PATH"
)


# ---------------------------------------------------------------- both databases


def _table_names(connection: Connection) -> list[str]:
    return sorted(inspect(connection).get_table_names())


async def table_names(engine: AsyncEngine) -> list[str]:
    """The tables of the database's default schema."""
    async with engine.connect() as conn:
        return await conn.run_sync(_table_names)


async def _count_rows(conn: AsyncConnection) -> dict[str, int]:
    quote = conn.dialect.identifier_preparer.quote
    counts = {}
    for table in await conn.run_sync(_table_names):
        result = await conn.execute(text(f"SELECT count(*) FROM {quote(table)}"))
        counts[table] = int(result.scalar_one())
    return counts


async def row_counts(engine: AsyncEngine) -> dict[str, int]:
    """Rows per table, in one transaction."""
    async with engine.connect() as conn:
        return await _count_rows(conn)


def revision_is_known(revision: str) -> bool:
    """True when this code's migrations contain `revision`."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    scripts = ScriptDirectory.from_config(alembic_config())
    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False


# ---------------------------------------------------------------- SQLite


def sqlite_path(url: str) -> Path:
    """The file of a SQLite URL; an in-memory database cannot be backed up or restored."""
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up or restore")
    return Path(database)


def _copy_sqlite(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    with target:
        source.backup(target)


def sqlite_backup(source: Path, target: Path) -> dict[str, int]:
    """Copy a live SQLite database into `target` (self-contained); returns its row counts."""
    if not source.is_file():
        raise BackupError(f"the SQLite database {source} does not exist")
    origin = sqlite3.connect(source)
    copy = sqlite3.connect(target)
    try:
        _copy_sqlite(origin, copy)
        # The copy inherits WAL mode; a backup must be one file, without -wal and -shm.
        copy.execute("PRAGMA journal_mode=DELETE")
        return _sqlite_counts(copy)
    finally:
        copy.close()
        origin.close()


def _sqlite_counts(connection: sqlite3.Connection) -> dict[str, int]:
    names = [
        row[0]
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {
        name: int(connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])
        for name in sorted(names)
    }


def sqlite_restore(backup: Path, target: Path) -> None:
    """Write the backed-up database into `target` (which must hold no tables)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    copy = sqlite3.connect(backup)
    restored = sqlite3.connect(target)
    try:
        _copy_sqlite(copy, restored)
        restored.execute("PRAGMA journal_mode=WAL")  # what the service uses
    finally:
        restored.close()
        copy.close()


# ---------------------------------------------------------------- PostgreSQL


def libpq_environment(url: str | URL) -> dict[str, str]:
    """PG* variables for the client tools from a SQLAlchemy URL (password included)."""
    parsed = make_url(url)
    environment = {
        "PGHOST": parsed.host or str(parsed.query.get("host") or ""),
        "PGPORT": str(parsed.port or ""),
        "PGUSER": parsed.username or "",
        "PGPASSWORD": str(parsed.password or ""),
        "PGDATABASE": parsed.database or "",
    }
    ssl = parsed.query.get("sslmode") or parsed.query.get("ssl")
    if isinstance(ssl, str) and ssl:
        environment["PGSSLMODE"] = {"true": "require", "false": "disable"}.get(ssl, ssl)
    return {name: value for name, value in environment.items() if value}


def find_tool(name: str) -> str:
    """The path of a PostgreSQL client program, or a clear error."""
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} was not found on PATH: {POSTGRES_TOOLS_HINT}")
    return found


async def _run_tool(program: str, arguments: list[str], url: str) -> None:
    environment = {**os.environ, **libpq_environment(url)}
    process = await asyncio.create_subprocess_exec(
        find_tool(program),
        *arguments,
        env=environment,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, errors = await process.communicate()
    if process.returncode != 0:
        message = errors.decode("utf-8", "replace").strip()
        raise BackupError(f"{program} failed (exit {process.returncode}): {message}")


async def postgres_dump(
    engine: AsyncEngine, url: str, target: Path, dump_format: DumpFormat
) -> dict[str, int]:
    """Dump the database to `target` with pg_dump; returns the row counts of the same state."""
    find_tool("pg_dump")  # fail before opening a transaction
    async with engine.connect() as conn:
        snapshotting = await conn.execution_options(isolation_level="REPEATABLE READ")
        async with snapshotting.begin():
            snapshot = (await snapshotting.execute(text("SELECT pg_export_snapshot()"))).scalar()
            counts = await _count_rows(snapshotting)
            # The exporting transaction stays open until pg_dump has read everything.
            await _run_tool(
                "pg_dump",
                [
                    f"--format={dump_format.value}",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    f"--file={target}",
                ],
                url,
            )
    return counts


async def postgres_restore(url: str, dump: Path, dump_format: DumpFormat) -> None:
    """Load a pg_dump archive or script into the (empty) database of `url`, all or nothing."""
    database = make_url(url).database or ""
    if dump_format is DumpFormat.CUSTOM:
        await _run_tool(
            "pg_restore",
            [
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={database}",
                str(dump),
            ],
            url,
        )
        return
    await _run_tool(
        "psql",
        [
            "--no-psqlrc",
            "--quiet",
            "--set=ON_ERROR_STOP=1",
            "--single-transaction",
            f"--file={dump}",
            f"--dbname={database}",
        ],
        url,
    )
