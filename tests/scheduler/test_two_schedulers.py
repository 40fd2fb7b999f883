"""Two service processes on one database: every reminder reaches each recipient exactly once.

Each scheduler has its own runtime, engine and worker id, as two processes would. The test
runs on PostgreSQL (`postgres_url` through the `database_url` parametrisation: under CI=true
an unreachable server fails the run instead of skipping it), where occurrences are claimed
with FOR UPDATE SKIP LOCKED, and on SQLite, where the conditional UPDATE is the claim.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from guardianes.domain.enums import GuardianRole, OccurrenceStatus
from guardianes.domain.timezone import zone
from guardianes.scheduler.reminders import ReminderScheduler
from guardianes.services import reminders as reminders_service
from guardianes.services.reminders import ReminderSpec
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import ReminderOccurrence
from tests.scheduler.conftest import add_colonia, add_guardians, make_runtime, queued_messages

SET_UP_AT = datetime(2026, 3, 1, 12, tzinfo=UTC)
MONDAY_10 = datetime(2026, 3, 2, 16, tzinfo=UTC)  # Monday 2 March 2026, 10:00 in Chihuahua
WEEKS = 6  # 2 March to 6 April: two first Mondays of the month
SMALL_BATCH = 2  # small claims make the two schedulers interleave


async def test_two_schedulers_send_each_reminder_once_per_recipient(
    session_factory, other_process_sessions, tmp_path
) -> None:
    centro = await add_colonia(session_factory, "Centro")
    norte = await add_colonia(session_factory, "Norte")
    centro_leads = await add_guardians(
        session_factory, 2, colonia_id=centro, role=GuardianRole.LEAD
    )
    centro_leads += await add_guardians(
        session_factory, 2, colonia_id=centro, role=GuardianRole.LEAD, locale="en", start=3
    )
    await add_guardians(session_factory, 2, colonia_id=centro, start=5)  # not leads
    norte_leads = await add_guardians(
        session_factory, 3, colonia_id=norte, role=GuardianRole.LEAD, start=7
    )
    async with unit_of_work(session_factory) as session:
        for spec in (
            ReminderSpec("weekly", {"day_of_week": "mon", "hour": 10}, colonia_id=centro),
            ReminderSpec("monthly", {"day": "1st mon", "hour": 10}, colonia_id=norte),
            ReminderSpec("own", {"day_of_week": "mon", "hour": 10}, guardian_id=centro_leads[0]),
        ):
            await reminders_service.create_reminder(
                session, spec, timezone=zone("America/Chihuahua"), now=SET_UP_AT
            )
    first = ReminderScheduler(
        make_runtime(session_factory, tmp_path), worker_id="worker-a", batch_size=SMALL_BATCH
    )
    second = ReminderScheduler(
        make_runtime(other_process_sessions, tmp_path),
        worker_id="worker-b",
        batch_size=SMALL_BATCH,
    )

    for week in range(WEEKS):
        monday = MONDAY_10 + timedelta(weeks=week)
        # Same instant, a clock two seconds apart, then both again twenty minutes later.
        await asyncio.gather(first.tick(monday), second.tick(monday))
        await asyncio.gather(first.tick(monday), second.tick(monday + timedelta(seconds=2)))
        await asyncio.gather(
            first.tick(monday + timedelta(minutes=20)), second.tick(monday + timedelta(minutes=20))
        )

    expected = Counter(dict.fromkeys(centro_leads, WEEKS))
    expected[centro_leads[0]] += WEEKS  # the per-guardian reminder
    expected.update(dict.fromkeys(norte_leads, 2))  # 2 March and 6 April
    messages = await queued_messages(session_factory)
    assert Counter(m.guardian_id for m in messages) == expected
    async with session_factory() as session:
        occurrences = (
            await session.execute(
                select(
                    ReminderOccurrence.status,
                    func.count(ReminderOccurrence.id),
                    func.count(func.distinct(ReminderOccurrence.outbox_id)),
                ).group_by(ReminderOccurrence.status)
            )
        ).all()
        workers = set(
            (await session.execute(select(ReminderOccurrence.claimed_by).distinct())).scalars()
        )
    total = sum(expected.values())
    assert [tuple(row) for row in occurrences] == [(OccurrenceStatus.SENT, total, total)]
    assert workers <= {"worker-a", "worker-b"}
