"""Quiz attempts (pre and post training), audited like every read of guardians' data."""

from __future__ import annotations

from fastapi import APIRouter

from guardianes.api.audit import AuditDep
from guardianes.api.auth import DEFAULT_PAGE, IdQuery, LimitQuery, OffsetQuery, TextQuery, ViewerDep
from guardianes.api.deps import SessionDep
from guardianes.api.paths import PREFIX
from guardianes.api.schemas import Page, QuizAttemptPublic, page_of
from guardianes.storage.models import QuizPhase
from guardianes.storage.repositories import catalog

router = APIRouter(prefix=PREFIX, tags=["quizzes"])


@router.get("/quiz-attempts")
async def list_quiz_attempts(
    *,
    session: SessionDep,
    _: ViewerDep,
    audit: AuditDep,
    guardian_id: IdQuery = None,
    form_id: TextQuery = None,
    phase: QuizPhase | None = None,
    limit: LimitQuery = DEFAULT_PAGE,
    offset: OffsetQuery = 0,
) -> Page[QuizAttemptPublic]:
    """Quiz attempts, newest first."""
    page = await catalog.list_quiz_attempts(
        session, guardian_id=guardian_id, form_id=form_id, phase=phase, limit=limit, offset=offset
    )
    await audit.read(q.guardian_id for q in page.items)
    return page_of(page, QuizAttemptPublic.model_validate, limit=limit, offset=offset)
