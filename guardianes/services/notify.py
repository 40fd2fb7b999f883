"""Wake-ups between the processes of one service: in-process, or PostgreSQL LISTEN/NOTIFY.

With several uvicorn workers on one PostgreSQL database, the worker that sends a web chat
reply is often not the one whose long-poll waits for it. `PostgresNotifier` publishes a
short text on a NOTIFY channel; every worker (the sender too) hears it and calls its
subscribers. On SQLite (one process) `LocalNotifier` calls them directly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Protocol

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

logger = logging.getLogger(__name__)

Subscriber = Callable[[str], None]
# PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more.
MAX_PAYLOAD_BYTES = 7_900


class Notifier(Protocol):
    """Publishes texts on one topic to every process listening, this one included."""

    def subscribe(self, subscriber: Subscriber) -> None:
        """Call `subscriber(text)` for every text published from now on."""

    async def publish(self, text: str) -> bool:
        """Publish one text; False when it could not be (too long, connection lost)."""

    async def close(self) -> None:
        """Stop listening and release connections."""


class LocalNotifier:
    """Subscribers of this process only (SQLite: the service is one process)."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        """Call `subscriber(text)` for every text published from now on."""
        self._subscribers.append(subscriber)

    async def publish(self, text: str) -> bool:
        """Call every subscriber now."""
        for subscriber in self._subscribers:
            subscriber(text)
        return True

    async def close(self) -> None:
        """Nothing to release."""


class PostgresNotifier:
    """NOTIFY on `topic`; one listening connection per process delivers to subscribers."""

    def __init__(self, dsn: str, topic: str) -> None:
        self.dsn = dsn
        self.topic = topic
        self._subscribers: list[Subscriber] = []
        self._listener: asyncpg.Connection | None = None
        self._publisher: asyncpg.Connection | None = None
        self._publishing = asyncio.Lock()

    async def start(self) -> None:
        """Open the listening connection."""
        self._listener = await asyncpg.connect(self.dsn)
        await self._listener.add_listener(self.topic, self._heard)

    def subscribe(self, subscriber: Subscriber) -> None:
        """Call `subscriber(text)` for every text any process publishes from now on."""
        self._subscribers.append(subscriber)

    async def publish(self, text: str) -> bool:
        """NOTIFY every listening process; False when too long or the database is away."""
        if len(text.encode()) > MAX_PAYLOAD_BYTES:
            return False
        async with self._publishing:
            try:
                if self._publisher is None or self._publisher.is_closed():
                    self._publisher = await asyncpg.connect(self.dsn)
                await self._publisher.execute("SELECT pg_notify($1, $2)", self.topic, text)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                # A wake-up is an optimisation: the long-poll still ends at its deadline.
                logger.warning("NOTIFY %s failed: %s", self.topic, error)
                return False
        return True

    async def close(self) -> None:
        """Close both connections."""
        for connection in (self._listener, self._publisher):
            if connection is not None and not connection.is_closed():
                await connection.close()
        self._listener = self._publisher = None

    def _heard(self, _connection: Any, _pid: int, _topic: str, payload: str) -> None:
        for subscriber in self._subscribers:
            try:
                subscriber(payload)
            except Exception:
                logger.exception("a %s subscriber failed", self.topic)


def asyncpg_dsn(database_url: str) -> str | None:
    """The asyncpg DSN of a PostgreSQL SQLAlchemy URL; None for other databases."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return None
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def start_notifier(database_url: str, topic: str) -> Notifier:
    """PostgreSQL LISTEN/NOTIFY on `topic` for PostgreSQL, else in-process."""
    dsn = asyncpg_dsn(database_url)
    if dsn is None:
        return LocalNotifier()
    notifier = PostgresNotifier(dsn, topic)
    await notifier.start()
    return notifier
