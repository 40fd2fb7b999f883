"""Reminders: schedules kept in our tables, fire times computed by APScheduler's CronTrigger.

APScheduler only does arithmetic here (no job store: 3.x job stores must not be shared
between processes). Each fire time becomes one occurrence row per recipient, unique on
(reminder, guardian, time), so no scheduler can send one twice. Lifecycle of an
occurrence: PENDING > CLAIMED > SENT (claim, outbox row and SENT commit together), or
PENDING > SKIPPED when it is older than the grace time (the process was down too long).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.conversations.messages import text_prompt
from guardianes.domain.enums import GuardianStatus, OccurrenceStatus, OutboxKind, ReminderKind
from guardianes.locales import DEFAULT_LOCALE, load_messages, translator
from guardianes.services.broadcasts import format_local
from guardianes.services.outbox import enqueue_to_guardian
from guardianes.services.references import check_references
from guardianes.services.training import COURSE_IDLE_MESSAGE_KEY, course_idle_recipients
from guardianes.storage.models import Guardian, Reminder
from guardianes.storage.repositories import broadcasts as broadcasts_repo
from guardianes.storage.repositories import reminders as repo
from guardianes.storage.repositories.places import get_colonia

logger = logging.getLogger(__name__)

CRON_FIELDS = frozenset({"year", "month", "day", "week", "day_of_week", "hour", "minute", "second"})
MESSAGE_KEY_PREFIX = "reminders."
DEFAULT_MESSAGE_KEY = "reminders.fill_card"
VISIT_MESSAGE_KEY = "reminders.visit_tomorrow"
MAX_CATCH_UP = 100  # fire times examined per reminder per pass (a long outage stays bounded)
DUE_REMINDERS_PER_PASS = 200


class InvalidScheduleError(ValueError):
    """The cron fields are not a schedule CronTrigger understands (or the message is unknown)."""


def build_trigger(cron: dict[str, Any], timezone: ZoneInfo) -> CronTrigger:
    """A CronTrigger in the programme's time zone from stored fields, e.g. `day="1st mon"`."""
    if not isinstance(cron, dict):
        # A JSON column can hold anything a migration or a hand edit put there.
        raise InvalidScheduleError("a schedule is a mapping of cron fields")
    unknown = set(cron) - CRON_FIELDS
    if unknown:
        raise InvalidScheduleError(f"unknown cron fields: {', '.join(sorted(unknown))}")
    if not cron:
        raise InvalidScheduleError("a schedule needs at least one cron field")
    for name, value in cron.items():
        # CronTrigger silently drops None (a different schedule than staff wrote) and
        # accepts odd types it later misreads; only integers and cron expressions are valid.
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise InvalidScheduleError(f"cron field {name} must be an integer or an expression")
    try:
        # No default for `second`: CronTrigger gives the fields below the least significant
        # one given their minimum ({"hour": 10} is 10:00:00), but only when nothing below is
        # set, so adding second=0 would turn {"hour": 10} into every minute from 10:00.
        return CronTrigger(timezone=timezone, **cron)
    except (ValueError, TypeError) as error:
        raise InvalidScheduleError(str(error)) from error


def first_fire_time(cron: dict[str, Any], timezone: ZoneInfo, now: datetime) -> datetime | None:
    """The first fire time at or after `now`, in UTC (None when the schedule has ended)."""
    fire = build_trigger(cron, timezone).get_next_fire_time(None, now)
    return _utc(fire)


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


def check_message_key(key: str) -> None:
    """Refuse a key that is not a reminder text of the catalogs (guardians would get the key)."""
    messages = load_messages(DEFAULT_LOCALE)
    if not key.startswith(MESSAGE_KEY_PREFIX) or key not in messages:
        known = sorted(k for k in messages if k.startswith(MESSAGE_KEY_PREFIX))
        raise InvalidScheduleError(f"unknown message key: {key}; one of {', '.join(known)}")


@dataclass(frozen=True, slots=True)
class ReminderSpec:
    """What staff give to make or change a reminder."""

    name: str
    cron: dict[str, Any]
    colonia_id: int | None = None
    guardian_id: int | None = None
    message_key: str = DEFAULT_MESSAGE_KEY
    text: str | None = None
    active: bool = True


async def create_reminder(
    session: AsyncSession, spec: ReminderSpec, *, timezone: ZoneInfo, now: datetime
) -> Reminder:
    """Store a cron reminder with its first fire time."""
    check_message_key(spec.message_key)
    await check_references(session, colonia_id=spec.colonia_id, guardian_id=spec.guardian_id)
    next_run = first_fire_time(spec.cron, timezone, now)
    return await repo.add_reminder(
        session,
        Reminder(
            kind=ReminderKind.CRON,
            name=spec.name,
            colonia_id=spec.colonia_id,
            guardian_id=spec.guardian_id,
            cron=dict(spec.cron),
            message_key=spec.message_key,
            text=spec.text,
            active=spec.active,
            next_run_at=next_run,
        ),
    )


async def update_reminder(
    session: AsyncSession,
    reminder: Reminder,
    changes: dict[str, Any],
    *,
    timezone: ZoneInfo,
    now: datetime,
) -> Reminder:
    """Apply staff changes; a new schedule or reactivation recomputes the next fire time."""
    if "cron" in changes:
        build_trigger(changes["cron"], timezone)  # refuse a bad schedule before changing
    if changes.get("message_key") is not None:
        check_message_key(changes["message_key"])
    await check_references(
        session, colonia_id=changes.get("colonia_id"), guardian_id=changes.get("guardian_id")
    )
    for name, value in changes.items():
        setattr(reminder, name, value)
    if {"cron", "active"} & set(changes):
        reminder.next_run_at = first_fire_time(reminder.cron, timezone, now)
    await session.flush()
    return reminder


async def create_visit_reminder(
    session: AsyncSession,
    *,
    visit_id: int,
    colonia_id: int,
    starts_at: datetime,
    hour: int,
    timezone: ZoneInfo,
    now: datetime,
) -> Reminder | None:
    """The day-before reminder of a visit at `hour` local time; None when that is past."""
    day_before = starts_at.astimezone(timezone).date() - timedelta(days=1)
    if day_before < now.astimezone(timezone).date():
        # Already past (a visit recorded after the fact): no schedule to compute, and
        # cron cannot even express a year before 1970.
        return None
    cron = {
        "year": day_before.year,
        "month": day_before.month,
        "day": day_before.day,
        "hour": hour,
        "minute": 0,
    }
    next_run = first_fire_time(cron, timezone, now)
    if next_run is None:
        return None
    return await repo.add_reminder(
        session,
        Reminder(
            kind=ReminderKind.VISIT,
            name=f"visit {visit_id}",
            colonia_id=colonia_id,
            visit_id=visit_id,
            cron=cron,
            message_key=VISIT_MESSAGE_KEY,
            next_run_at=next_run,
        ),
    )


# ---------------------------------------------------------------- running


@dataclass
class TickReport:
    """What one scheduler pass did."""

    scheduled: int = 0  # occurrences written PENDING
    sent: int = 0  # occurrences turned into outbox rows
    skipped: int = 0  # occurrences missed beyond the grace time, or no longer sendable
    skipped_times: list[tuple[int, datetime]] = field(default_factory=list)


async def schedule_due(
    session: AsyncSession,
    *,
    now: datetime,
    timezone: ZoneInfo,
    grace: timedelta,
    report: TickReport,
    course_idle_days: int = 3,
) -> None:
    """Write occurrences for every fire time of due reminders and move their next run on.

    Fire times within the grace time become PENDING (sent once); older ones are recorded
    SKIPPED and logged. Two schedulers doing this at once write the same unique rows (the
    second insert does nothing) and only one moves `next_run_at`.
    """
    for reminder in await repo.due_reminders(session, now, DUE_REMINDERS_PER_PASS):
        expected = reminder.next_run_at
        if expected is None:
            continue
        try:
            trigger = build_trigger(reminder.cron, timezone)
        except InvalidScheduleError:
            logger.exception("reminder %s has a bad schedule; deactivating", reminder.id)
            reminder.active = False
            await session.flush()
            continue
        if reminder.message_key == COURSE_IDLE_MESSAGE_KEY:
            # Not the colonia's leads: whoever stopped halfway through the course.
            recipients = await course_idle_recipients(
                session, reminder, now=now, idle_days=course_idle_days
            )
        else:
            recipients = await repo.recipient_ids(session, reminder)
        if not recipients:
            # Not an error: a colonia may have no lead yet; the schedule still moves on.
            logger.info("reminder %s has no recipients (no active lead?)", reminder.id)
        fire: datetime | None = expected
        examined = 0
        while fire is not None and fire <= now and examined < MAX_CATCH_UP:
            examined += 1
            if now - fire <= grace:
                report.scheduled += await repo.add_occurrences(
                    session,
                    reminder_id=reminder.id,
                    guardian_ids=recipients,
                    scheduled_for=fire,
                    status=OccurrenceStatus.PENDING,
                    now=now,
                )
            else:
                logger.warning(
                    "reminder %s missed its run of %s (beyond the grace time); skipped",
                    reminder.id,
                    fire.isoformat(),
                )
                report.skipped += await repo.add_occurrences(
                    session,
                    reminder_id=reminder.id,
                    guardian_ids=recipients,
                    scheduled_for=fire,
                    status=OccurrenceStatus.SKIPPED,
                    now=now,
                )
                report.skipped_times.append((reminder.id, fire))
            fire = _utc(trigger.get_next_fire_time(fire, now))
        if fire is not None and fire <= now:
            # Still behind after MAX_CATCH_UP fire times: jump to the future.
            fire = first_fire_time(reminder.cron, timezone, now)
        await repo.advance_reminder(session, reminder.id, expected=expected, next_run_at=fire)


async def skip_stale(session: AsyncSession, *, now: datetime, grace: timedelta) -> int:
    """Skip PENDING occurrences older than the grace time (written, then the process died)."""
    skipped = await repo.skip_stale_occurrences(session, now - grace, now)
    if skipped:
        logger.warning("skipped %d reminder occurrences older than the grace time", skipped)
    return skipped


async def reminder_text(
    session: AsyncSession, reminder: Reminder, guardian: Guardian, timezone: ZoneInfo
) -> str:
    """The reminder in the guardian's language (staff text, when set, is sent as written)."""
    if reminder.text:
        return reminder.text
    colonia_id = reminder.colonia_id or guardian.colonia_id
    colonia = await get_colonia(session, colonia_id) if colonia_id else None
    visit = (
        await broadcasts_repo.get_visit(session, reminder.visit_id) if reminder.visit_id else None
    )
    return translator(guardian.locale)(
        reminder.message_key,
        name=guardian.display_name,
        colonia=colonia.name if colonia is not None else "",
        place=visit.place if visit is not None else "",
        when=format_local(visit.starts_at, timezone) if visit is not None else "",
        description=visit.description if visit is not None else "",
    )


async def send_claimed_batch(
    session: AsyncSession,
    *,
    now: datetime,
    worker: str,
    timezone: ZoneInfo,
    limit: int,
    report: TickReport,
) -> int:
    """Claim due occurrences and write their outbox rows in this transaction; returns how many.

    The claim, the outbox row and SENT commit together: a crash before the commit leaves the
    occurrence PENDING (claimed again), after it the outbox sender owns the message.
    """
    claimed = await repo.claim_due_occurrences(session, now=now, worker=worker, limit=limit)
    if not claimed:
        return 0
    reminders = await repo.reminders_by_id(session, [c.reminder_id for c in claimed])
    guardians = await broadcasts_repo.guardians_by_id(session, [c.guardian_id for c in claimed])
    for item in claimed:
        reminder = reminders.get(item.reminder_id)
        guardian = guardians.get(item.guardian_id)
        if (
            reminder is None
            or guardian is None
            or not reminder.active
            or guardian.status != GuardianStatus.ACTIVE
        ):
            # Switched off (a cancelled visit), deactivated or gone since it was written.
            await repo.finish_occurrence(session, item.occurrence_id, OccurrenceStatus.SKIPPED, now)
            report.skipped += 1
            continue
        try:
            text = await reminder_text(session, reminder, guardian, timezone)
        except (KeyError, IndexError, ValueError):
            # A catalog text with a placeholder we do not fill must not block every later
            # occurrence of every reminder: skip this one, loudly.
            logger.exception("reminder %s: text could not be rendered; skipped", reminder.id)
            await repo.finish_occurrence(session, item.occurrence_id, OccurrenceStatus.SKIPPED, now)
            report.skipped += 1
            continue
        kind = OutboxKind.VISIT if reminder.kind == ReminderKind.VISIT else OutboxKind.REMINDER
        row = await enqueue_to_guardian(session, guardian, text_prompt(text), kind=kind, now=now)
        await repo.finish_occurrence(
            session, item.occurrence_id, OccurrenceStatus.SENT, now, outbox_id=row.id
        )
        report.sent += 1
    return len(claimed)
