"""Read queries of the reports area: complaints, first cards, contract review, exports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.domain.dates import month_of
from guardianes.storage.models import (
    CardDefinition,
    Colonia,
    Company,
    ComplaintCount,
    Contract,
    Directorate,
    Layer,
    PublicSpace,
    Submission,
)
from guardianes.storage.models_evidence import Discrepancy, DiscrepancyEvidence


@dataclass(frozen=True, slots=True)
class MonthlyComplaints:
    """Complaints about one service in one colonia in one calendar month."""

    colonia_id: int
    service_code: str
    month: date  # the first of the month
    count: int


async def monthly_complaints(
    session: AsyncSession,
    *,
    colonia_id: int | None = None,
    service_code: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> list[MonthlyComplaints]:
    """Complaint counts summed per colonia, service and month (daily rows folded in)."""
    statement = select(
        ComplaintCount.colonia_id,
        ComplaintCount.service_code,
        ComplaintCount.period_start,
        ComplaintCount.count,
    )
    if colonia_id is not None:
        statement = statement.where(ComplaintCount.colonia_id == colonia_id)
    if service_code is not None:
        statement = statement.where(ComplaintCount.service_code == service_code)
    if since is not None:
        statement = statement.where(ComplaintCount.period_start >= since)
    if until is not None:
        statement = statement.where(ComplaintCount.period_start < until)
    totals: dict[tuple[int, str, date], int] = {}
    for row in (await session.execute(statement)).all():
        key = (int(row[0]), str(row[1]), month_of(row[2])[0])
        totals[key] = totals.get(key, 0) + int(row[3])
    return [
        MonthlyComplaints(colonia, service, month, count)
        for (colonia, service, month), count in sorted(totals.items())
    ]


async def complaint_coverage(session: AsyncSession) -> dict[str, tuple[date, date]]:
    """Per service, the first and last month any colonia has complaint data for."""
    rows = await session.execute(
        select(
            ComplaintCount.service_code,
            func.min(ComplaintCount.period_start),
            func.max(ComplaintCount.period_start),
        ).group_by(ComplaintCount.service_code)
    )
    return {str(r[0]): (month_of(r[1])[0], month_of(r[2])[0]) for r in rows.all()}


async def first_card_by_colonia(session: AsyncSession) -> dict[int, datetime]:
    """The completion time of each colonia's first surveillance card."""
    rows = await session.execute(
        select(Submission.colonia_id, func.min(Submission.completed_at))
        .where(Submission.colonia_id.is_not(None))
        .group_by(Submission.colonia_id)
    )
    return {int(r[0] or 0): r[1] for r in rows.all()}


async def colonias_by_id(session: AsyncSession, ids: Sequence[int] | None = None) -> dict[int, str]:
    """Colonia id → name (every colonia when `ids` is None)."""
    statement = select(Colonia.id, Colonia.name)
    if ids is not None:
        statement = statement.where(Colonia.id.in_(list(ids)))
    return {int(r[0]): str(r[1]) for r in (await session.execute(statement)).all()}


# ---------------------------------------------------------------- spaces and contracts


@dataclass(frozen=True, slots=True)
class SpaceWithLayer:
    """A public space with the layer that says who answers for it."""

    space: PublicSpace
    layer: Layer


async def spaces_with_layers(
    session: AsyncSession,
    *,
    colonia_id: int | None = None,
    contract_number: str | None = None,
    space_ids: Sequence[int] | None = None,
    layer_ids: Sequence[int] | None = None,
) -> list[SpaceWithLayer]:
    """Spaces (of a colonia, of layers under a contract number, or by id) with their layer."""
    statement = (
        select(PublicSpace, Layer)
        .join(Layer, Layer.id == PublicSpace.layer_id)
        .order_by(PublicSpace.name, PublicSpace.id)
    )
    if colonia_id is not None:
        statement = statement.where(PublicSpace.colonia_id == colonia_id)
    if contract_number is not None:
        statement = statement.where(Layer.contract_number == contract_number)
    if space_ids is not None:
        statement = statement.where(PublicSpace.id.in_(list(space_ids)))
    if layer_ids is not None:
        statement = statement.where(PublicSpace.layer_id.in_(list(layer_ids)))
    rows = (await session.execute(statement)).all()
    return [SpaceWithLayer(space=row[0], layer=row[1]) for row in rows]


async def layers_with_contract_numbers(session: AsyncSession) -> list[Layer]:
    """Layers that name a contract number."""
    rows = await session.scalars(select(Layer).where(Layer.contract_number.is_not(None)))
    return list(rows.all())


async def directorates_by_id(session: AsyncSession) -> dict[int, Directorate]:
    """Every directorate by id."""
    return {d.id: d for d in (await session.scalars(select(Directorate))).all()}


async def contract_with_company(
    session: AsyncSession, contract_id: int
) -> tuple[Contract, Company | None] | None:
    """A contract and its company."""
    row = (
        await session.execute(
            select(Contract, Company)
            .outerjoin(Company, Company.id == Contract.company_id)
            .where(Contract.id == contract_id)
        )
    ).first()
    if row is None:
        return None
    return row[0], row[1]


async def contracts_of_company(session: AsyncSession, normalized_name: str) -> list[Contract]:
    """Every contract won by companies of this normalised name (one firm may carry several
    tax ids in the published data), newest first."""
    rows = await session.scalars(
        select(Contract)
        .join(Company, Company.id == Contract.company_id)
        .where(Company.normalized_name == normalized_name)
        .order_by(Contract.contract_date.desc(), Contract.id.desc())
    )
    return list(rows.all())


async def procedure_counts_by_company_name(session: AsyncSession) -> dict[str, dict[str, int]]:
    """Normalised company name → {procedure type (LP, IR, AD, "") → number of contracts}."""
    rows = await session.execute(
        select(Company.normalized_name, Contract.procedure_type, func.count())
        .join(Company, Company.id == Contract.company_id)
        .group_by(Company.normalized_name, Contract.procedure_type)
    )
    out: dict[str, dict[str, int]] = {}
    for name, procedure, count in rows.all():
        out.setdefault(str(name), {})[str(procedure or "")] = int(count)
    return out


async def card_counts_by_space(
    session: AsyncSession,
    space_ids: Sequence[int],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[int, int]:
    """Space id → number of cards filed for it in the period."""
    if not space_ids:
        return {}
    statement = (
        select(Submission.public_space_id, func.count())
        .where(Submission.public_space_id.in_(list(space_ids)))
        .group_by(Submission.public_space_id)
    )
    if since is not None:
        statement = statement.where(Submission.completed_at >= since)
    if until is not None:
        statement = statement.where(Submission.completed_at < until)
    return {int(r[0] or 0): int(r[1]) for r in (await session.execute(statement)).all()}


# ---------------------------------------------------------------- exports


async def submissions_for_export(
    session: AsyncSession, statement: Select[Any], *, limit: int
) -> list[tuple[Submission, str, str | None]]:
    """Submissions of a filtered statement with their form id and service, up to `limit`."""
    inner = statement.subquery()
    rows = await session.execute(
        select(Submission, CardDefinition.form_id, CardDefinition.service_code)
        .join(CardDefinition, CardDefinition.id == Submission.card_definition_id)
        .where(Submission.id.in_(select(inner.c.id)))
        .order_by(Submission.completed_at, Submission.id)
        .limit(limit)
    )
    return [(row[0], str(row[1]), row[2]) for row in rows.all()]


async def latest_submission_by_space(
    session: AsyncSession, space_ids: Sequence[int]
) -> dict[int, tuple[Submission, str]]:
    """Space id → its most recent card and that card's form id."""
    if not space_ids:
        return {}
    latest = (
        select(Submission.public_space_id, func.max(Submission.id).label("last_id"))
        .where(Submission.public_space_id.in_(list(space_ids)))
        .group_by(Submission.public_space_id)
        .subquery()
    )
    rows = await session.execute(
        select(Submission, CardDefinition.form_id)
        .join(latest, latest.c.last_id == Submission.id)
        .join(CardDefinition, CardDefinition.id == Submission.card_definition_id)
    )
    return {int(row[0].public_space_id or 0): (row[0], str(row[1])) for row in rows.all()}


# ---------------------------------------------------------------- evidence reports


async def discrepancies_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[Discrepancy]:
    """Discrepancies by id, in the order asked (missing ids are left out)."""
    if not ids:
        return []
    rows = await session.scalars(select(Discrepancy).where(Discrepancy.id.in_(list(ids))))
    found = {row.id: row for row in rows.all()}
    return [found[i] for i in ids if i in found]


async def contracts_by_ids(
    session: AsyncSession, ids: Sequence[int]
) -> dict[int, tuple[Contract, Company | None]]:
    """Contract id → the contract and its company."""
    if not ids:
        return {}
    rows = await session.execute(
        select(Contract, Company)
        .outerjoin(Company, Company.id == Contract.company_id)
        .where(Contract.id.in_(list(ids)))
    )
    return {row[0].id: (row[0], row[1]) for row in rows.all()}


async def companies_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Company]:
    """Company id → company."""
    if not ids:
        return {}
    rows = await session.scalars(select(Company).where(Company.id.in_(list(ids))))
    return {row.id: row for row in rows.all()}


async def overdue_unescalated(session: AsyncSession, now: datetime) -> list[Discrepancy]:
    """Unresolved discrepancies past their deadline that were never escalated."""
    rows = await session.scalars(
        select(Discrepancy)
        .where(
            Discrepancy.status.in_(("open", "notified", "acknowledged")),
            Discrepancy.escalated_at.is_(None),
            (Discrepancy.overdue_at.is_not(None))
            | ((Discrepancy.due_at.is_not(None)) & (Discrepancy.due_at < now)),
        )
        .order_by(Discrepancy.directorate_id, Discrepancy.id)
    )
    return list(rows.all())


def submissions_statement(
    *,
    completed_from: datetime | None,
    completed_to: datetime | None,
    colonia_id: int | None,
    contract_id: int | None,
    form_id: str | None,
) -> Select[Any]:
    """The submissions an export's filters select."""
    statement = select(Submission.id)
    if completed_from is not None:
        statement = statement.where(Submission.completed_at >= completed_from)
    if completed_to is not None:
        statement = statement.where(Submission.completed_at < completed_to)
    if colonia_id is not None:
        statement = statement.where(Submission.colonia_id == colonia_id)
    if contract_id is not None:
        statement = statement.where(Submission.contract_id == contract_id)
    if form_id is not None:
        statement = statement.where(
            Submission.card_definition_id.in_(
                select(CardDefinition.id).where(CardDefinition.form_id == form_id)
            )
        )
    return statement


async def spaces_page(
    session: AsyncSession,
    *,
    colonia_id: int | None,
    limit: int,
    offset: int,
    space_ids: Sequence[int] | None = None,
) -> tuple[list[SpaceWithLayer], int]:
    """One page of spaces (optionally only these ids) with their layers, and how many."""
    base = select(PublicSpace.id)
    if space_ids is not None:
        base = base.where(PublicSpace.id.in_(list(space_ids)))
    if colonia_id is not None:
        base = base.where(PublicSpace.colonia_id == colonia_id)
    total = int(
        (await session.execute(select(func.count()).select_from(base.subquery()))).scalar_one()
    )
    ids = list(
        (await session.execute(base.order_by(PublicSpace.id).limit(limit).offset(offset)))
        .scalars()
        .all()
    )
    rows = await spaces_with_layers(session, space_ids=ids)
    rows.sort(key=lambda r: r.space.id)
    return rows, total


async def failed_submission_ids(session: AsyncSession, submission_ids: Sequence[int]) -> set[int]:
    """The cards among these that are evidence of some discrepancy (they found a failure)."""
    if not submission_ids:
        return set()
    rows = await session.scalars(
        select(DiscrepancyEvidence.submission_id)
        .where(DiscrepancyEvidence.submission_id.in_(list(submission_ids)))
        .distinct()
    )
    return set(rows.all())


async def unresolved_discrepancy_counts(
    session: AsyncSession, space_ids: Sequence[int]
) -> dict[int, int]:
    """Space id → discrepancies still open, notified or acknowledged."""
    if not space_ids:
        return {}
    rows = await session.execute(
        select(Discrepancy.public_space_id, func.count())
        .where(
            Discrepancy.public_space_id.in_(list(space_ids)),
            Discrepancy.status.in_(("open", "notified", "acknowledged")),
        )
        .group_by(Discrepancy.public_space_id)
    )
    return {int(r[0]): int(r[1]) for r in rows.all()}


async def form_of_evidence(session: AsyncSession, discrepancy_ids: Sequence[int]) -> dict[int, str]:
    """Discrepancy id → the card form id of its first evidence (its Open311 service code)."""
    if not discrepancy_ids:
        return {}
    rows = await session.execute(
        select(DiscrepancyEvidence.discrepancy_id, CardDefinition.form_id)
        .join(Submission, Submission.id == DiscrepancyEvidence.submission_id)
        .join(CardDefinition, CardDefinition.id == Submission.card_definition_id)
        .where(DiscrepancyEvidence.discrepancy_id.in_(list(discrepancy_ids)))
        .order_by(DiscrepancyEvidence.discrepancy_id, DiscrepancyEvidence.id)
    )
    out: dict[int, str] = {}
    for discrepancy_id, form_id in rows.all():
        out.setdefault(int(discrepancy_id), str(form_id))
    return out


async def discrepancies_observed_between(
    session: AsyncSession, start: datetime, end: datetime
) -> list[Discrepancy]:
    """Discrepancies first observed in [start, end], newest first."""
    rows = await session.scalars(
        select(Discrepancy)
        .where(Discrepancy.first_observed_at >= start, Discrepancy.first_observed_at <= end)
        .order_by(Discrepancy.first_observed_at.desc(), Discrepancy.id.desc())
    )
    return list(rows.all())


async def submissions_of_spaces(
    session: AsyncSession,
    space_ids: Sequence[int],
    *,
    since: datetime | None,
    until: datetime | None,
) -> list[tuple[Submission, str]]:
    """Cards of these spaces in the period, with their form id, oldest first."""
    if not space_ids:
        return []
    statement = (
        select(Submission, CardDefinition.form_id)
        .join(CardDefinition, CardDefinition.id == Submission.card_definition_id)
        .where(Submission.public_space_id.in_(list(space_ids)))
        .order_by(Submission.completed_at, Submission.id)
    )
    if since is not None:
        statement = statement.where(Submission.completed_at >= since)
    if until is not None:
        statement = statement.where(Submission.completed_at < until)
    return [(row[0], str(row[1])) for row in (await session.execute(statement)).all()]


async def unresolved_discrepancies(
    session: AsyncSession,
    *,
    contract_id: int | None = None,
    space_ids: Sequence[int] | None = None,
    colonia_id: int | None = None,
) -> list[Discrepancy]:
    """Open, notified or acknowledged discrepancies of a contract, spaces or colonia."""
    condition = None
    if contract_id is not None:
        condition = Discrepancy.contract_id == contract_id
    if space_ids:
        by_space = Discrepancy.public_space_id.in_(list(space_ids))
        condition = by_space if condition is None else condition | by_space
    if colonia_id is not None:
        by_colonia = Discrepancy.colonia_id == colonia_id
        condition = by_colonia if condition is None else condition | by_colonia
    if condition is None:
        return []
    rows = await session.scalars(
        select(Discrepancy)
        .where(condition, Discrepancy.status.in_(("open", "notified", "acknowledged")))
        .order_by(Discrepancy.period_start.desc(), Discrepancy.id.desc())
    )
    return list(rows.all())
