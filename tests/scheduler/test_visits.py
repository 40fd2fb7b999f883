"""Visits: a notice to the colonia's guardians now, a reminder the day before at a set hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from guardianes.domain.enums import GuardianRole, OutboxKind
from guardianes.domain.timezone import zone
from guardianes.locales import translator
from guardianes.scheduler.reminders import BroadcastDispatcher, ReminderScheduler
from guardianes.services import visits as visits_service
from guardianes.services.references import UnknownReferenceError
from guardianes.services.runtime import Runtime
from guardianes.services.visits import VisitCreated
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import BroadcastDelivery, Reminder
from tests.scheduler.conftest import (
    add_colonia,
    add_guardians,
    make_runtime,
    queued_messages,
    write_occurrences,
)

CHIHUAHUA = zone("America/Chihuahua")
SET_UP_AT = datetime(2026, 3, 1, 12, tzinfo=UTC)
VISIT_LOCAL = datetime(2026, 3, 12, 11, 0)  # naive: local time, as staff type it
REMINDER_AT = datetime(2026, 3, 12, 0, 0, tzinfo=UTC)  # 11 March 18:00 in Chihuahua (UTC-6)
PLACE = "Parque Central"
DESCRIPTION = "Revisión de luminarias"


async def _create_visit(
    runtime: Runtime,
    colonia_id: int,
    *,
    now: datetime = SET_UP_AT,
    starts_at: datetime = VISIT_LOCAL,
) -> VisitCreated:
    async with unit_of_work(runtime.sessions) as session:
        return await visits_service.create_visit(
            session,
            colonia_id=colonia_id,
            place=PLACE,
            starts_at=starts_at,
            description=DESCRIPTION,
            created_by="test",
            timezone=CHIHUAHUA,
            reminder_hour=18,
            now=now,
        )


async def _centro_and_neighbours(session_factory) -> tuple[int, list[int]]:
    """Centro with a Spanish lead and an English guardian; Cerro Grande with one guardian."""
    centro = await add_colonia(session_factory, "Centro")
    other = await add_colonia(session_factory, "Cerro Grande")
    people = await add_guardians(session_factory, 1, colonia_id=centro, role=GuardianRole.LEAD)
    people += await add_guardians(session_factory, 1, colonia_id=centro, locale="en", start=2)
    await add_guardians(session_factory, 1, colonia_id=other, start=3)
    return centro, people


def _tomorrow(locale: str) -> str:
    return translator(locale)(
        "reminders.visit_tomorrow",
        colonia="Centro",
        place=PLACE,
        when="12/03/2026 11:00",
        description=DESCRIPTION,
    )


async def test_a_visit_queues_a_notice_to_its_colonia_guardians_only(
    session_factory, tmp_path
) -> None:
    runtime = make_runtime(session_factory, tmp_path)
    centro, centro_people = await _centro_and_neighbours(session_factory)

    created = await _create_visit(runtime, centro)

    assert created.recipients == 2
    async with runtime.sessions() as session:
        result = await session.execute(
            select(BroadcastDelivery.guardian_id).where(
                BroadcastDelivery.broadcast_id == created.broadcast.id
            )
        )
        assert sorted(result.scalars()) == centro_people
    await BroadcastDispatcher(runtime).run_once()
    messages = await queued_messages(session_factory)
    assert [(m.guardian_id, m.kind, m.locale) for m in messages] == [
        (centro_people[0], OutboxKind.VISIT, "es"),
        (centro_people[1], OutboxKind.VISIT, "en"),
    ]
    assert messages[0].text.startswith("Aviso:")
    assert messages[1].text.startswith("Notice:")
    assert all("12/03/2026 11:00" in m.text and PLACE in m.text for m in messages)


async def test_a_visit_reminder_is_set_for_the_day_before_at_the_local_hour(
    session_factory, tmp_path
) -> None:
    runtime = make_runtime(session_factory, tmp_path)
    centro, _ = await _centro_and_neighbours(session_factory)

    created = await _create_visit(runtime, centro)

    assert created.visit.starts_at == datetime(2026, 3, 12, 17, tzinfo=UTC)  # naive = local
    assert created.reminder_at == REMINDER_AT
    assert created.reminder is not None


async def test_the_visit_reminder_fires_then_in_each_guardian_language(
    session_factory, tmp_path
) -> None:
    runtime = make_runtime(session_factory, tmp_path)
    centro, centro_people = await _centro_and_neighbours(session_factory)
    await _create_visit(runtime, centro)
    scheduler = ReminderScheduler(runtime)

    early = await scheduler.tick(REMINDER_AT - timedelta(seconds=1))
    on_time = await scheduler.tick(REMINDER_AT)
    later = await scheduler.tick(REMINDER_AT + timedelta(days=1))

    assert (early.sent, on_time.sent, later.sent) == (0, 2, 0)
    messages = await queued_messages(session_factory)  # the notice was not dispatched here
    assert [(m.guardian_id, m.kind, m.text) for m in messages] == [
        (centro_people[0], OutboxKind.VISIT, _tomorrow("es")),
        (centro_people[1], OutboxKind.VISIT, _tomorrow("en")),
    ]
    assert messages[0].text.startswith("Recordatorio: mañana")
    assert messages[1].text.startswith("Reminder: tomorrow")


async def test_a_cancelled_visit_sends_no_reminder(session_factory, tmp_path) -> None:
    runtime = make_runtime(session_factory, tmp_path)
    centro, _ = await _centro_and_neighbours(session_factory)
    created = await _create_visit(runtime, centro)

    async with unit_of_work(session_factory) as session:
        await visits_service.cancel_visit(session, created.visit.id, now=SET_UP_AT)
    report = await ReminderScheduler(runtime).tick(REMINDER_AT)

    assert report.sent == 0
    assert await queued_messages(session_factory) == []


async def test_a_visit_cancelled_after_its_reminder_was_written_sends_nothing(
    session_factory, tmp_path
) -> None:
    runtime = make_runtime(session_factory, tmp_path)
    centro, _ = await _centro_and_neighbours(session_factory)
    created = await _create_visit(runtime, centro)
    async with unit_of_work(session_factory) as session:
        # Another scheduler wrote the occurrences at 18:00 and has not queued them yet.
        await write_occurrences(session, REMINDER_AT)
        await visits_service.cancel_visit(session, created.visit.id, now=REMINDER_AT)

    report = await ReminderScheduler(runtime).tick(REMINDER_AT + timedelta(seconds=1))

    assert (report.sent, report.skipped) == (0, 2)
    assert await queued_messages(session_factory) == []


async def test_a_visit_whose_day_before_has_passed_gets_only_the_notice(
    session_factory, tmp_path
) -> None:
    runtime = make_runtime(session_factory, tmp_path)
    centro, _ = await _centro_and_neighbours(session_factory)
    announced_late = REMINDER_AT + timedelta(hours=2)  # 11 March, 20:00 local

    created = await _create_visit(runtime, centro, now=announced_late)

    assert created.reminder is None
    assert created.reminder_at is None
    assert created.recipients == 2  # the notice still goes out
    async with runtime.sessions() as session:
        assert (await session.execute(select(func.count(Reminder.id)))).scalar_one() == 0


async def test_a_visit_time_with_an_offset_is_kept_as_given(session_factory, tmp_path) -> None:
    runtime = make_runtime(session_factory, tmp_path)
    centro, _ = await _centro_and_neighbours(session_factory)

    created = await _create_visit(runtime, centro, starts_at=datetime(2026, 3, 12, 17, tzinfo=UTC))

    assert created.visit.starts_at == datetime(2026, 3, 12, 17, tzinfo=UTC)
    assert created.reminder_at == REMINDER_AT


async def test_a_visit_to_an_unknown_colonia_is_refused(session_factory, tmp_path) -> None:
    runtime = make_runtime(session_factory, tmp_path)

    with pytest.raises(UnknownReferenceError, match="unknown colonia 404"):
        await _create_visit(runtime, 404)
