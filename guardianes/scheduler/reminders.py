"""The scheduler process part: reminder passes and broadcast dispatch, driven by one loop.

`ReminderScheduler.tick(now)` does one reminder pass at a given time, so tests move a clock
instead of waiting; `BroadcastDispatcher.run_once()` turns pending broadcast deliveries into
outbox rows. `start_reminder_scheduler(runtime)` runs both every poll interval until
`stop()` of the returned `Periodic`. Any number of processes may run this against one PostgreSQL
database: every claim is atomic, and unique keys make a second send impossible.
"""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from guardianes.domain.timezone import zone
from guardianes.scheduler.periodic import Periodic, run_every
from guardianes.services import broadcasts as broadcasts_service
from guardianes.services import reminders as reminders_service
from guardianes.services.reminders import TickReport
from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.types import utcnow

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
DEFAULT_POLL_SECONDS = 1.0
CLAIM_BATCH = 200


def _worker_id() -> str:
    return f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"


class ReminderScheduler:
    """Materialises due reminder occurrences and turns them into outbox rows."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        clock: Clock = utcnow,
        worker_id: str | None = None,
        batch_size: int = CLAIM_BATCH,
    ) -> None:
        self.runtime = runtime
        self.clock = clock
        self.timezone = zone(runtime.settings.timezone)
        self.grace = timedelta(seconds=runtime.settings.reminder_grace_seconds)
        self.worker_id = worker_id or _worker_id()
        self.batch_size = batch_size

    async def tick(self, now: datetime | None = None) -> TickReport:
        """One pass at `now` (default: the clock): schedule, skip stale, claim and queue."""
        moment = now or self.clock()
        report = TickReport()
        async with unit_of_work(self.runtime.sessions) as session:
            await reminders_service.schedule_due(
                session,
                now=moment,
                timezone=self.timezone,
                grace=self.grace,
                report=report,
                course_idle_days=self.runtime.settings.course_idle_days,
            )
        async with unit_of_work(self.runtime.sessions) as session:
            report.skipped += await reminders_service.skip_stale(
                session, now=moment, grace=self.grace
            )
        while True:
            # One transaction per batch: claim, outbox rows and SENT commit together.
            async with unit_of_work(self.runtime.sessions) as session:
                claimed = await reminders_service.send_claimed_batch(
                    session,
                    now=moment,
                    worker=self.worker_id,
                    timezone=self.timezone,
                    limit=self.batch_size,
                    report=report,
                )
            if claimed < self.batch_size:
                break
        if report.sent:
            self.runtime.outbox_wakeup.set()
        return report


class BroadcastDispatcher:
    """Queues pending broadcast deliveries as outbox rows, batch by batch."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        batch_size: int = broadcasts_service.DEFAULT_BATCH_SIZE,
        clock: Clock = utcnow,
    ) -> None:
        self.runtime = runtime
        self.batch_size = batch_size
        self.clock = clock
        self.timezone = zone(runtime.settings.timezone)

    async def run_once(self) -> int:
        """Queue every pending delivery of unfinished broadcasts; returns how many."""
        async with unit_of_work(self.runtime.sessions) as session:
            ids = await broadcasts_service.unfinished_broadcasts(session)
        total = 0
        for broadcast_id in ids:
            while True:
                # One transaction per batch: a crash loses at most the uncommitted batch,
                # whose deliveries stay PENDING and are queued again on restart.
                async with unit_of_work(self.runtime.sessions) as session:
                    queued = await broadcasts_service.queue_batch(
                        session,
                        broadcast_id,
                        timezone=self.timezone,
                        limit=self.batch_size,
                        now=self.clock(),
                    )
                total += queued
                if queued:
                    self.runtime.outbox_wakeup.set()
                if queued < self.batch_size:
                    break
            async with unit_of_work(self.runtime.sessions) as session:
                await broadcasts_service.refresh_status(session, broadcast_id, self.clock())
        return total


async def start_reminder_scheduler(
    runtime: Runtime,
    *,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    clock: Clock = utcnow,
    worker_id: str | None = None,
) -> Periodic:
    """Dispatch broadcasts and tick reminders every poll interval, in the background."""
    reminders = ReminderScheduler(runtime, clock=clock, worker_id=worker_id)
    dispatcher = BroadcastDispatcher(runtime)
    return run_every("scheduler", poll_seconds, dispatcher.run_once, reminders.tick)
