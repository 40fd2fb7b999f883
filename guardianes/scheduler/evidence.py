"""The evidence deadline watch: flags discrepancies the authority left past their deadline.

Every `GUARDIANES_OVERDUE_CHECK_MINUTES` one pass sets `overdue_at` on unresolved
discrepancies whose `due_at` (creation + `GUARDIANES_DISCREPANCY_DEADLINE_DAYS`) has passed.
Flagging is idempotent and safe to run from several processes: a row already flagged is
not selected again. The escalation e-mail to the directorate's head is sent by the
evidence e-mail outbox, which reads the flag.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from guardianes.services import evidence
from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.types import utcnow

logger = logging.getLogger(__name__)
Clock = Callable[[], datetime]
SECONDS_PER_MINUTE = 60


async def flag_overdue_once(runtime: Runtime, *, now: datetime | None = None) -> list[int]:
    """One pass: flag every discrepancy now past its deadline; returns their ids."""
    async with unit_of_work(runtime.sessions) as session:
        return await evidence.mark_overdue(session, now=now or utcnow())


@dataclass
class OverdueWatch:
    """The running loop; `await watch.stop()` ends it."""

    runtime: Runtime
    interval_seconds: float
    clock: Clock = utcnow
    task: asyncio.Task[Any] | None = None

    async def run_forever(self) -> None:
        """Flag overdue discrepancies, then sleep one interval; a failed pass is retried."""
        while True:
            try:
                await flag_overdue_once(self.runtime, now=self.clock())
            except Exception:
                logger.exception("flagging overdue discrepancies failed")
            await asyncio.sleep(self.interval_seconds)

    async def stop(self) -> None:
        """Cancel the loop and wait for it."""
        if self.task is None:
            return
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        self.task = None


async def start_overdue_watch(runtime: Runtime) -> OverdueWatch:
    """Start the overdue watch in the background."""
    watch = OverdueWatch(
        runtime, interval_seconds=runtime.settings.overdue_check_minutes * SECONDS_PER_MINUTE
    )
    watch.task = asyncio.create_task(watch.run_forever(), name="evidence overdue watch")
    return watch
