"""Reminder schedules and their occurrences (one row per reminder, recipient and time)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.domain.enums import GuardianRole, GuardianStatus, OccurrenceStatus, ReminderKind
from guardianes.storage.models import Guardian, Reminder, ReminderOccurrence
from guardianes.storage.repositories._dialect import insert_for, is_postgres
from guardianes.storage.repositories.pagination import PageRows, paginate


@dataclass(frozen=True, slots=True)
class ClaimedOccurrence:
    """An occurrence this transaction moved PENDING > CLAIMED."""

    occurrence_id: int
    reminder_id: int
    guardian_id: int
    scheduled_for: datetime


# ---------------------------------------------------------------- schedules


async def add_reminder(session: AsyncSession, reminder: Reminder) -> Reminder:
    """Insert a reminder and assign its id."""
    session.add(reminder)
    await session.flush()
    return reminder


async def get_reminder(session: AsyncSession, reminder_id: int) -> Reminder | None:
    """One reminder."""
    return await session.get(Reminder, reminder_id)


async def delete_reminder(session: AsyncSession, reminder: Reminder) -> None:
    """Remove a reminder and its occurrences."""
    await session.delete(reminder)
    await session.flush()


async def list_reminders(
    session: AsyncSession,
    *,
    colonia_id: int | None,
    kind: str | None,
    limit: int,
    offset: int,
) -> PageRows[Reminder]:
    """Reminders by id."""
    statement = select(Reminder).order_by(Reminder.id)
    if colonia_id is not None:
        statement = statement.where(Reminder.colonia_id == colonia_id)
    if kind is not None:
        statement = statement.where(Reminder.kind == kind)
    return await paginate(session, statement, limit=limit, offset=offset)


async def reminders_of_visit(session: AsyncSession, visit_id: int) -> Sequence[Reminder]:
    """The reminders made for a visit."""
    result = await session.execute(select(Reminder).where(Reminder.visit_id == visit_id))
    return result.scalars().all()


async def due_reminders(session: AsyncSession, now: datetime, limit: int) -> Sequence[Reminder]:
    """Active reminders whose next run is due."""
    result = await session.execute(
        select(Reminder)
        .where(
            Reminder.active.is_(True),
            Reminder.next_run_at.is_not(None),
            Reminder.next_run_at <= now,
        )
        .order_by(Reminder.next_run_at, Reminder.id)
        .limit(limit)
    )
    return result.scalars().all()


async def advance_reminder(
    session: AsyncSession, reminder_id: int, *, expected: datetime, next_run_at: datetime | None
) -> bool:
    """Move `next_run_at` on, only if no other scheduler already did; True when this one did."""
    result = await session.execute(
        update(Reminder)
        .where(Reminder.id == reminder_id, Reminder.next_run_at == expected)
        .values(next_run_at=next_run_at)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def recipient_ids(session: AsyncSession, reminder: Reminder) -> list[int]:
    """Who gets a reminder: its guardian, else the colonia's leads (a visit: all its guardians)."""
    statement = select(Guardian.id).where(Guardian.status == GuardianStatus.ACTIVE)
    if reminder.guardian_id is not None:
        statement = statement.where(Guardian.id == reminder.guardian_id)
    elif reminder.colonia_id is not None:
        statement = statement.where(Guardian.colonia_id == reminder.colonia_id)
        if reminder.kind != ReminderKind.VISIT:
            statement = statement.where(Guardian.role == GuardianRole.LEAD)
    else:
        # A reminder with neither colonia nor guardian goes to every lead.
        statement = statement.where(Guardian.role == GuardianRole.LEAD)
    result = await session.execute(statement.order_by(Guardian.id))
    return list(result.scalars().all())


# ---------------------------------------------------------------- occurrences


async def add_occurrences(
    session: AsyncSession,
    *,
    reminder_id: int,
    guardian_ids: Sequence[int],
    scheduled_for: datetime,
    status: OccurrenceStatus,
    now: datetime,
) -> int:
    """Record one occurrence per recipient; an existing one is left alone (unique key)."""
    if not guardian_ids:
        return 0
    statement = (
        insert_for(session, ReminderOccurrence)
        .values(
            [
                {
                    "reminder_id": reminder_id,
                    "guardian_id": guardian_id,
                    "scheduled_for": scheduled_for,
                    "status": status.value,
                    "updated_at": now,
                }
                for guardian_id in guardian_ids
            ]
        )
        .on_conflict_do_nothing(index_elements=["reminder_id", "guardian_id", "scheduled_for"])
    )
    result = await session.execute(statement)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def skip_stale_occurrences(session: AsyncSession, older_than: datetime, now: datetime) -> int:
    """Mark PENDING occurrences scheduled before `older_than` SKIPPED; returns how many."""
    result = await session.execute(
        update(ReminderOccurrence)
        .where(
            ReminderOccurrence.status == OccurrenceStatus.PENDING,
            ReminderOccurrence.scheduled_for < older_than,
        )
        .values(status=OccurrenceStatus.SKIPPED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def claim_due_occurrences(
    session: AsyncSession, *, now: datetime, worker: str, limit: int
) -> list[ClaimedOccurrence]:
    """Move up to `limit` due PENDING occurrences to CLAIMED; no two schedulers get one twice.

    PostgreSQL: `FOR UPDATE SKIP LOCKED` hands concurrent schedulers different rows.
    SQLite (no row locks): the `status = 'pending'` condition and `rowcount` are the claim.
    """
    candidates = (
        select(ReminderOccurrence.id)
        .where(
            ReminderOccurrence.status == OccurrenceStatus.PENDING,
            ReminderOccurrence.scheduled_for <= now,
        )
        .order_by(ReminderOccurrence.scheduled_for, ReminderOccurrence.id)
        .limit(limit)
    )
    if is_postgres(session):
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list((await session.execute(candidates)).scalars().all())
    claimed: list[int] = []
    for occurrence_id in ids:
        result = await session.execute(
            update(ReminderOccurrence)
            .where(
                ReminderOccurrence.id == occurrence_id,
                ReminderOccurrence.status == OccurrenceStatus.PENDING,
            )
            .values(status=OccurrenceStatus.CLAIMED, claimed_by=worker, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(occurrence_id)
    if not claimed:
        return []
    rows = await session.execute(
        select(
            ReminderOccurrence.id,
            ReminderOccurrence.reminder_id,
            ReminderOccurrence.guardian_id,
            ReminderOccurrence.scheduled_for,
        )
        .where(ReminderOccurrence.id.in_(claimed))
        .order_by(ReminderOccurrence.id)
    )
    return [ClaimedOccurrence(r[0], r[1], r[2], r[3]) for r in rows.all()]


async def finish_occurrence(
    session: AsyncSession,
    occurrence_id: int,
    status: OccurrenceStatus,
    now: datetime,
    outbox_id: int | None = None,
) -> None:
    """Record the outcome of a claimed occurrence (SENT with its outbox row, or SKIPPED)."""
    await session.execute(
        update(ReminderOccurrence)
        .where(ReminderOccurrence.id == occurrence_id)
        .values(status=status, outbox_id=outbox_id, updated_at=now)
        .execution_options(synchronize_session=False)
    )


async def list_occurrences(
    session: AsyncSession, reminder_id: int, *, limit: int, offset: int
) -> PageRows[ReminderOccurrence]:
    """Occurrences of a reminder, newest first."""
    statement = (
        select(ReminderOccurrence)
        .where(ReminderOccurrence.reminder_id == reminder_id)
        .order_by(ReminderOccurrence.scheduled_for.desc(), ReminderOccurrence.id.desc())
    )
    return await paginate(session, statement, limit=limit, offset=offset)


async def reminders_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, Reminder]:
    """Reminders by id."""
    if not ids:
        return {}
    result = await session.execute(select(Reminder).where(Reminder.id.in_(set(ids))))
    return {r.id: r for r in result.scalars().all()}
