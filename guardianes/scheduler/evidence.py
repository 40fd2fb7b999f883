"""The evidence deadline watch: flags discrepancies the authority left past their deadline.

Every `GUARDIANES_OVERDUE_CHECK_MINUTES` one pass sets `overdue_at` on unresolved
discrepancies whose `due_at` (creation + `GUARDIANES_DISCREPANCY_DEADLINE_DAYS`) has passed.
Flagging is idempotent and safe to run from several processes: a row already flagged is
not selected again. The escalation e-mail to the directorate's head is sent by the
evidence e-mail outbox, which reads the flag.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from guardianes.scheduler.periodic import Periodic, run_every
from guardianes.services import evidence
from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.types import utcnow

Clock = Callable[[], datetime]
SECONDS_PER_MINUTE = 60


async def flag_overdue_once(runtime: Runtime, *, now: datetime | None = None) -> list[int]:
    """One pass: flag every discrepancy now past its deadline; returns their ids."""
    async with unit_of_work(runtime.sessions) as session:
        return await evidence.mark_overdue(session, now=now or utcnow())


async def start_overdue_watch(runtime: Runtime, *, clock: Clock = utcnow) -> Periodic:
    """Flag overdue discrepancies now and then every interval, in the background."""

    async def flag() -> list[int]:
        return await flag_overdue_once(runtime, now=clock())

    interval = runtime.settings.overdue_check_minutes * SECONDS_PER_MINUTE
    return run_every("evidence overdue watch", interval, flag)
