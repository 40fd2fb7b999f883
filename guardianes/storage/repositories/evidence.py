"""Queries of the evidence domain: status reports, discrepancies, their evidence and history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.storage.models import (
    CardDefinition,
    Company,
    Contract,
    Directorate,
    Guardian,
    Layer,
    PublicSpace,
    Submission,
    SubmissionMedia,
)
from guardianes.storage.models_evidence import (
    Discrepancy,
    DiscrepancyEvent,
    DiscrepancyEvidence,
    GuardianConfirmation,
    ServiceStatusReport,
)
from guardianes.storage.repositories.pagination import PageRows, paginate


@dataclass(frozen=True, slots=True)
class DiscrepancyFilter:
    """Filters of the discrepancies list; None means any."""

    status: str | None = None
    service_code: str | None = None
    colonia_id: int | None = None
    contract_id: int | None = None
    company_id: int | None = None
    directorate_id: int | None = None
    public_space_id: int | None = None
    strength: str | None = None
    kind: str | None = None
    obligation: str | None = None
    overdue: bool | None = None
    period_from: date | None = None  # discrepancies whose period ends on or after this day
    period_to: date | None = None  # ... and starts on or before this day


def _discrepancies_statement(filters: DiscrepancyFilter) -> Select[Any]:
    statement = select(Discrepancy).order_by(
        Discrepancy.last_observed_at.desc(), Discrepancy.id.desc()
    )
    equal = {
        Discrepancy.status: filters.status,
        Discrepancy.service_code: filters.service_code,
        Discrepancy.colonia_id: filters.colonia_id,
        Discrepancy.contract_id: filters.contract_id,
        Discrepancy.company_id: filters.company_id,
        Discrepancy.directorate_id: filters.directorate_id,
        Discrepancy.public_space_id: filters.public_space_id,
        Discrepancy.strength: filters.strength,
        Discrepancy.kind: filters.kind,
        Discrepancy.obligation: filters.obligation,
    }
    for column, value in equal.items():
        if value is not None:
            statement = statement.where(column == value)
    if filters.overdue is not None:
        statement = statement.where(
            Discrepancy.overdue_at.is_not(None)
            if filters.overdue
            else Discrepancy.overdue_at.is_(None)
        )
    if filters.period_from is not None:
        statement = statement.where(Discrepancy.period_end >= filters.period_from)
    if filters.period_to is not None:
        statement = statement.where(Discrepancy.period_start <= filters.period_to)
    return statement


async def list_discrepancies(
    session: AsyncSession, filters: DiscrepancyFilter, *, limit: int, offset: int
) -> PageRows[Discrepancy]:
    """Discrepancies, most recently observed first."""
    return await paginate(session, _discrepancies_statement(filters), limit=limit, offset=offset)


async def all_discrepancies(
    session: AsyncSession, filters: DiscrepancyFilter | None = None
) -> Sequence[Discrepancy]:
    """Every discrepancy the filters match (reports and exports)."""
    statement = _discrepancies_statement(filters or DiscrepancyFilter())
    return (await session.scalars(statement)).all()


async def get_discrepancy(
    session: AsyncSession, discrepancy_id: int, *, for_update: bool = False
) -> Discrepancy | None:
    """One discrepancy; `for_update` locks its row on PostgreSQL."""
    statement = select(Discrepancy).where(Discrepancy.id == discrepancy_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).one_or_none()


async def discrepancy_by_key(
    session: AsyncSession,
    *,
    public_space_id: int,
    service_code: str,
    obligation: str,
    period_start: date,
) -> Discrepancy | None:
    """The discrepancy of one space + service + obligation + period, if any."""
    return (
        await session.scalars(
            select(Discrepancy).where(
                Discrepancy.public_space_id == public_space_id,
                Discrepancy.service_code == service_code,
                Discrepancy.obligation == obligation,
                Discrepancy.period_start == period_start,
            )
        )
    ).one_or_none()


async def add(session: AsyncSession, row: Any) -> Any:
    """Insert one row of the evidence domain."""
    session.add(row)
    await session.flush()
    return row


async def evidence_of(session: AsyncSession, discrepancy_id: int) -> Sequence[DiscrepancyEvidence]:
    """A discrepancy's evidence, oldest first."""
    return (
        await session.scalars(
            select(DiscrepancyEvidence)
            .where(DiscrepancyEvidence.discrepancy_id == discrepancy_id)
            .order_by(DiscrepancyEvidence.observed_at, DiscrepancyEvidence.id)
        )
    ).all()


async def evidence_for_discrepancies(
    session: AsyncSession, discrepancy_ids: Iterable[int]
) -> dict[int, list[DiscrepancyEvidence]]:
    """Evidence rows per discrepancy id, oldest first."""
    ids = sorted(set(discrepancy_ids))
    found: dict[int, list[DiscrepancyEvidence]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = await session.scalars(
        select(DiscrepancyEvidence)
        .where(DiscrepancyEvidence.discrepancy_id.in_(ids))
        .order_by(DiscrepancyEvidence.observed_at, DiscrepancyEvidence.id)
    )
    for row in rows:
        found[row.discrepancy_id].append(row)
    return found


async def events_of(session: AsyncSession, discrepancy_id: int) -> Sequence[DiscrepancyEvent]:
    """A discrepancy's history, oldest first."""
    return (
        await session.scalars(
            select(DiscrepancyEvent)
            .where(DiscrepancyEvent.discrepancy_id == discrepancy_id)
            .order_by(DiscrepancyEvent.created_at, DiscrepancyEvent.id)
        )
    ).all()


async def confirmations_of(
    session: AsyncSession, discrepancy_id: int
) -> Sequence[GuardianConfirmation]:
    """Every "¿Ya quedó?" asked about a discrepancy, oldest first."""
    return (
        await session.scalars(
            select(GuardianConfirmation)
            .where(GuardianConfirmation.discrepancy_id == discrepancy_id)
            .order_by(GuardianConfirmation.asked_at, GuardianConfirmation.id)
        )
    ).all()


async def confirmation_asked_of(
    session: AsyncSession, confirmation_id: int, guardian_id: int
) -> GuardianConfirmation | None:
    """A "¿Ya quedó?" asked of this guardian (answered or not); None if not theirs."""
    return (
        await session.scalars(
            select(GuardianConfirmation).where(
                GuardianConfirmation.id == confirmation_id,
                GuardianConfirmation.guardian_id == guardian_id,
            )
        )
    ).one_or_none()


async def guardians_of_evidence(session: AsyncSession, discrepancy_id: int) -> Sequence[Guardian]:
    """The distinct guardians whose cards are a discrepancy's evidence."""
    return (
        await session.scalars(
            select(Guardian)
            .where(
                Guardian.id.in_(
                    select(DiscrepancyEvidence.guardian_id).where(
                        DiscrepancyEvidence.discrepancy_id == discrepancy_id
                    )
                )
            )
            .order_by(Guardian.id)
        )
    ).all()


StatusKey = tuple[int, str, str, date, date, str]


async def status_reports_by_key(
    session: AsyncSession, keys: Iterable[StatusKey]
) -> dict[StatusKey, ServiceStatusReport]:
    """Existing status rows matching (space, service, obligation, start, end, source) keys."""
    wanted = set(keys)
    if not wanted:
        return {}
    space_ids = sorted({key[0] for key in wanted})
    found: dict[StatusKey, ServiceStatusReport] = {}
    for start in range(0, len(space_ids), 500):
        rows = await session.scalars(
            select(ServiceStatusReport).where(
                ServiceStatusReport.public_space_id.in_(space_ids[start : start + 500])
            )
        )
        for row in rows:
            key = (
                row.public_space_id,
                row.service_code,
                row.obligation,
                row.period_start,
                row.period_end,
                row.source,
            )
            if key in wanted:
                found[key] = row
    return found


async def list_status_reports(
    session: AsyncSession,
    *,
    public_space_id: int | None,
    service_code: str | None,
    limit: int,
    offset: int,
) -> PageRows[ServiceStatusReport]:
    """Status rows, latest period first."""
    statement = select(ServiceStatusReport).order_by(
        ServiceStatusReport.period_start.desc(), ServiceStatusReport.id
    )
    if public_space_id is not None:
        statement = statement.where(ServiceStatusReport.public_space_id == public_space_id)
    if service_code is not None:
        statement = statement.where(ServiceStatusReport.service_code == service_code)
    return await paginate(session, statement, limit=limit, offset=offset)


async def status_reports_by_ids(
    session: AsyncSession, ids: Iterable[int]
) -> Sequence[ServiceStatusReport]:
    """Status rows by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    return (
        await session.scalars(select(ServiceStatusReport).where(ServiceStatusReport.id.in_(wanted)))
    ).all()


async def space_context(session: AsyncSession, public_space_id: int) -> tuple[PublicSpace, Layer]:
    """A space and its layer."""
    row = (
        await session.execute(
            select(PublicSpace, Layer)
            .join(Layer, Layer.id == PublicSpace.layer_id)
            .where(PublicSpace.id == public_space_id)
        )
    ).one()
    return row[0], row[1]


async def directorate_for_service(session: AsyncSession, service_code: str) -> Directorate | None:
    """The directorate in charge of a service (the first by id if several share it)."""
    return (
        await session.scalars(
            select(Directorate)
            .where(Directorate.service_code == service_code)
            .order_by(Directorate.id)
            .limit(1)
        )
    ).one_or_none()


async def media_of_submissions(
    session: AsyncSession, submission_ids: Iterable[int]
) -> dict[int, list[SubmissionMedia]]:
    """Photos per card id, in order."""
    ids = sorted(set(submission_ids))
    found: dict[int, list[SubmissionMedia]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = await session.scalars(
        select(SubmissionMedia)
        .where(SubmissionMedia.submission_id.in_(ids))
        .order_by(SubmissionMedia.submission_id, SubmissionMedia.position)
    )
    for row in rows:
        found[row.submission_id].append(row)
    return found


async def submissions_by_ids(session: AsyncSession, ids: Iterable[int]) -> dict[int, Submission]:
    """Cards by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await session.scalars(select(Submission).where(Submission.id.in_(wanted)))
    return {row.id: row for row in rows}


async def overdue_candidates(session: AsyncSession, now: datetime) -> Sequence[Discrepancy]:
    """Open, notified or acknowledged discrepancies past their deadline not yet flagged."""
    return (
        await session.scalars(
            select(Discrepancy)
            .where(
                Discrepancy.status.in_(("open", "notified", "acknowledged")),
                Discrepancy.due_at.is_not(None),
                Discrepancy.due_at < now,
                Discrepancy.overdue_at.is_(None),
            )
            .order_by(Discrepancy.id)
        )
    ).all()


async def resolution_rows(session: AsyncSession) -> Sequence[Discrepancy]:
    """Every discrepancy, for the resolution report."""
    return (await session.scalars(select(Discrepancy).order_by(Discrepancy.id))).all()


async def confirmations_by_discrepancy(
    session: AsyncSession,
) -> dict[int, list[GuardianConfirmation]]:
    """Every "¿Ya quedó?" asked, per discrepancy, oldest first."""
    rows = await session.scalars(select(GuardianConfirmation).order_by(GuardianConfirmation.id))
    found: dict[int, list[GuardianConfirmation]] = {}
    for row in rows:
        found.setdefault(row.discrepancy_id, []).append(row)
    return found


# ---------------------------------------------------------------- reconciliation inputs


async def cards_of_space(
    session: AsyncSession,
    *,
    public_space_id: int,
    service_code: str,
    start: datetime,
    end: datetime,
) -> Sequence[tuple[Submission, CardDefinition]]:
    """Cards of one space and service completed in [start, end), oldest first."""
    result = await session.execute(
        select(Submission, CardDefinition)
        .join(CardDefinition, CardDefinition.id == Submission.card_definition_id)
        .where(
            Submission.public_space_id == public_space_id,
            CardDefinition.service_code == service_code,
            Submission.completed_at >= start,
            Submission.completed_at < end,
        )
        .order_by(Submission.completed_at, Submission.id)
    )
    return [(row[0], row[1]) for row in result.all()]


async def reports_overlapping(
    session: AsyncSession, *, public_space_id: int, service_code: str, start: date, end: date
) -> Sequence[ServiceStatusReport]:
    """Status rows of a space and service whose period overlaps [start, end]."""
    return (
        await session.scalars(
            select(ServiceStatusReport)
            .where(
                ServiceStatusReport.public_space_id == public_space_id,
                ServiceStatusReport.service_code == service_code,
                ServiceStatusReport.period_start <= end,
                ServiceStatusReport.period_end >= start,
            )
            .order_by(ServiceStatusReport.id)
        )
    ).all()


async def discrepancies_overlapping(
    session: AsyncSession, *, public_space_id: int, service_code: str, start: date, end: date
) -> Sequence[Discrepancy]:
    """Discrepancies of a space and service whose period overlaps [start, end]."""
    return (
        await session.scalars(
            select(Discrepancy)
            .where(
                Discrepancy.public_space_id == public_space_id,
                Discrepancy.service_code == service_code,
                Discrepancy.period_start <= end,
                Discrepancy.period_end >= start,
            )
            .order_by(Discrepancy.id)
        )
    ).all()


async def card_definition_of(session: AsyncSession, submission_id: int) -> CardDefinition | None:
    """The form version a card was filled with."""
    return (
        await session.scalars(
            select(CardDefinition)
            .join(Submission, Submission.card_definition_id == CardDefinition.id)
            .where(Submission.id == submission_id)
        )
    ).one_or_none()


async def space_service_pairs(session: AsyncSession) -> list[tuple[int, str]]:
    """Every (space, service) with cards or discrepancies, for a full refresh."""
    from_cards = await session.execute(
        select(Submission.public_space_id, CardDefinition.service_code)
        .join(CardDefinition, CardDefinition.id == Submission.card_definition_id)
        .where(Submission.public_space_id.is_not(None), CardDefinition.service_code.is_not(None))
        .distinct()
    )
    from_discrepancies = await session.execute(
        select(Discrepancy.public_space_id, Discrepancy.service_code).distinct()
    )
    pairs = {(int(a), str(b)) for a, b in from_cards.all() if a is not None and b is not None}
    pairs |= {(int(a), str(b)) for a, b in from_discrepancies.all()}
    return sorted(pairs)


async def count_events(session: AsyncSession, discrepancy_id: int) -> int:
    """How many history rows a discrepancy has."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(DiscrepancyEvent)
            .where(DiscrepancyEvent.discrepancy_id == discrepancy_id)
        )
        or 0
    )


async def count_confirmations(session: AsyncSession, discrepancy_id: int) -> int:
    """How many "¿Ya quedó?" questions were asked about a discrepancy."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(GuardianConfirmation)
            .where(GuardianConfirmation.discrepancy_id == discrepancy_id)
        )
        or 0
    )


async def delete(session: AsyncSession, row: Any) -> None:
    """Delete one row of the evidence domain."""
    await session.delete(row)
    await session.flush()


async def company_by_name(session: AsyncSession, normalized_name: str) -> Company | None:
    """The oldest company with that normalised name."""
    return (
        await session.scalars(
            select(Company)
            .where(Company.normalized_name == normalized_name)
            .order_by(Company.id)
            .limit(1)
        )
    ).one_or_none()


async def contracts_with_number(session: AsyncSession) -> list[tuple[int, str]]:
    """(id, contract number) of every contract that has one."""
    rows = await session.execute(
        select(Contract.id, Contract.contract_number).where(Contract.contract_number.is_not(None))
    )
    return [(int(a), str(b)) for a, b in rows.all()]


async def guardians_by_ids(session: AsyncSession, ids: Iterable[int]) -> dict[int, Guardian]:
    """Guardians by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await session.scalars(select(Guardian).where(Guardian.id.in_(wanted)))
    return {row.id: row for row in rows}


async def media_hashes(
    session: AsyncSession, *, except_submission_id: int
) -> Sequence[tuple[int, str]]:
    """(media id, hash) of every hashed photo of other cards: two narrow columns to scan."""
    rows = await session.execute(
        select(SubmissionMedia.id, SubmissionMedia.perceptual_hash).where(
            SubmissionMedia.perceptual_hash.is_not(None),
            SubmissionMedia.submission_id != except_submission_id,
        )
    )
    return [(int(a), str(b)) for a, b in rows.all()]


async def media_places(
    session: AsyncSession, media_ids: Iterable[int]
) -> Sequence[tuple[int, int | None, datetime]]:
    """(media id, space id, card completed at) of some photos, oldest card first."""
    wanted = sorted(set(media_ids))
    if not wanted:
        return []
    rows = await session.execute(
        select(SubmissionMedia.id, Submission.public_space_id, Submission.completed_at)
        .join(Submission, Submission.id == SubmissionMedia.submission_id)
        .where(SubmissionMedia.id.in_(wanted))
        .order_by(Submission.completed_at, SubmissionMedia.id)
    )
    return [(int(a), b, c) for a, b, c in rows.all()]


async def media_without_hash(
    session: AsyncSession, *, after_id: int, limit: int
) -> Sequence[SubmissionMedia]:
    """Photos with no perceptual hash (stored before hashes existed), by id after `after_id`."""
    return (
        await session.scalars(
            select(SubmissionMedia)
            .where(SubmissionMedia.perceptual_hash.is_(None), SubmissionMedia.id > after_id)
            .order_by(SubmissionMedia.id)
            .limit(limit)
        )
    ).all()


async def directorates_by_ids(session: AsyncSession, ids: Iterable[int]) -> dict[int, Directorate]:
    """Directorates by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await session.scalars(select(Directorate).where(Directorate.id.in_(wanted)))
    return {row.id: row for row in rows}


async def contracts_by_ids(session: AsyncSession, ids: Iterable[int]) -> dict[int, Contract]:
    """Contracts by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await session.scalars(select(Contract).where(Contract.id.in_(wanted)))
    return {row.id: row for row in rows}
