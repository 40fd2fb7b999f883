"""Read queries of the staff API: reference data and collected records, always paginated."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.storage.models import (
    CardDefinition,
    Colonia,
    Company,
    Contract,
    Layer,
    PublicSpace,
    QuizAttempt,
    Submission,
    SubmissionMedia,
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageRows(Generic[T]):
    """One page of rows and the total the filters match."""

    items: Sequence[T]
    total: int


async def paginate(
    session: AsyncSession, statement: Select[Any], *, limit: int, offset: int
) -> PageRows[Any]:
    """Run `statement` for one page and count every row it matches."""
    counted = select(func.count()).select_from(statement.order_by(None).subquery())
    total = int((await session.execute(counted)).scalar_one())
    rows = (await session.execute(statement.limit(limit).offset(offset))).scalars().all()
    return PageRows(items=rows, total=total)


# ---------------------------------------------------------------- reference data


async def list_colonias(session: AsyncSession, *, limit: int, offset: int) -> PageRows[Colonia]:
    """Colonias by name."""
    statement = select(Colonia).order_by(Colonia.name, Colonia.id)
    return await paginate(session, statement, limit=limit, offset=offset)


async def get_colonia(session: AsyncSession, colonia_id: int) -> Colonia | None:
    """One colonia."""
    return await session.get(Colonia, colonia_id)


def _spaces_statement(colonia_id: int | None, kind: str | None) -> Select[Any]:
    statement = select(PublicSpace).order_by(PublicSpace.id)
    if colonia_id is not None:
        statement = statement.where(PublicSpace.colonia_id == colonia_id)
    if kind is not None:
        statement = statement.where(PublicSpace.kind == kind)
    return statement


async def list_spaces(
    session: AsyncSession,
    *,
    colonia_id: int | None,
    kind: str | None,
    limit: int,
    offset: int,
) -> PageRows[PublicSpace]:
    """Public spaces, optionally of one colonia or kind."""
    statement = _spaces_statement(colonia_id, kind)
    return await paginate(session, statement, limit=limit, offset=offset)


async def get_space(session: AsyncSession, space_id: int) -> PublicSpace | None:
    """One public space."""
    return await session.get(PublicSpace, space_id)


async def list_contracts(
    session: AsyncSession,
    *,
    company_id: int | None,
    contract_number: str | None,
    limit: int,
    offset: int,
) -> PageRows[Contract]:
    """Contracts, newest first."""
    statement = select(Contract).order_by(Contract.contract_date.desc(), Contract.id.desc())
    if company_id is not None:
        statement = statement.where(Contract.company_id == company_id)
    if contract_number is not None:
        statement = statement.where(Contract.contract_number == contract_number)
    return await paginate(session, statement, limit=limit, offset=offset)


async def get_contract(session: AsyncSession, contract_id: int) -> Contract | None:
    """One contract."""
    return await session.get(Contract, contract_id)


async def list_companies(session: AsyncSession, *, limit: int, offset: int) -> PageRows[Company]:
    """Companies by name."""
    statement = select(Company).order_by(Company.name, Company.id)
    return await paginate(session, statement, limit=limit, offset=offset)


async def get_company(session: AsyncSession, company_id: int) -> Company | None:
    """One company."""
    return await session.get(Company, company_id)


async def list_layers(session: AsyncSession, *, limit: int, offset: int) -> PageRows[Layer]:
    """Imported map layers, most recently changed first (the import history)."""
    statement = select(Layer).order_by(Layer.updated_at.desc(), Layer.id.desc())
    return await paginate(session, statement, limit=limit, offset=offset)


# ---------------------------------------------------------------- collected records


@dataclass(frozen=True, slots=True)
class SubmissionFilter:
    """Filters of the submissions list; None means any."""

    completed_from: datetime | None = None
    completed_to: datetime | None = None
    colonia_id: int | None = None
    space_id: int | None = None
    contract_id: int | None = None
    form_id: str | None = None
    guardian_id: int | None = None


async def list_submissions(
    session: AsyncSession, filters: SubmissionFilter, *, limit: int, offset: int
) -> PageRows[Submission]:
    """Submissions, newest first, with their media loaded."""
    statement = select(Submission).order_by(Submission.completed_at.desc(), Submission.id.desc())
    if filters.completed_from is not None:
        statement = statement.where(Submission.completed_at >= filters.completed_from)
    if filters.completed_to is not None:
        statement = statement.where(Submission.completed_at < filters.completed_to)
    if filters.colonia_id is not None:
        statement = statement.where(Submission.colonia_id == filters.colonia_id)
    if filters.space_id is not None:
        statement = statement.where(Submission.public_space_id == filters.space_id)
    if filters.contract_id is not None:
        statement = statement.where(Submission.contract_id == filters.contract_id)
    if filters.guardian_id is not None:
        statement = statement.where(Submission.guardian_id == filters.guardian_id)
    if filters.form_id is not None:
        statement = statement.where(
            Submission.card_definition_id.in_(
                select(CardDefinition.id).where(CardDefinition.form_id == filters.form_id)
            )
        )
    return await paginate(session, statement, limit=limit, offset=offset)


async def get_submission(session: AsyncSession, submission_id: int) -> Submission | None:
    """One submission with its media."""
    return await session.get(Submission, submission_id)


async def form_ids_of_definitions(session: AsyncSession, ids: Sequence[int]) -> dict[int, str]:
    """Card definition id → form id, for labelling submissions."""
    if not ids:
        return {}
    result = await session.execute(
        select(CardDefinition.id, CardDefinition.form_id).where(CardDefinition.id.in_(set(ids)))
    )
    return {row[0]: row[1] for row in result.all()}


async def get_media(
    session: AsyncSession, submission_id: int, media_id: int
) -> SubmissionMedia | None:
    """One photo of one submission."""
    media = await session.get(SubmissionMedia, media_id)
    if media is None or media.submission_id != submission_id:
        return None
    return media


async def list_quiz_attempts(
    session: AsyncSession,
    *,
    guardian_id: int | None,
    form_id: str | None,
    phase: str | None,
    limit: int,
    offset: int,
) -> PageRows[QuizAttempt]:
    """Quiz attempts, newest first."""
    statement = select(QuizAttempt).order_by(QuizAttempt.completed_at.desc(), QuizAttempt.id.desc())
    if guardian_id is not None:
        statement = statement.where(QuizAttempt.guardian_id == guardian_id)
    if form_id is not None:
        statement = statement.where(QuizAttempt.form_id == form_id)
    if phase is not None:
        statement = statement.where(QuizAttempt.phase == phase)
    return await paginate(session, statement, limit=limit, offset=offset)
