"""Card definitions, submissions and quiz attempts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.storage.models import (
    CardDefinition,
    Contract,
    Layer,
    PublicSpace,
    QuizAttempt,
    Submission,
)


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


async def add_quiz_attempt(session: AsyncSession, attempt: QuizAttempt) -> QuizAttempt:
    """Insert a quiz attempt."""
    session.add(attempt)
    await session.flush()
    return attempt


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
