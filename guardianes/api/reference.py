"""Staff API reads (any role) and guardian/colonia management: thin calls to services."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import FileResponse, JSONResponse

from guardianes.api.audit import AuditDep
from guardianes.api.auth import (
    DEFAULT_PAGE,
    MAX_TEXT_QUERY,
    AdminDep,
    IdPath,
    IdQuery,
    LimitQuery,
    OffsetQuery,
    StaffDep,
    TextQuery,
    ViewerDep,
)
from guardianes.api.schemas import (
    NO_NUL,
    ColoniaPublic,
    ColoniaUpdate,
    CompanyPublic,
    ContractPublic,
    GuardianPublic,
    GuardianRoleUpdate,
    MediaPublic,
    Moment,
    Page,
    QuizAttemptPublic,
    SpacePublic,
    SubmissionPublic,
    page_of,
)
from guardianes.services import staff_tokens
from guardianes.services.delivery import ChannelName
from guardianes.services.visits import as_aware
from guardianes.storage.models import (
    Colonia,
    GuardianRole,
    GuardianStatus,
    QuizPhase,
    Submission,
)
from guardianes.storage.repositories import catalog
from guardianes.storage.repositories import staff as staff_repo
from guardianes.storage.repositories.catalog import SubmissionFilter
from guardianes.web.deps import RuntimeDep, SessionDep

PREFIX = "/api/v1"
router = APIRouter(prefix=PREFIX)
GEOJSON_LIMIT = 5000


class GeoJSONResponse(JSONResponse):
    """JSON with the GeoJSON media type (RFC 7946), so GIS tools recognise it."""

    media_type = "application/geo+json"


def _not_found(what: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{what} not found")


def _no_colonia() -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail="a lead guardian stands for a colonia and this guardian has none",
    )


# ---------------------------------------------------------------- guardians


@router.get("/guardians", tags=["guardians"])
async def list_guardians(
    *,
    session: SessionDep,
    _: ViewerDep,
    audit: AuditDep,
    colonia_id: IdQuery = None,
    role: GuardianRole | None = None,
    channel: ChannelName | None = None,
    status_: Annotated[GuardianStatus | None, Query(alias="status")] = None,
    limit: LimitQuery = DEFAULT_PAGE,
    offset: OffsetQuery = 0,
) -> Page[GuardianPublic]:
    """Guardians, filtered by colonia, role, channel or status."""
    page = await staff_repo.list_guardians(
        session,
        colonia_id=colonia_id,
        role=role,
        channel=channel,
        status=status_,
        limit=limit,
        offset=offset,
    )
    await audit.read(g.id for g in page.items)
    return page_of(page, GuardianPublic.model_validate, limit=limit, offset=offset)


@router.get("/guardians/{guardian_id}", tags=["guardians"])
async def get_guardian(
    session: SessionDep, _: ViewerDep, audit: AuditDep, guardian_id: IdPath
) -> GuardianPublic:
    """One guardian."""
    guardian = await staff_repo.get_guardian(session, guardian_id)
    if guardian is None:
        raise _not_found("guardian")
    await audit.read([guardian.id])
    return GuardianPublic.model_validate(guardian)


@router.post("/guardians/{guardian_id}/promote", tags=["guardians"])
async def promote_guardian(session: SessionDep, _: StaffDep, guardian_id: IdPath) -> GuardianPublic:
    """Make the guardian their colonia's lead (the previous lead becomes a guardian)."""
    try:
        guardian = await staff_tokens.promote_to_lead(session, guardian_id)
    except staff_tokens.GuardianNotFoundError as error:
        raise _not_found("guardian") from error
    except staff_tokens.GuardianWithoutColoniaError as error:
        raise _no_colonia() from error
    return GuardianPublic.model_validate(guardian)


@router.post("/guardians/{guardian_id}/role", tags=["guardians"])
async def set_guardian_role(
    *, session: SessionDep, _: AdminDep, guardian_id: IdPath, body: GuardianRoleUpdate
) -> GuardianPublic:
    """Set a guardian's role: `staff` may use the staff commands in chat; `lead` is promoted."""
    try:
        guardian = await staff_tokens.set_guardian_role(session, guardian_id, body.role)
    except staff_tokens.GuardianNotFoundError as error:
        raise _not_found("guardian") from error
    except staff_tokens.GuardianWithoutColoniaError as error:
        raise _no_colonia() from error
    return GuardianPublic.model_validate(guardian)


@router.post("/guardians/{guardian_id}/deactivate", tags=["guardians"])
async def deactivate_guardian(
    session: SessionDep, _: AdminDep, guardian_id: IdPath
) -> GuardianPublic:
    """Stop all messages to a guardian."""
    try:
        guardian = await staff_tokens.deactivate_guardian(session, guardian_id)
    except staff_tokens.GuardianNotFoundError as error:
        raise _not_found("guardian") from error
    return GuardianPublic.model_validate(guardian)


# ---------------------------------------------------------------- colonias and spaces


def _colonia(colonia: Colonia) -> ColoniaPublic:
    public = ColoniaPublic.model_validate(colonia)
    public.has_geometry = colonia.geometry_geojson is not None
    return public


@router.get("/colonias", tags=["colonias"])
async def list_colonias(
    *, session: SessionDep, _: ViewerDep, limit: LimitQuery = DEFAULT_PAGE, offset: OffsetQuery = 0
) -> Page[ColoniaPublic]:
    """Colonias by name."""
    page = await catalog.list_colonias(session, limit=limit, offset=offset)
    return page_of(page, _colonia, limit=limit, offset=offset)


@router.get("/colonias/{colonia_id}", tags=["colonias"])
async def get_colonia(session: SessionDep, _: ViewerDep, colonia_id: IdPath) -> ColoniaPublic:
    """One colonia."""
    colonia = await catalog.get_colonia(session, colonia_id)
    if colonia is None:
        raise _not_found("colonia")
    return _colonia(colonia)


@router.patch("/colonias/{colonia_id}", tags=["colonias"])
async def update_colonia(
    *, session: SessionDep, _: StaffDep, colonia_id: IdPath, body: ColoniaUpdate
) -> ColoniaPublic:
    """Set a colonia's training date (quizzes before it are pre-training, after it post)."""
    colonia = await catalog.get_colonia(session, colonia_id)
    if colonia is None:
        raise _not_found("colonia")
    colonia.training_date = body.training_date
    await session.flush()
    return _colonia(colonia)


@router.get("/spaces", tags=["spaces"])
async def list_spaces(
    session: SessionDep,
    _: ViewerDep,
    colonia_id: IdQuery = None,
    kind: TextQuery = None,
    limit: LimitQuery = DEFAULT_PAGE,
    offset: OffsetQuery = 0,
) -> Page[SpacePublic]:
    """Public spaces, by colonia or kind."""
    page = await catalog.list_spaces(
        session, colonia_id=colonia_id, kind=kind, limit=limit, offset=offset
    )
    return page_of(page, SpacePublic.model_validate, limit=limit, offset=offset)


@router.get("/spaces.geojson", tags=["spaces"], response_class=GeoJSONResponse)
async def spaces_geojson(
    *,
    session: SessionDep,
    _: ViewerDep,
    colonia_id: IdQuery = None,
    kind: TextQuery = None,
    limit: Annotated[int, Query(ge=1, le=GEOJSON_LIMIT)] = 1000,
    offset: OffsetQuery = 0,
) -> dict[str, Any]:
    """Public spaces as a GeoJSON FeatureCollection (paginated like every list)."""
    page = await catalog.list_spaces(
        session, colonia_id=colonia_id, kind=kind, limit=limit, offset=offset
    )
    features = [
        {
            "type": "Feature",
            "id": space.id,
            "geometry": space.geometry_geojson,
            "properties": SpacePublic.model_validate(space).model_dump(mode="json"),
        }
        for space in page.items
    ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "total": page.total,
        "limit": limit,
        "offset": offset,
    }


@router.get("/spaces/{space_id}", tags=["spaces"])
async def get_space(session: SessionDep, _: ViewerDep, space_id: IdPath) -> SpacePublic:
    """One public space."""
    space = await catalog.get_space(session, space_id)
    if space is None:
        raise _not_found("space")
    return SpacePublic.model_validate(space)


# ---------------------------------------------------------------- contracts and companies


@router.get("/contracts", tags=["contracts"])
async def list_contracts(
    *,
    session: SessionDep,
    _: ViewerDep,
    company_id: IdQuery = None,
    contract_number: TextQuery = None,
    limit: LimitQuery = DEFAULT_PAGE,
    offset: OffsetQuery = 0,
) -> Page[ContractPublic]:
    """Contracts, newest first."""
    page = await catalog.list_contracts(
        session,
        company_id=company_id,
        contract_number=contract_number,
        limit=limit,
        offset=offset,
    )
    return page_of(page, ContractPublic.model_validate, limit=limit, offset=offset)


@router.get("/contracts/{contract_id}", tags=["contracts"])
async def get_contract(session: SessionDep, _: ViewerDep, contract_id: IdPath) -> ContractPublic:
    """One contract."""
    contract = await catalog.get_contract(session, contract_id)
    if contract is None:
        raise _not_found("contract")
    return ContractPublic.model_validate(contract)


@router.get("/companies", tags=["companies"])
async def list_companies(
    *, session: SessionDep, _: ViewerDep, limit: LimitQuery = DEFAULT_PAGE, offset: OffsetQuery = 0
) -> Page[CompanyPublic]:
    """Companies by name."""
    page = await catalog.list_companies(session, limit=limit, offset=offset)
    return page_of(page, CompanyPublic.model_validate, limit=limit, offset=offset)


@router.get("/companies/{company_id}", tags=["companies"])
async def get_company(session: SessionDep, _: ViewerDep, company_id: IdPath) -> CompanyPublic:
    """One company."""
    company = await catalog.get_company(session, company_id)
    if company is None:
        raise _not_found("company")
    return CompanyPublic.model_validate(company)


# ---------------------------------------------------------------- submissions and quizzes


def _submission(submission: Submission, form_ids: dict[int, str]) -> SubmissionPublic:
    public = SubmissionPublic.model_validate(submission)
    public.form_id = form_ids.get(submission.card_definition_id)
    public.media = [
        MediaPublic(
            id=m.id,
            question=m.question,
            mime_type=m.mime_type,
            size=m.size,
            url=f"{PREFIX}/submissions/{submission.id}/media/{m.id}",
            deleted_at=m.deleted_at,
        )
        for m in submission.media
    ]
    return public


@router.get("/submissions", tags=["submissions"])
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
    # A time without offset means what staff read on the clock: GUARDIANES_TIMEZONE.
    timezone = ZoneInfo(runtime.settings.timezone)
    start = as_aware(completed_from, timezone) if completed_from else None
    end = as_aware(completed_to, timezone) if completed_to else None
    if start is not None and end is not None and start >= end:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail="completed_from must be before completed_to",
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


@router.get("/submissions/{submission_id}", tags=["submissions"])
async def get_submission(
    session: SessionDep, _: ViewerDep, audit: AuditDep, submission_id: IdPath
) -> SubmissionPublic:
    """One submission with links to its photos."""
    submission = await catalog.get_submission(session, submission_id)
    if submission is None:
        raise _not_found("submission")
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


@router.get(
    "/submissions/{submission_id}/media/{media_id}",
    tags=["submissions"],
    response_class=FileResponse,
)
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
    media = await catalog.get_media(session, submission_id, media_id)
    if media is None:
        raise _not_found("photo")
    if media.deleted_at is not None:
        raise HTTPException(
            status.HTTP_410_GONE,
            detail=f"photo deleted ({media.deletion_reason}) at {media.deleted_at.isoformat()}",
        )
    submission = await catalog.get_submission(session, submission_id)
    await audit.read([submission.guardian_id if submission else None])
    path = _media_file(Path(runtime.settings.media_dir), media.path)
    if path is None:
        raise _not_found("photo file")
    # Photos of people and their streets: no shared cache may keep them, no type sniffing.
    return FileResponse(
        path,
        media_type=media.mime_type,
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/quiz-attempts", tags=["quizzes"])
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
