"""The staff dashboard's overview and visits calendar (repositories shared with the API)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.domain.dates import month_of
from guardianes.domain.enums import EvidenceStrength
from guardianes.domain.timezone import local_midnight
from guardianes.services import broadcasts
from guardianes.services.broadcasts import BroadcastProgress
from guardianes.storage.models import Reminder, Visit
from guardianes.storage.repositories import dashboard as repo

REMINDERS_AHEAD = timedelta(days=7)
MAX_REMINDERS = 20


@dataclass(frozen=True, slots=True)
class Overview:
    """The programme at a glance."""

    cards_this_week: int
    cards_this_month: int
    active_guardians: int
    unresolved_by_strength: dict[str, int]
    broadcasts_in_progress: list[BroadcastProgress]
    reminders_due: Sequence[Reminder]

    @property
    def unresolved_total(self) -> int:
        """Every unresolved discrepancy."""
        return sum(self.unresolved_by_strength.values())


def week_start(today: date) -> date:
    """The Monday of `today`'s ISO week."""
    return today - timedelta(days=today.weekday())


async def overview(session: AsyncSession, *, now: datetime, timezone: ZoneInfo) -> Overview:
    """Cards this (local) week and month, guardians, discrepancies, sending, reminders."""
    today = now.astimezone(timezone).date()
    week = local_midnight(week_start(today), timezone)
    month = local_midnight(month_of(today)[0], timezone)
    strengths = await repo.unresolved_by_strength(session)
    in_progress = [
        await broadcasts.progress(session, broadcast_id)
        for broadcast_id in await broadcasts.unfinished_broadcasts(session)
    ]
    return Overview(
        cards_this_week=await repo.cards_since(session, week),
        cards_this_month=await repo.cards_since(session, month),
        active_guardians=await repo.active_guardians(session),
        unresolved_by_strength={s.value: strengths.get(s.value, 0) for s in EvidenceStrength},
        broadcasts_in_progress=in_progress,
        reminders_due=await repo.reminders_due(session, now + REMINDERS_AHEAD, MAX_REMINDERS),
    )


@dataclass(frozen=True, slots=True)
class CalendarDay:
    """One day of the visits calendar."""

    day: date
    visits: list[Visit]
    in_month: bool


async def visits_calendar(
    session: AsyncSession, *, month: date, timezone: ZoneInfo
) -> list[list[CalendarDay]]:
    """The weeks (Monday first) covering `month`, each day with its visits."""
    first, last = month_of(month)
    start = week_start(first)
    end = last + timedelta(days=6 - last.weekday())
    visits = await repo.visits_between(
        session,
        local_midnight(start, timezone),
        local_midnight(end + timedelta(days=1), timezone),
    )
    by_day: dict[date, list[Visit]] = {}
    for visit in visits:
        by_day.setdefault(visit.starts_at.astimezone(timezone).date(), []).append(visit)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    cells = [CalendarDay(d, by_day.get(d, []), d.month == month.month) for d in days]
    return [cells[i : i + 7] for i in range(0, len(cells), 7)]
