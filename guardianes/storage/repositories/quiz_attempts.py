"""Training quiz attempts: stored once per guardian, quiz and phase; listed for staff."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.storage.models import QuizAttempt
from guardianes.storage.repositories.pagination import PageRows, paginate


async def add_quiz_attempt(session: AsyncSession, attempt: QuizAttempt) -> QuizAttempt:
    """Insert a quiz attempt."""
    session.add(attempt)
    await session.flush()
    return attempt


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
