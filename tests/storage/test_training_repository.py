"""Course progress and the course-idle audience, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.domain.enums import GuardianStatus, OccurrenceStatus
from guardianes.storage.models import Colonia, Guardian, Reminder, ReminderOccurrence
from guardianes.storage.repositories import training as repo

NOW = datetime(2026, 11, 28, 18, tzinfo=UTC)
DAY = timedelta(days=1)


async def _guardian(session: AsyncSession, name: str, colonia_id: int | None = None) -> int:
    guardian = Guardian(
        channel="webchat",
        channel_user_id=name,
        address=name,
        display_name=name,
        colonia_id=colonia_id,
        consent_at=NOW,
        privacy_notice_version="t",
    )
    session.add(guardian)
    await session.flush()
    return guardian.id


async def _progress(
    session: AsyncSession, guardian_id: int, at: datetime, *, completed: bool = False
) -> None:
    await repo.save_progress(
        session,
        guardian_id=guardian_id,
        course_id="chihuahua",
        lesson_id="como-compra",
        lessons_done=("sindicatura",),
        completed=completed,
        at=at,
    )


async def test_progress_moves_and_a_finished_course_stays_finished(session: AsyncSession):
    ana = await _guardian(session, "ana")
    await _progress(session, ana, NOW - 2 * DAY)
    await _progress(session, ana, NOW - DAY, completed=True)
    await _progress(session, ana, NOW)  # reviewing later
    row = await repo.get_progress(session, ana, "chihuahua")
    assert row is not None
    assert (row.lesson_id, row.completed_at, row.last_activity_at) == (None, NOW - DAY, NOW)
    assert row.started_at == NOW - 2 * DAY


async def test_the_idle_audience_is_unfinished_courses_left_alone_long_enough(
    session: AsyncSession,
):
    centro = Colonia(name="Centro", normalized_name="centro")
    session.add(centro)
    await session.flush()
    idle = await _guardian(session, "idle", centro.id)
    recent = await _guardian(session, "recent", centro.id)
    done = await _guardian(session, "done", centro.id)
    elsewhere = await _guardian(session, "elsewhere")
    blocked = await _guardian(session, "blocked", centro.id)
    nudged = await _guardian(session, "nudged", centro.id)
    for person in (idle, elsewhere, blocked, nudged):
        await _progress(session, person, NOW - 5 * DAY)
    await _progress(session, recent, NOW - DAY)
    await _progress(session, done, NOW - 5 * DAY, completed=True)
    blocked_row = await session.get(Guardian, blocked)
    assert blocked_row is not None
    blocked_row.status = GuardianStatus.BLOCKED
    reminder = Reminder(name="curso", cron={"hour": 18}, message_key="reminders.course_idle")
    session.add(reminder)
    await session.flush()
    session.add(
        ReminderOccurrence(
            reminder_id=reminder.id,
            guardian_id=nudged,
            scheduled_for=NOW - 2 * DAY,
            status=OccurrenceStatus.SENT,
        )
    )
    await session.flush()
    everyone = await repo.idle_course_guardians(
        session,
        reminder_id=reminder.id,
        colonia_id=None,
        guardian_id=None,
        idle_before=NOW - 3 * DAY,
    )
    in_centro = await repo.idle_course_guardians(
        session,
        reminder_id=reminder.id,
        colonia_id=centro.id,
        guardian_id=None,
        idle_before=NOW - 3 * DAY,
    )
    assert sorted(everyone) == sorted([idle, elsewhere])
    assert in_centro == [idle]
