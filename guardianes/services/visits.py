"""Visits of comptroller staff: a notice to the colonia's guardians and a day-before reminder."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.domain.enums import OutboxKind
from guardianes.services.broadcasts import create_broadcast
from guardianes.services.references import check_references
from guardianes.services.reminders import create_visit_reminder
from guardianes.storage.models import Broadcast, Reminder, Visit
from guardianes.storage.repositories import broadcasts as broadcasts_repo
from guardianes.storage.repositories import reminders as reminders_repo
from guardianes.storage.repositories.broadcasts import RecipientFilter
from guardianes.storage.types import utcnow

logger = logging.getLogger(__name__)

DEFAULT_REMINDER_HOUR = 18  # local time, the evening before: people plan their next day


class VisitNotFoundError(LookupError):
    """No visit with that id."""


@dataclass(frozen=True, slots=True)
class VisitCreated:
    """A new visit, its notice broadcast (with recipient count) and its reminder.

    `reminder` is None when the day-before hour had already passed at creation (a visit
    announced for today or tomorrow evening): only the notice goes out.
    """

    visit: Visit
    broadcast: Broadcast
    recipients: int
    reminder: Reminder | None

    @property
    def reminder_at(self) -> datetime | None:
        """When the day-before reminder fires (UTC), or None when there is none."""
        return self.reminder.next_run_at if self.reminder is not None else None


def as_aware(moment: datetime, timezone: ZoneInfo) -> datetime:
    """A naive time is local time in the programme's zone."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone)


async def create_visit(
    session: AsyncSession,
    *,
    colonia_id: int,
    place: str,
    starts_at: datetime,
    description: str,
    created_by: str | None,
    timezone: ZoneInfo,
    reminder_hour: int = DEFAULT_REMINDER_HOUR,
    now: datetime | None = None,
) -> VisitCreated:
    """Record a visit, announce it to the colonia's guardians and remind them the day before."""
    moment = now or utcnow()
    await check_references(session, colonia_id=colonia_id)
    visit = await broadcasts_repo.add_visit(
        session,
        Visit(
            colonia_id=colonia_id,
            place=place,
            starts_at=as_aware(starts_at, timezone),
            description=description,
            created_by=created_by,
        ),
    )
    broadcast, count = await create_broadcast(
        session,
        text=description or place,
        recipients=RecipientFilter(colonia_id=colonia_id),
        created_by=created_by,
        kind=OutboxKind.VISIT,
        visit_id=visit.id,
        now=moment,
    )
    reminder = await create_visit_reminder(
        session,
        visit_id=visit.id,
        colonia_id=colonia_id,
        starts_at=visit.starts_at,
        hour=reminder_hour,
        timezone=timezone,
        now=moment,
    )
    if reminder is None:
        logger.info("visit %s: the day-before reminder time has passed; notice only", visit.id)
    return VisitCreated(visit=visit, broadcast=broadcast, recipients=count, reminder=reminder)


async def cancel_visit(session: AsyncSession, visit_id: int, now: datetime | None = None) -> Visit:
    """Mark a visit cancelled and switch its reminder off (the notice already went out)."""
    visit = await broadcasts_repo.get_visit(session, visit_id)
    if visit is None:
        raise VisitNotFoundError(visit_id)
    if visit.cancelled_at is None:
        visit.cancelled_at = now or utcnow()
        for reminder in await reminders_repo.reminders_of_visit(session, visit_id):
            reminder.active = False
        await session.flush()
    return visit
