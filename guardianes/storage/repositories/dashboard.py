"""Counts the staff dashboard's overview shows (the lists come from the other repositories)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.domain.enums import DiscrepancyStatus, GuardianStatus
from guardianes.storage.models import Guardian, Reminder, Submission, Visit
from guardianes.storage.models_evidence import Discrepancy

UNRESOLVED = (
    DiscrepancyStatus.OPEN,
    DiscrepancyStatus.NOTIFIED,
    DiscrepancyStatus.ACKNOWLEDGED,
)


async def cards_since(session: AsyncSession, since: datetime) -> int:
    """Cards completed at or after `since`."""
    statement = select(func.count(Submission.id)).where(Submission.completed_at >= since)
    return int((await session.execute(statement)).scalar_one())


async def active_guardians(session: AsyncSession) -> int:
    """Guardians who may take part (not deactivated, blocked or unreachable)."""
    statement = select(func.count(Guardian.id)).where(Guardian.status == GuardianStatus.ACTIVE)
    return int((await session.execute(statement)).scalar_one())


async def unresolved_by_strength(session: AsyncSession) -> dict[str, int]:
    """Discrepancies not yet resolved or dismissed, per strength of their evidence."""
    statement = (
        select(Discrepancy.strength, func.count(Discrepancy.id))
        .where(Discrepancy.status.in_(UNRESOLVED))
        .group_by(Discrepancy.strength)
    )
    return {str(k): int(v) for k, v in (await session.execute(statement)).all()}


async def reminders_due(session: AsyncSession, until: datetime, limit: int) -> Sequence[Reminder]:
    """Active reminders whose next run falls before `until`, soonest first."""
    statement = (
        select(Reminder)
        .where(Reminder.active.is_(True), Reminder.next_run_at.is_not(None))
        .where(Reminder.next_run_at <= until)
        .order_by(Reminder.next_run_at, Reminder.id)
        .limit(limit)
    )
    return (await session.execute(statement)).scalars().all()


async def visits_between(session: AsyncSession, start: datetime, end: datetime) -> Sequence[Visit]:
    """Visits not cancelled starting in [start, end), in time order."""
    statement = (
        select(Visit)
        .where(Visit.cancelled_at.is_(None), Visit.starts_at >= start, Visit.starts_at < end)
        .order_by(Visit.starts_at, Visit.id)
    )
    return (await session.execute(statement)).scalars().all()
