"""SQLite on the event loop's own thread: an aiosqlite-shaped connection with no thread.

Why: aiosqlite runs every cursor call on a worker thread, and each call is a round trip
between the loop and that thread (a queue put, a future, a wake-up of the loop). A turn's
statements take microseconds each in SQLite on a local file, but each hop costs far
more than that on a busy machine, so a turn spent most of its time handing work back and
forth (bench/NOTES.md). Here each call runs directly; SQLAlchemy's asyncio adapter
awaits coroutines that complete at once, which costs a greenlet switch, not a thread hop.

What keeps the loop from blocking:
- Writers of one engine queue in asyncio (`WriterGate`) from their first write to their
  commit or rollback, so one never waits inside SQLite for another of the same process.
- SQLite's own busy handler is off (busy_timeout=0): when another process holds the write
  lock, the first write of a transaction rolls back, sleeps asynchronously and tries again
  until `busy_timeout` seconds have passed, then raises "database is locked" as before.
- Reads never wait for writers in WAL mode.
What it does not do: a single long query (a report over every submission) holds the loop
for its duration. Deployments where that matters run PostgreSQL, or set
`GUARDIANES_SQLITE_THREADED=true` to go back to aiosqlite's worker thread.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

# Statements that take SQLite's write lock are the ones that do not start with these.
_READ_PREFIXES = ("SELECT", "PRAGMA", "EXPLAIN")
_FIRST_BACKOFF = 0.001
_MAX_BACKOFF = 0.05


class WriterGate:
    """The write lock of one database, as seen by the connections of one engine."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait for the other writers of this engine to commit or roll back."""
        await self._lock.acquire()

    def release(self) -> None:
        """Let the next writer in."""
        self._lock.release()


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY or (
        "database is locked" in str(error)
    )


class InlineCursor:
    """An aiosqlite-shaped cursor whose calls run at once."""

    def __init__(self, connection: InlineConnection) -> None:
        self._connection = connection
        self._cursor = connection._conn.cursor()

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    @property
    def description(self) -> Any:
        """The columns of the last result."""
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        """Rows the last statement changed."""
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        """The rowid of the last inserted row."""
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        """Rows fetchmany returns by default."""
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:
        """Run one statement (waiting for the write lock first when it writes)."""
        await self._connection._run(lambda: self._cursor.execute(sql, parameters), sql)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> InlineCursor:
        """Run one statement for each set of parameters."""
        rows = list(parameters)
        await self._connection._run(lambda: self._cursor.executemany(sql, rows), sql)
        return self

    async def fetchone(self) -> Any:
        """The next row, or None."""
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        """Up to `size` rows."""
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        """The remaining rows."""
        return self._cursor.fetchall()

    async def close(self) -> None:
        """Close the cursor."""
        self._cursor.close()

    async def nextset(self) -> None:
        """SQLite has one result set per statement."""
        return

    async def setinputsizes(self, *_: Any) -> None:
        """Not used by SQLite."""
        return

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._rows()

    async def _rows(self) -> AsyncIterator[Any]:
        for row in self._cursor:
            yield row


class _CursorContext:
    """What `connection.cursor()` returns: awaitable, and an async context manager."""

    def __init__(self, connection: InlineConnection) -> None:
        self._connection = connection

    def __await__(self) -> Any:
        return self.__aenter__().__await__()

    async def __aenter__(self) -> InlineCursor:
        return InlineCursor(self._connection)

    async def __aexit__(self, *_: object) -> None:
        return None


class _ImmediateQueue:
    """Stands in for aiosqlite's request queue: runs the request now, on this thread."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except BaseException as error:  # handed to whoever awaits the future
            future.set_exception(error)


class InlineConnection:
    """An aiosqlite-shaped connection running sqlite3 on the calling thread."""

    def __init__(self, conn: sqlite3.Connection, gate: WriterGate, busy_timeout: float) -> None:
        self._conn = conn
        self._connection: sqlite3.Connection | None = conn  # SQLAlchemy checks it is set
        self._gate = gate
        self._busy_timeout = busy_timeout
        self._writing = False
        self._tx = _ImmediateQueue()

    @property
    def isolation_level(self) -> str | None:
        """The sqlite3 module's transaction mode."""
        return self._conn.isolation_level

    @property
    def in_transaction(self) -> bool:
        """True inside an open transaction."""
        return self._conn.in_transaction

    def cursor(self) -> _CursorContext:
        """A new cursor (awaitable, or `async with`)."""
        return _CursorContext(self)

    async def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:
        """Run one statement on a new cursor."""
        cursor = InlineCursor(self)
        return await cursor.execute(sql, parameters)

    async def _run(self, call: Callable[[], Any], sql: str) -> None:
        if self._writing or sql.lstrip()[:7].upper().startswith(_READ_PREFIXES):
            call()
            self._release_if_done()
            return
        await self._gate.acquire()
        self._writing = True
        deadline = time.monotonic() + self._busy_timeout
        backoff = _FIRST_BACKOFF
        try:
            while True:
                began_here = not self._conn.in_transaction
                try:
                    call()
                    break
                except sqlite3.OperationalError as error:
                    # Another process writes. Only the transaction's first write can meet
                    # that (later ones hold the lock); roll back so no stale snapshot stays.
                    if not (_is_busy(error) and began_here) or time.monotonic() > deadline:
                        raise
                    self._conn.rollback()
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, _MAX_BACKOFF)
        except BaseException:
            self._release_if_done()
            raise
        self._release_if_done()

    def _release_if_done(self) -> None:
        if self._writing and not self._conn.in_transaction:
            self._writing = False
            self._gate.release()

    async def commit(self) -> None:
        """Commit, then let the next writer in."""
        try:
            self._conn.commit()
        finally:
            self._release_if_done()

    async def rollback(self) -> None:
        """Roll back, then let the next writer in."""
        try:
            self._conn.rollback()
        finally:
            self._release_if_done()

    def rollback_now(self) -> None:
        """Roll back an open transaction without awaiting (for pool events)."""
        if self._connection is not None and self._conn.in_transaction:
            self._conn.rollback()
        self._release_if_done()

    async def close(self) -> None:
        """Close the connection (its open transaction rolls back)."""
        self.stop()

    def stop(self) -> None:
        """Close at once (also SQLAlchemy's terminate); the write lock goes with it."""
        try:
            self._conn.close()
        finally:
            self._connection = None
            if self._writing:
                self._writing = False
                self._gate.release()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        """Register a SQL function."""
        self._conn.create_function(*args, **kwargs)


def inline_connector(database: str, *, busy_timeout: float = 30.0) -> Callable[[], Any]:
    """An `async_creator` for create_async_engine: inline connections to one file."""
    gate = WriterGate()

    async def connect() -> InlineConnection:
        conn = sqlite3.connect(
            database,
            uri=database.startswith("file:"),
            check_same_thread=False,
            detect_types=0,
        )
        return InlineConnection(conn, gate, busy_timeout)

    return connect


def end_stray_transaction(dbapi_connection: Any, _record: Any) -> None:
    """Pool check-in: roll back a transaction its user left open (and free the write lock)."""
    inline = getattr(dbapi_connection, "driver_connection", None)
    if isinstance(inline, InlineConnection):
        inline.rollback_now()
