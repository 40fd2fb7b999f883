"""Course progress, quiz attempts for learning gains, complaint channels, municipal reports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.domain.enums import ComplaintChannelKind, GuardianStatus
from guardianes.storage.models import (
    CardDefinition,
    Colonia,
    Guardian,
    QuizAttempt,
    ReminderOccurrence,
    Submission,
)
from guardianes.storage.models_training import ComplaintChannel, CourseProgressRow, MunicipalReport

# Statements every message runs are built once (building one costs more than running it on
# SQLite); SQLAlchemy caches their compiled form.
_GET_PROGRESS = select(CourseProgressRow).where(
    CourseProgressRow.guardian_id == bindparam("guardian_id"),
    CourseProgressRow.course_id == bindparam("course_id"),
)
_ATTEMPT_SCORES = (
    select(QuizAttempt.form_id, QuizAttempt.phase, QuizAttempt.score, QuizAttempt.max_score)
    .where(QuizAttempt.guardian_id == bindparam("guardian_id"))
    .order_by(QuizAttempt.id)
)
_ACTIVE_CHANNELS_ORDER = (
    ComplaintChannel.service_code.is_(None),
    ComplaintChannel.service_code,
    ComplaintChannel.name,
    ComplaintChannel.id,
)
_ACTIVE_CHANNELS = (
    select(ComplaintChannel)
    .where(ComplaintChannel.active.is_(True))
    .order_by(*_ACTIVE_CHANNELS_ORDER)
)
_ACTIVE_CHANNELS_OF_CITY = _ACTIVE_CHANNELS.where(ComplaintChannel.city_id == bindparam("city_id"))

# ---------------------------------------------------------------- course progress


async def get_progress(
    session: AsyncSession, guardian_id: int, course_id: str
) -> CourseProgressRow | None:
    """One guardian's progress in one course."""
    result = await session.execute(
        _GET_PROGRESS, {"guardian_id": guardian_id, "course_id": course_id}
    )
    return result.scalar_one_or_none()


async def save_progress(
    session: AsyncSession,
    *,
    guardian_id: int,
    course_id: str,
    lesson_id: str | None,
    lessons_done: Sequence[str],
    completed: bool,
    at: datetime,
) -> CourseProgressRow:
    """Create or move a guardian's progress (the conversation lock serializes the writers).

    A finished course stays finished: reviewing lessons later never reopens it.
    """
    row = await get_progress(session, guardian_id, course_id)
    if row is None:
        row = CourseProgressRow(
            guardian_id=guardian_id, course_id=course_id, started_at=at, lessons_done=[]
        )
        session.add(row)
    if row.completed_at is None:
        row.lesson_id = None if completed else lesson_id
        row.lessons_done = list(lessons_done)
        row.completed_at = at if completed else None
    row.last_activity_at = at
    await session.flush()
    return row


async def idle_course_guardians(
    session: AsyncSession,
    *,
    reminder_id: int,
    colonia_id: int | None,
    guardian_id: int | None,
    idle_before: datetime,
) -> list[int]:
    """Active guardians with a course started, unfinished and untouched since `idle_before`,
    not yet nudged by this reminder since they last moved in it (one nudge per pause)."""
    nudged = exists().where(
        ReminderOccurrence.reminder_id == reminder_id,
        ReminderOccurrence.guardian_id == CourseProgressRow.guardian_id,
        ReminderOccurrence.scheduled_for >= CourseProgressRow.last_activity_at,
    )
    statement = (
        select(Guardian.id)
        .join(CourseProgressRow, CourseProgressRow.guardian_id == Guardian.id)
        .where(
            Guardian.status == GuardianStatus.ACTIVE,
            CourseProgressRow.completed_at.is_(None),
            CourseProgressRow.lesson_id.is_not(None),
            CourseProgressRow.last_activity_at <= idle_before,
            ~nudged,
        )
    )
    if guardian_id is not None:
        statement = statement.where(Guardian.id == guardian_id)
    if colonia_id is not None:
        statement = statement.where(Guardian.colonia_id == colonia_id)
    result = await session.execute(statement.distinct().order_by(Guardian.id))
    return list(result.scalars().all())


# ---------------------------------------------------------------- quiz attempts


@dataclass(frozen=True, slots=True)
class AttemptScore:
    """One quiz attempt's form, phase and score."""

    form_id: str
    phase: str
    score: int
    max_score: int


async def attempt_scores(session: AsyncSession, guardian_id: int) -> list[AttemptScore]:
    """Every quiz attempt of one guardian, oldest first (a few rows: one per form and phase)."""
    result = await session.execute(_ATTEMPT_SCORES, {"guardian_id": guardian_id})
    return [
        AttemptScore(str(form_id), str(phase), int(score), int(max_score))
        for form_id, phase, score, max_score in result.all()
    ]


@dataclass(frozen=True, slots=True)
class AttemptRow:
    """A quiz attempt with its guardian's colonia, for the learning-gains report."""

    guardian_id: int
    colonia_id: int | None
    form_id: str
    phase: str
    score: int
    max_score: int
    answers: dict[str, Any]
    completed_at: datetime


async def attempts_for_gains(
    session: AsyncSession,
    *,
    form_id: str | None,
    colonia_id: int | None,
    date_from: datetime | None,
    date_to: datetime | None,
) -> list[AttemptRow]:
    """Every attempt of the guardians who completed one in the period (both phases kept, so
    a pair is never split by the period's edge), optionally of one colonia and quiz."""
    # Plain columns, not entities: a report reads thousands of attempts once.
    statement = select(
        QuizAttempt.guardian_id,
        Guardian.colonia_id,
        QuizAttempt.form_id,
        QuizAttempt.phase,
        QuizAttempt.score,
        QuizAttempt.max_score,
        QuizAttempt.answers,
        QuizAttempt.completed_at,
    ).join(Guardian, Guardian.id == QuizAttempt.guardian_id)
    if form_id is not None:
        statement = statement.where(QuizAttempt.form_id == form_id)
    if colonia_id is not None:
        statement = statement.where(Guardian.colonia_id == colonia_id)
    if date_from is not None or date_to is not None:
        in_period = select(QuizAttempt.guardian_id)
        if form_id is not None:
            in_period = in_period.where(QuizAttempt.form_id == form_id)
        if date_from is not None:
            in_period = in_period.where(QuizAttempt.completed_at >= date_from)
        if date_to is not None:
            in_period = in_period.where(QuizAttempt.completed_at < date_to)
        statement = statement.where(QuizAttempt.guardian_id.in_(in_period))
    result = await session.execute(statement.order_by(QuizAttempt.guardian_id, QuizAttempt.id))
    return [
        AttemptRow(
            guardian_id=row.guardian_id,
            colonia_id=row.colonia_id,
            form_id=row.form_id,
            phase=row.phase,
            score=row.score,
            max_score=row.max_score,
            answers=dict(row.answers or {}),
            completed_at=row.completed_at,
        )
        for row in result.all()
    ]


# ---------------------------------------------------------------- complaint channels


async def list_complaint_channels(
    session: AsyncSession,
    *,
    city_id: int | None = None,
    service_code: str | None = None,
    active_only: bool = True,
) -> Sequence[ComplaintChannel]:
    """Channels (of one city, or of all) by service, general ones last, and name."""
    if active_only and service_code is None:  # what every message asks: built once
        if city_id is None:
            return (await session.execute(_ACTIVE_CHANNELS)).scalars().all()
        result = await session.execute(_ACTIVE_CHANNELS_OF_CITY, {"city_id": city_id})
        return result.scalars().all()
    statement = select(ComplaintChannel)
    if city_id is not None:
        statement = statement.where(ComplaintChannel.city_id == city_id)
    if active_only:
        statement = statement.where(ComplaintChannel.active.is_(True))
    if service_code is not None:
        statement = statement.where(
            (ComplaintChannel.service_code == service_code)
            | ComplaintChannel.service_code.is_(None)
        )
    statement = statement.order_by(*_ACTIVE_CHANNELS_ORDER)
    return (await session.execute(statement)).scalars().all()


async def upsert_complaint_channel(
    session: AsyncSession,
    *,
    city_id: int | None = None,
    service_code: str | None,
    kind: str,
    name: str,
    values: dict[str, Any],
) -> bool:
    """Insert or update the channel (city, service, kind, name); True when it was new.

    Without `city_id` the row goes to the only city (several cities must name one).
    """
    city_match = true() if city_id is None else ComplaintChannel.city_id == city_id
    service_match = (
        ComplaintChannel.service_code.is_(None)
        if service_code is None
        else ComplaintChannel.service_code == service_code
    )
    result = await session.execute(
        select(ComplaintChannel).where(
            city_match,
            service_match,
            ComplaintChannel.kind == kind,
            ComplaintChannel.name == name,
        )
    )
    row = result.scalar_one_or_none()
    created = row is None
    if row is None:
        row = ComplaintChannel(
            service_code=service_code, kind=ComplaintChannelKind(kind), name=name
        )
        if city_id is not None:
            row.city_id = city_id
        session.add(row)
    for key, value in values.items():
        setattr(row, key, value)
    await session.flush()
    return created


# ---------------------------------------------------------------- municipal reports


async def find_submission_id(
    session: AsyncSession, *, guardian_id: int, form_id: str, completed_at: datetime
) -> int | None:
    """The guardian's submission of a card completed at that moment."""
    result = await session.execute(
        select(Submission.id)
        .join(CardDefinition, CardDefinition.id == Submission.card_definition_id)
        .where(
            Submission.guardian_id == guardian_id,
            CardDefinition.form_id == form_id,
            Submission.completed_at == completed_at,
        )
        .order_by(Submission.id.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def add_municipal_report(session: AsyncSession, report: MunicipalReport) -> MunicipalReport:
    """Record a "ya lo reporté"."""
    session.add(report)
    await session.flush()
    return report


@dataclass(frozen=True, slots=True)
class ReportCount:
    """How many "ya lo reporté" a colonia gave for a service."""

    colonia_id: int | None
    colonia_name: str | None
    service_code: str | None
    count: int


async def count_municipal_reports(
    session: AsyncSession,
    *,
    colonia_id: int | None,
    service_code: str | None,
    date_from: datetime | None,
    date_to: datetime | None,
) -> list[ReportCount]:
    """Reports counted by colonia and service."""
    conditions = []
    if colonia_id is not None:
        conditions.append(MunicipalReport.colonia_id == colonia_id)
    if service_code is not None:
        conditions.append(MunicipalReport.service_code == service_code)
    if date_from is not None:
        conditions.append(MunicipalReport.reported_at >= date_from)
    if date_to is not None:
        conditions.append(MunicipalReport.reported_at < date_to)
    statement = (
        select(
            MunicipalReport.colonia_id,
            Colonia.name,
            MunicipalReport.service_code,
            func.count(MunicipalReport.id),
        )
        .outerjoin(Colonia, Colonia.id == MunicipalReport.colonia_id)
        .where(and_(True, *conditions))
        .group_by(MunicipalReport.colonia_id, Colonia.name, MunicipalReport.service_code)
        .order_by(Colonia.name, MunicipalReport.service_code)
    )
    return [
        ReportCount(colonia_id=row[0], colonia_name=row[1], service_code=row[2], count=int(row[3]))
        for row in (await session.execute(statement)).all()
    ]
