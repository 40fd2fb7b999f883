"""Reminders to lead guardians: right local time, right people, their language, once only.

Every test moves a clock (`ReminderScheduler.tick(now)`); nothing waits for real time.
America/Chihuahua is UTC-6 all year (no DST since 2022), so 10:00 there is 16:00 UTC.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from guardianes.domain.enums import GuardianRole, OccurrenceStatus, OutboxKind
from guardianes.domain.timezone import zone
from guardianes.locales import translator
from guardianes.scheduler.reminders import ReminderScheduler, start_reminder_scheduler
from guardianes.services import reminders as reminders_service
from guardianes.services.reminders import InvalidScheduleError, ReminderSpec
from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Reminder, ReminderOccurrence
from tests.scheduler.conftest import (
    add_colonia,
    add_guardians,
    make_runtime,
    make_runtime_in_zone,
    queued_messages,
    write_occurrences,
)

CHIHUAHUA = zone("America/Chihuahua")
SET_UP_AT = datetime(2026, 3, 1, 12, tzinfo=UTC)  # a Sunday: staff create the reminders
MONDAY_10 = datetime(2026, 3, 2, 16, tzinfo=UTC)  # Monday 2 March 2026, 10:00 in Chihuahua
WEEK = timedelta(days=7)
EVERY_MONDAY_10 = {"day_of_week": "mon", "hour": 10, "minute": 0}


async def _create(runtime: Runtime, spec: ReminderSpec, now: datetime = SET_UP_AT) -> Reminder:
    async with unit_of_work(runtime.sessions) as session:
        return await reminders_service.create_reminder(
            session, spec, timezone=zone(runtime.settings.timezone), now=now
        )


async def _occurrence_statuses(runtime: Runtime) -> list[str]:
    async with runtime.sessions() as session:
        result = await session.execute(
            select(ReminderOccurrence.status).order_by(ReminderOccurrence.id)
        )
        return list(result.scalars())


async def _centro_with_leads(session_factory) -> tuple[int, list[int]]:
    """Centro with a Spanish and an English lead, a plain guardian; a lead elsewhere."""
    centro = await add_colonia(session_factory, "Centro")
    other = await add_colonia(session_factory, "Cerro Grande")
    leads = await add_guardians(session_factory, 1, colonia_id=centro, role=GuardianRole.LEAD)
    leads += await add_guardians(
        session_factory, 1, colonia_id=centro, role=GuardianRole.LEAD, locale="en", start=2
    )
    await add_guardians(session_factory, 1, colonia_id=centro, start=3)
    await add_guardians(session_factory, 1, colonia_id=other, role=GuardianRole.LEAD, start=4)
    return centro, leads


# ---------------------------------------------------------------- when and to whom


async def test_weekly_reminder_is_due_at_ten_local_time(session_factory, tmp_path) -> None:
    runtime = make_runtime(session_factory, tmp_path)
    centro, _ = await _centro_with_leads(session_factory)

    reminder = await _create(runtime, ReminderSpec("cards", EVERY_MONDAY_10, colonia_id=centro))

    assert reminder.next_run_at == MONDAY_10
    assert reminder.next_run_at.astimezone(CHIHUAHUA).hour == 10


async def test_nothing_fires_before_the_time(session_factory, tmp_path) -> None:
    runtime = make_runtime(session_factory, tmp_path)
    centro, _ = await _centro_with_leads(session_factory)
    await _create(runtime, ReminderSpec("cards", EVERY_MONDAY_10, colonia_id=centro))

    report = await ReminderScheduler(runtime).tick(MONDAY_10 - timedelta(seconds=1))

    assert report.sent == 0
    assert await queued_messages(session_factory) == []


async def test_weekly_reminder_reaches_each_lead_once_in_their_language(
    session_factory, tmp_path
) -> None:
    runtime = make_runtime(session_factory, tmp_path)
    centro, (spanish_lead, english_lead) = await _centro_with_leads(session_factory)
    await _create(runtime, ReminderSpec("cards", EVERY_MONDAY_10, colonia_id=centro))

    report = await ReminderScheduler(runtime).tick(MONDAY_10)

    messages = await queued_messages(session_factory)
    assert report.sent == 2
    assert [(m.guardian_id, m.kind, m.locale) for m in messages] == [
        (spanish_lead, OutboxKind.REMINDER, "es"),
        (english_lead, OutboxKind.REMINDER, "en"),
    ]
    assert messages[0].text == translator("es")(
        "reminders.fill_card", name="Guardian 1", colonia="Centro"
    )
    assert messages[0].text.startswith("Hola Guardian 1")
    assert messages[1].text.startswith("Hi Guardian 2")
    assert "Centro" in messages[1].text


async def test_per_guardian_reminder_reaches_only_that_guardian(session_factory, tmp_path) -> None:
    runtime = make_runtime(session_factory, tmp_path)
    _, (_, english_lead) = await _centro_with_leads(session_factory)
    await _create(runtime, ReminderSpec("mine", EVERY_MONDAY_10, guardian_id=english_lead))

    await ReminderScheduler(runtime).tick(MONDAY_10)

    messages = await queued_messages(session_factory)
    assert [(m.guardian_id, m.locale) for m in messages] == [(english_lead, "en")]
    assert "Centro" in messages[0].text  # the guardian's own colonia


async def test_staff_text_is_sent_as_written(session_factory, tmp_path) -> None:
    runtime = make_runtime(session_factory, tmp_path)
    centro, _ = await _centro_with_leads(session_factory)
    spec = ReminderSpec("cards", EVERY_MONDAY_10, colonia_id=centro, text="Junta el jueves")
    await _create(runtime, spec)

    await ReminderScheduler(runtime).tick(MONDAY_10)

    assert {m.text for m in await queued_messages(session_factory)} == {"Junta el jueves"}


async def test_first_monday_of_the_month_fires_on_the_right_dates(
    session_factory, tmp_path
) -> None:
    runtime = make_runtime(session_factory, tmp_path)
    centro, _ = await _centro_with_leads(session_factory)
    cron = {"day": "1st mon", "hour": 10}
    await _create(runtime, ReminderSpec("monthly", cron, colonia_id=centro))
    scheduler = ReminderScheduler(runtime)

    fired: list[datetime] = []
    for week in range(18):  # every Monday 10:00 from 2 March to 29 June 2026
        monday = MONDAY_10 + week * WEEK
        if (await scheduler.tick(monday)).sent:
            fired.append(monday)

    assert [moment.date().isoformat() for moment in fired] == [
        "2026-03-02",
        "2026-04-06",
        "2026-05-04",
        "2026-06-01",
    ]
    assert len(await queued_messages(session_factory)) == 2 * len(fired)  # two leads
    # Once at 10:00, not again every minute until 11:00 (those would show up as skipped).
    assert set(await _occurrence_statuses(runtime)) == {OccurrenceStatus.SENT}


async def test_local_hour_stays_ten_across_a_dst_change(session_factory, tmp_path) -> None:
    # Ciudad Juárez (also in Chihuahua state) keeps US daylight saving: from Sunday
    # 8 March 2026 it is UTC-6 instead of UTC-7, so 10:00 local moves from 17:00 to 16:00 UTC.
    runtime = make_runtime_in_zone(session_factory, tmp_path, "America/Ciudad_Juarez")
    juarez = zone("America/Ciudad_Juarez")
    centro, _ = await _centro_with_leads(session_factory)
    await _create(runtime, ReminderSpec("cards", EVERY_MONDAY_10, colonia_id=centro))
    scheduler = ReminderScheduler(runtime)
    before_dst = datetime(2026, 3, 2, 17, tzinfo=UTC)
    after_dst = datetime(2026, 3, 9, 16, tzinfo=UTC)

    assert (await scheduler.tick(before_dst - timedelta(seconds=1))).sent == 0
    assert (await scheduler.tick(before_dst)).sent == 2
    assert (await scheduler.tick(after_dst - timedelta(seconds=1))).sent == 0
    assert (await scheduler.tick(after_dst)).sent == 2

    async with runtime.sessions() as session:
        times = (await session.execute(select(ReminderOccurrence.scheduled_for))).scalars()
        local_hours = {moment.astimezone(juarez).hour for moment in times}
    assert local_hours == {10}


async def test_chihuahua_keeps_ten_local_when_the_us_changes_clocks(
    session_factory, tmp_path
) -> None:
    runtime = make_runtime(session_factory, tmp_path)
    centro, _ = await _centro_with_leads(session_factory)
    await _create(runtime, ReminderSpec("cards", EVERY_MONDAY_10, colonia_id=centro))
    scheduler = ReminderScheduler(runtime)

    assert (await scheduler.tick(MONDAY_10)).sent == 2
    assert (await scheduler.tick(MONDAY_10 + WEEK)).sent == 2  # still 16:00 UTC on 9 March


# ---------------------------------------------------------------- restarts and the grace time


async def test_a_new_scheduler_on_the_same_database_continues(
    session_factory, other_process_sessions, tmp_path
) -> None:
    first = make_runtime(session_factory, tmp_path)
    centro, _ = await _centro_with_leads(session_factory)
    await _create(first, ReminderSpec("cards", EVERY_MONDAY_10, colonia_id=centro))
    assert (await ReminderScheduler(first, worker_id="before").tick(MONDAY_10)).sent == 2

    restarted = ReminderScheduler(make_runtime(other_process_sessions, tmp_path), worker_id="after")

    assert (await restarted.tick(MONDAY_10 + timedelta(minutes=5))).sent == 0
    assert (await restarted.tick(MONDAY_10 + WEEK)).sent == 2
    assert len(await queued_messages(session_factory)) == 4


async def test_a_run_missed_within_the_grace_time_is_sent_once_on_restart(
    session_factory, other_process_sessions, tmp_path
) -> None:
    centro, _ = await _centro_with_leads(session_factory)
    spec = ReminderSpec("cards", EVERY_MONDAY_10, colonia_id=centro)
    await _create(make_runtime(session_factory, tmp_path), spec)
    # The process was down at 10:00 and comes back at 10:30 (grace time: one hour).
    restarted = ReminderScheduler(make_runtime(other_process_sessions, tmp_path))

    first = await restarted.tick(MONDAY_10 + timedelta(minutes=30))
    again = await restarted.tick(MONDAY_10 + timedelta(minutes=45))

    assert (first.sent, again.sent) == (2, 0)
    assert len(await queued_messages(session_factory)) == 2


async def test_a_run_missed_beyond_the_grace_time_is_skipped_and_logged(
    session_factory, other_process_sessions, tmp_path, caplog
) -> None:
    centro, _ = await _centro_with_leads(session_factory)
    spec = ReminderSpec("cards", EVERY_MONDAY_10, colonia_id=centro)
    reminder = await _create(make_runtime(session_factory, tmp_path), spec)
    restarted = ReminderScheduler(make_runtime(other_process_sessions, tmp_path))

    with caplog.at_level(logging.WARNING, logger="guardianes.services.reminders"):
        report = await restarted.tick(MONDAY_10 + timedelta(hours=2))

    assert (report.sent, report.skipped) == (0, 2)
    assert await queued_messages(session_factory) == []
    assert await _occurrence_statuses(restarted.runtime) == [OccurrenceStatus.SKIPPED] * 2
    assert f"reminder {reminder.id} missed its run of 2026-03-02T16:00:00+00:00" in caplog.text
    # The schedule itself goes on: next Monday is sent as usual.
    assert (await restarted.tick(MONDAY_10 + WEEK)).sent == 2


async def test_occurrences_written_before_a_crash_are_skipped_after_the_grace_time(
    session_factory, other_process_sessions, tmp_path, caplog
) -> None:
    runtime = make_runtime(session_factory, tmp_path)
    centro, _ = await _centro_with_leads(session_factory)
    await _create(runtime, ReminderSpec("cards", EVERY_MONDAY_10, colonia_id=centro))
    # The process wrote the occurrences at 10:00, then died before queueing them.
    async with unit_of_work(session_factory) as session:
        await write_occurrences(session, MONDAY_10)
    restarted = ReminderScheduler(make_runtime(other_process_sessions, tmp_path))

    with caplog.at_level(logging.WARNING, logger="guardianes.services.reminders"):
        report = await restarted.tick(MONDAY_10 + timedelta(hours=3))

    assert (report.sent, report.skipped) == (0, 2)
    assert await queued_messages(session_factory) == []
    assert "older than the grace time" in caplog.text


async def test_occurrences_written_before_a_crash_are_sent_within_the_grace_time(
    session_factory, other_process_sessions, tmp_path
) -> None:
    runtime = make_runtime(session_factory, tmp_path)
    centro, _ = await _centro_with_leads(session_factory)
    await _create(runtime, ReminderSpec("cards", EVERY_MONDAY_10, colonia_id=centro))
    async with unit_of_work(session_factory) as session:
        await write_occurrences(session, MONDAY_10)
    restarted = ReminderScheduler(make_runtime(other_process_sessions, tmp_path))

    assert (await restarted.tick(MONDAY_10 + timedelta(minutes=10))).sent == 2
    assert await _occurrence_statuses(restarted.runtime) == [OccurrenceStatus.SENT] * 2


# ---------------------------------------------------------------- never twice


async def test_ticking_twice_at_the_same_instant_sends_once(session_factory, tmp_path) -> None:
    runtime = make_runtime(session_factory, tmp_path)
    centro, _ = await _centro_with_leads(session_factory)
    await _create(runtime, ReminderSpec("cards", EVERY_MONDAY_10, colonia_id=centro))
    scheduler = ReminderScheduler(runtime)

    await scheduler.tick(MONDAY_10)
    await scheduler.tick(MONDAY_10)

    assert len(await queued_messages(session_factory)) == 2


async def test_the_occurrence_key_refuses_a_second_send_of_the_same_run(
    session_factory, tmp_path
) -> None:
    runtime = make_runtime(session_factory, tmp_path)
    centro, _ = await _centro_with_leads(session_factory)
    reminder = await _create(runtime, ReminderSpec("c", EVERY_MONDAY_10, colonia_id=centro))
    scheduler = ReminderScheduler(runtime)
    await scheduler.tick(MONDAY_10)
    # A scheduler that read the reminder before it moved on would see the same run again.
    async with unit_of_work(session_factory) as session:
        await session.execute(
            update(Reminder).where(Reminder.id == reminder.id).values(next_run_at=MONDAY_10)
        )

    report = await scheduler.tick(MONDAY_10)

    assert (report.scheduled, report.sent) == (0, 0)
    assert len(await queued_messages(session_factory)) == 2


# ---------------------------------------------------------------- bad input never breaks the loop


@pytest.mark.parametrize(
    "cron",
    [
        {"dow": "mon", "hour": 10},  # unknown field
        {"day_of_week": "mon", "hour": 25},  # out of range
        {"day_of_week": "funday", "hour": 10},  # not a weekday
        {"day": "1st mon", "hour": "ten"},  # not an expression
        {"day_of_week": "mon", "hour": None},  # CronTrigger would quietly read midnight
        {"hour": [10]},  # not a cron value
        {},  # no schedule at all
    ],
    ids=["unknown-field", "range", "weekday", "expression", "none", "list", "empty"],
)
def test_invalid_schedules_are_refused(cron: dict[str, Any]) -> None:
    with pytest.raises(InvalidScheduleError):
        reminders_service.build_trigger(cron, CHIHUAHUA)


def test_an_hour_alone_means_on_the_hour_not_every_minute() -> None:
    trigger = reminders_service.build_trigger({"day_of_week": "mon", "hour": 10}, CHIHUAHUA)

    first = trigger.get_next_fire_time(None, SET_UP_AT)
    second = trigger.get_next_fire_time(first, first)

    assert first == MONDAY_10
    assert second == MONDAY_10 + WEEK


async def test_creating_a_reminder_with_a_bad_schedule_is_refused(
    session_factory, tmp_path
) -> None:
    runtime = make_runtime(session_factory, tmp_path)

    with pytest.raises(InvalidScheduleError, match="unknown cron fields: dow"):
        await _create(runtime, ReminderSpec("bad", {"dow": "mon"}))
    with pytest.raises(InvalidScheduleError, match="unknown message key"):
        await _create(runtime, ReminderSpec("bad", EVERY_MONDAY_10, message_key="no.such"))


async def test_a_stored_bad_schedule_is_switched_off_and_others_still_fire(
    session_factory, tmp_path, caplog
) -> None:
    runtime = make_runtime(session_factory, tmp_path)
    centro, _ = await _centro_with_leads(session_factory)
    async with unit_of_work(session_factory) as session:
        # Written around the service (a hand edit): the loop must survive it.
        session.add(
            Reminder(name="broken", colonia_id=centro, cron={"hour": 99}, next_run_at=SET_UP_AT)
        )
    await _create(runtime, ReminderSpec("cards", EVERY_MONDAY_10, colonia_id=centro))

    with caplog.at_level(logging.ERROR, logger="guardianes.services.reminders"):
        report = await ReminderScheduler(runtime).tick(MONDAY_10)

    assert report.sent == 2
    assert "bad schedule" in caplog.text
    async with runtime.sessions() as session:
        broken = (await session.execute(select(Reminder).where(Reminder.name == "broken"))).one()
    assert broken[0].active is False


async def test_a_colonia_without_lead_gets_nothing_and_nothing_breaks(
    session_factory, tmp_path
) -> None:
    runtime = make_runtime(session_factory, tmp_path)
    empty = await add_colonia(session_factory, "Sin Líder")
    await add_guardians(session_factory, 2, colonia_id=empty)  # guardians, but no lead
    await _create(runtime, ReminderSpec("cards", EVERY_MONDAY_10, colonia_id=empty))
    scheduler = ReminderScheduler(runtime)

    report = await scheduler.tick(MONDAY_10)

    assert (report.scheduled, report.sent) == (0, 0)
    assert await queued_messages(session_factory) == []
    async with runtime.sessions() as session:
        next_run = (await session.execute(select(Reminder.next_run_at))).scalar_one()
    assert next_run == MONDAY_10 + WEEK  # the schedule still moved on


async def test_a_deactivated_lead_gets_nothing(session_factory, tmp_path) -> None:
    runtime = make_runtime(session_factory, tmp_path)
    centro = await add_colonia(session_factory, "Centro")
    await add_guardians(
        session_factory, 1, colonia_id=centro, role=GuardianRole.LEAD, status="deactivated"
    )
    await _create(runtime, ReminderSpec("cards", EVERY_MONDAY_10, colonia_id=centro))

    assert (await ReminderScheduler(runtime).tick(MONDAY_10)).sent == 0


# ---------------------------------------------------------------- the loop of the service


async def test_the_service_loop_ticks_on_its_clock_and_stops(session_factory, tmp_path) -> None:
    runtime = make_runtime(session_factory, tmp_path)
    centro, _ = await _centro_with_leads(session_factory)
    await _create(runtime, ReminderSpec("cards", EVERY_MONDAY_10, colonia_id=centro))

    handle = await start_reminder_scheduler(runtime, clock=lambda: MONDAY_10, poll_seconds=60)
    try:
        # The first pass runs at once; queueing reminders wakes the outbox sender.
        await asyncio.wait_for(runtime.outbox_wakeup.wait(), timeout=10)
    finally:
        await handle.stop()

    assert handle.task is None
    assert len(await queued_messages(session_factory)) == 2
    await handle.stop()  # stopping twice is harmless
