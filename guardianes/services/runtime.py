"""The running service's parts, built once in the app's lifespan and passed explicitly."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from guardianes.config import Settings
from guardianes.conversations.catalog import FormCatalog
from guardianes.conversations.context import Gazetteer
from guardianes.geo.loader import load_city_gazetteers
from guardianes.services.delivery import Channel, PacerSpec
from guardianes.services.effects import FormDescriber, PrivacyHandler, StaffActionHandler
from guardianes.services.locks import KeyedLocks
from guardianes.services.rate_limits import RateLimits
from guardianes.storage.db import unit_of_work

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Settings, database, forms, geography and channels of one service process."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    catalog: FormCatalog
    forms: FormDescriber
    gazetteer: Gazetteer
    channels: dict[str, Channel] = field(default_factory=dict)
    # Send caps of the channels that have them (the plugins say which), by channel name.
    pacing: dict[str, PacerSpec] = field(default_factory=dict)
    staff_actions: StaffActionHandler | None = None
    privacy: PrivacyHandler | None = None
    locks: KeyedLocks = field(default_factory=KeyedLocks)
    outbox_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    # Set while no background work (inbound processing) runs: bulk sends yield to it.
    idle: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    _busy: set[asyncio.Task[Any]] = field(default_factory=set)
    rate_limits: RateLimits = field(init=False)

    def __post_init__(self) -> None:
        self.rate_limits = RateLimits(self.settings)
        self.idle.set()

    def spawn(
        self, coroutine: Coroutine[Any, Any, Any], name: str, *, busy: bool = True
    ) -> asyncio.Task[Any]:
        """Run work in the background, keeping a reference and logging its failure.

        `busy` work (processing messages) makes bulk sends yield to it; a task that mostly
        sleeps (a retry waiting for its backoff) must not hold broadcasts back meanwhile.
        """
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        if busy:
            self._busy.add(task)
            self.idle.clear()
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        self._busy.discard(task)
        if not self._busy:
            self.idle.set()
        if not task.cancelled() and task.exception() is not None:
            logger.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def drain(self) -> None:
        """Wait for background work to finish (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Cancel background work and close the database."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.engine.dispose()


async def reload_gazetteer(runtime: Runtime) -> None:
    """Rebuild the in-memory geography after an import."""
    async with unit_of_work(runtime.sessions) as session:
        runtime.gazetteer = await load_city_gazetteers(
            session, runtime.settings.max_space_distance_m
        )
