"""Card definitions and submissions: storing them, and listing them for staff."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.storage.models import (
    CardDefinition,
    Contract,
    Layer,
    PublicSpace,
    Submission,
    SubmissionMedia,
)
from guardianes.storage.repositories.pagination import PageRows, paginate


async def get_or_create_card_definition(
    session: AsyncSession,
    *,
    form_id: str,
    version: str,
    kind: str,
    title: str,
    service_code: str | None,
    source_file: str | None,
    questions: list[Any] | None = None,
) -> CardDefinition:
    """The stored definition of a form version, created the first time it is used.

    `questions` (the obligation rules) fill a definition stored before they existed.
    """
    result = await session.execute(
        select(CardDefinition).where(
            CardDefinition.form_id == form_id, CardDefinition.version == version
        )
    )
    definition = result.scalar_one_or_none()
    if definition is None:
        definition = CardDefinition(
            form_id=form_id,
            version=version,
            kind=kind,
            title=title,
            service_code=service_code,
            source_file=source_file,
            questions=questions or [],
        )
        session.add(definition)
        await session.flush()
    elif questions and not definition.questions:
        definition.questions = questions
        await session.flush()
    return definition


async def add_submission(session: AsyncSession, submission: Submission) -> Submission:
    """Insert a submission with its media rows."""
    session.add(submission)
    await session.flush()
    return submission


async def space_responsibility(
    session: AsyncSession, space_id: int
) -> tuple[int | None, str | None, int | None]:
    """(contract id, responsible party, colonia id) of a public space, from its layer."""
    row = (
        await session.execute(
            select(Layer.contract_number, Layer.responsible_name, PublicSpace.colonia_id)
            .join(Layer, Layer.id == PublicSpace.layer_id)
            .where(PublicSpace.id == space_id)
        )
    ).one_or_none()
    if row is None:
        return None, None, None
    contract_number, responsible, colonia_id = row
    contract_id = None
    if contract_number:
        contract_id = (
            await session.execute(
                select(Contract.id)
                .where(Contract.contract_number == contract_number)
                .order_by(Contract.id)
                .limit(1)
            )
        ).scalar_one_or_none()
    return contract_id, responsible, colonia_id


# ---------------------------------------------------------------- staff listings


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
