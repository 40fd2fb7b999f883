"""Submissions (filled cards) and their photos, audited like every read of guardians' data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import FileResponse

from guardianes.api.audit import AuditDep
from guardianes.api.auth import (
    DEFAULT_PAGE,
    MAX_TEXT_QUERY,
    IdPath,
    IdQuery,
    LimitQuery,
    OffsetQuery,
    ViewerDep,
)
from guardianes.api.deps import RuntimeDep, SessionDep
from guardianes.api.errors import found, not_found
from guardianes.api.params import local_period
from guardianes.api.paths import PREFIX, media_url
from guardianes.api.responses import PRIVATE
from guardianes.api.schemas import NO_NUL, MediaPublic, Moment, Page, SubmissionPublic, page_of
from guardianes.storage.models import Submission
from guardianes.storage.repositories import catalog
from guardianes.storage.repositories.catalog import SubmissionFilter

router = APIRouter(prefix=PREFIX, tags=["submissions"])


def _submission(submission: Submission, form_ids: dict[int, str]) -> SubmissionPublic:
    public = SubmissionPublic.model_validate(submission)
    public.form_id = form_ids.get(submission.card_definition_id)
    public.media = [
        MediaPublic(
            id=m.id,
            question=m.question,
            mime_type=m.mime_type,
            size=m.size,
            url=media_url(submission.id, m.id),
            deleted_at=m.deleted_at,
        )
        for m in submission.media
    ]
    return public


@router.get("/submissions")
async def list_submissions(
    *,
    session: SessionDep,
    runtime: RuntimeDep,
    _: ViewerDep,
    audit: AuditDep,
    completed_from: Annotated[
        Moment | None, Query(description="From this time on; without offset, local time.")
    ] = None,
    completed_to: Annotated[
        Moment | None, Query(description="Before this time (exclusive); local without offset.")
    ] = None,
    colonia_id: IdQuery = None,
    space_id: IdQuery = None,
    contract_id: IdQuery = None,
    card: Annotated[
        str | None, Query(max_length=MAX_TEXT_QUERY, pattern=NO_NUL, description="Card form id.")
    ] = None,
    guardian_id: IdQuery = None,
    limit: LimitQuery = DEFAULT_PAGE,
    offset: OffsetQuery = 0,
) -> Page[SubmissionPublic]:
    """Submissions, newest first, by completion time range, colonia, space, contract or card."""
    start, end = local_period(
        runtime, completed_from, completed_to, names=("completed_from", "completed_to")
    )
    filters = SubmissionFilter(
        completed_from=start,
        completed_to=end,
        colonia_id=colonia_id,
        space_id=space_id,
        contract_id=contract_id,
        form_id=card,
        guardian_id=guardian_id,
    )
    page = await catalog.list_submissions(session, filters, limit=limit, offset=offset)
    await audit.read(s.guardian_id for s in page.items)
    form_ids = await catalog.form_ids_of_definitions(
        session, [s.card_definition_id for s in page.items]
    )
    return page_of(page, lambda s: _submission(s, form_ids), limit=limit, offset=offset)


@router.get("/submissions/{submission_id}")
async def get_submission(
    session: SessionDep, _: ViewerDep, audit: AuditDep, submission_id: IdPath
) -> SubmissionPublic:
    """One submission with links to its photos."""
    submission = found(await catalog.get_submission(session, submission_id), "submission")
    await audit.read([submission.guardian_id])
    form_ids = await catalog.form_ids_of_definitions(session, [submission.card_definition_id])
    return _submission(submission, form_ids)


def _media_file(media_dir: Path, relative: str) -> Path | None:
    """The stored photo's path, refusing anything outside the media folder."""
    root = media_dir.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


@router.get("/submissions/{submission_id}/media/{media_id}", response_class=FileResponse)
async def get_submission_media(
    *,
    session: SessionDep,
    runtime: RuntimeDep,
    _: ViewerDep,
    audit: AuditDep,
    submission_id: IdPath,
    media_id: IdPath,
) -> FileResponse:
    """A photo of a submission (authenticated staff only; media is never public)."""
    media = found(await catalog.get_media(session, submission_id, media_id), "photo")
    if media.deleted_at is not None:
        raise HTTPException(
            status.HTTP_410_GONE,
            detail=f"photo deleted ({media.deletion_reason}) at {media.deleted_at.isoformat()}",
        )
    submission = await catalog.get_submission(session, submission_id)
    await audit.read([submission.guardian_id if submission else None])
    path = _media_file(Path(runtime.settings.media_dir), media.path)
    if path is None:
        raise not_found("photo file")
    return FileResponse(path, media_type=media.mime_type, headers=PRIVATE)
