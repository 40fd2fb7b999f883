"""Staff API of the evidence domain: discrepancies, directorates, status rows, resolution.

Viewers read everything; staff move a discrepancy along its lifecycle (every change is kept
as history and told to the guardians of its evidence), manage directorates and refresh;
admins also delete a directorate.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from guardianes.api.auth import (
    DEFAULT_PAGE,
    AdminDep,
    IdPath,
    IdQuery,
    LimitQuery,
    OffsetQuery,
    StaffDep,
    ViewerDep,
)
from guardianes.api.schemas import NO_NUL, Page, page_of
from guardianes.conversations.obligations import ObligationCode
from guardianes.domain.enums import DiscrepancyKind, DiscrepancyStatus, EvidenceStrength
from guardianes.services import evidence
from guardianes.services.evidence_imports import (
    DirectorateConflictError,
    DirectorateFields,
    create_directorate,
    delete_directorate,
    update_directorate,
)
from guardianes.services.evidence_reports import ResolutionFigures, resolution_report
from guardianes.storage.repositories import contracts as contracts_repo
from guardianes.storage.repositories import directorates as directorates_repo
from guardianes.storage.repositories import evidence as repo
from guardianes.storage.repositories.evidence import DiscrepancyFilter
from guardianes.storage.types import utcnow
from guardianes.web.deps import RuntimeDep, SessionDep

PREFIX = "/api/v1"
router = APIRouter(prefix=PREFIX)
MAX_NOTE = 2000
SERVICE_CODE = r"^[a-z][a-z0-9_]{0,63}$"
# Enough to catch a name pasted into the e-mail field; the SMTP server has the last word.
EMAIL = r"^[^@\s\x00]{1,64}@[^@\s\x00]+\.[^@\s\x00]+$"
Email = Annotated[str | None, Field(max_length=300, pattern=EMAIL)]


class _Orm(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# ---------------------------------------------------------------- schemas


class DiscrepancyPublic(_Orm):
    """A failure guardians found that the authority reported done, or did not report."""

    id: int
    public_space_id: int
    service_code: str
    obligation: str
    period_start: date
    period_end: date
    kind: DiscrepancyKind
    status: DiscrepancyStatus
    reported_status: str | None
    status_report_id: int | None
    contract_id: int | None
    contract_number: str | None
    company_id: int | None
    responsible_name: str | None
    responsible_type: str | None
    directorate_id: int | None
    colonia_id: int | None
    guardian_count: int
    evidence_count: int
    strength: EvidenceStrength
    first_observed_at: datetime
    last_observed_at: datetime
    due_at: datetime | None
    notified_at: datetime | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    overdue_at: datetime | None
    escalated_at: datetime | None
    last_note: str | None
    created_at: datetime
    updated_at: datetime


class EvidencePhotoPublic(BaseModel):
    """A photo of an evidence card; `reused_media_id` names an earlier near-copy."""

    id: int
    url: str
    perceptual_hash: str | None
    reused_media_id: int | None
    reused: bool


class EvidencePublic(BaseModel):
    """One failed answer of one card backing the discrepancy."""

    submission_id: int
    guardian_id: int
    question: str
    answer: Any
    is_repeat: bool
    observed_at: datetime
    latitude: float | None
    longitude: float | None
    photos: list[EvidencePhotoPublic]


class EventPublic(_Orm):
    """One status change: who, when, why."""

    from_status: str | None
    to_status: str
    actor: str
    note: str | None
    created_at: datetime


class ConfirmationPublic(_Orm):
    """A "¿Ya quedó?" asked of a guardian of the evidence, and the answer."""

    id: int
    guardian_id: int
    asked_at: datetime
    answer: str | None
    answered_at: datetime | None
    media_path: str | None


class DiscrepancyDetail(DiscrepancyPublic):
    """A discrepancy with its evidence, history and confirmations."""

    space_name: str
    space_code: str | None
    company_name: str | None
    directorate_name: str | None
    evidence: list[EvidencePublic]
    history: list[EventPublic]
    confirmations: list[ConfirmationPublic]


class DiscrepancyChange(BaseModel):
    """Move a discrepancy: open > notified > acknowledged > resolved | dismissed (or reopen)."""

    model_config = ConfigDict(extra="forbid")

    status: DiscrepancyStatus
    note: Annotated[str | None, Field(max_length=MAX_NOTE, pattern=NO_NUL)] = None


class DirectoratePublic(_Orm):
    """A municipal unit in charge of a service."""

    id: int
    name: str
    service_code: str | None
    notification_email: str | None
    notification_address: str | None
    head_name: str | None
    head_email: str | None
    phone: str | None
    created_at: datetime
    updated_at: datetime


Name = Annotated[str, Field(min_length=1, max_length=300, pattern=NO_NUL)]
OptionalText = Annotated[str | None, Field(max_length=300, pattern=NO_NUL)]


class DirectorateCreate(BaseModel):
    """A new directorate."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    service_code: Annotated[str | None, Field(pattern=SERVICE_CODE)] = None
    notification_email: Email = None
    notification_address: Annotated[str | None, Field(max_length=1000, pattern=NO_NUL)] = None
    head_name: OptionalText = None
    head_email: Email = None
    phone: Annotated[str | None, Field(max_length=60, pattern=NO_NUL)] = None


class DirectorateUpdate(BaseModel):
    """Fields of a directorate to change (only those sent)."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    service_code: Annotated[str | None, Field(pattern=SERVICE_CODE)] = None
    notification_email: Email = None
    notification_address: Annotated[str | None, Field(max_length=1000, pattern=NO_NUL)] = None
    head_name: OptionalText = None
    head_email: Email = None
    phone: Annotated[str | None, Field(max_length=60, pattern=NO_NUL)] = None


class StatusReportPublic(_Orm):
    """One row of a status file: what the authority says about a space and period."""

    id: int
    public_space_id: int
    service_code: str
    obligation: str
    period_start: date
    period_end: date
    status: str
    source: str
    note: str | None
    source_file: str | None
    line: int | None
    created_at: datetime
    updated_at: datetime


class ResolutionFiguresPublic(BaseModel):
    """Resolution figures of one directorate or contract."""

    key: str
    name: str
    total: int
    open: int
    dismissed: int
    resolved_reported: int
    resolved_confirmed: int
    reported_rate: float | None
    confirmed_rate: float | None
    median_days_to_resolution: float | None
    overdue: int


class ResolutionReportPublic(BaseModel):
    """Resolution rates (reported by the authority, confirmed by guardians) and times."""

    generated_at: datetime
    directorates: list[ResolutionFiguresPublic]
    contracts: list[ResolutionFiguresPublic]


class RefreshPublic(BaseModel):
    """What a full recomputation changed."""

    created: int
    updated: int
    removed: int
    dismissed: int
    reopened: int
    evidence_added: int


def _not_found(what: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{what} not found")


# ---------------------------------------------------------------- discrepancies


@router.get("/discrepancies", tags=["evidence"])
async def list_discrepancies(
    *,
    session: SessionDep,
    _: ViewerDep,
    status_: Annotated[DiscrepancyStatus | None, Query(alias="status")] = None,
    service: Annotated[str | None, Query(pattern=SERVICE_CODE)] = None,
    colonia_id: IdQuery = None,
    contract_id: IdQuery = None,
    company_id: IdQuery = None,
    directorate_id: IdQuery = None,
    space_id: IdQuery = None,
    strength: EvidenceStrength | None = None,
    kind: DiscrepancyKind | None = None,
    obligation: ObligationCode | None = None,
    overdue: bool | None = None,
    period_from: Annotated[date | None, Query(alias="from")] = None,
    period_to: Annotated[date | None, Query(alias="to")] = None,
    limit: LimitQuery = DEFAULT_PAGE,
    offset: OffsetQuery = 0,
) -> Page[DiscrepancyPublic]:
    """Discrepancies, most recently observed first; `from`/`to` match their period."""
    filters = DiscrepancyFilter(
        status=status_,
        service_code=service,
        colonia_id=colonia_id,
        contract_id=contract_id,
        company_id=company_id,
        directorate_id=directorate_id,
        public_space_id=space_id,
        strength=strength,
        kind=kind,
        obligation=obligation,
        overdue=overdue,
        period_from=period_from,
        period_to=period_to,
    )
    page = await repo.list_discrepancies(session, filters, limit=limit, offset=offset)
    return page_of(page, DiscrepancyPublic.model_validate, limit=limit, offset=offset)


async def _detail(session: SessionDep, discrepancy_id: int) -> DiscrepancyDetail:
    row = await repo.get_discrepancy(session, discrepancy_id)
    if row is None:
        raise _not_found("discrepancy")
    space, _layer = await repo.space_context(session, row.public_space_id)
    company = await contracts_repo.get_company(session, row.company_id) if row.company_id else None
    directorate = (
        await directorates_repo.get(session, row.directorate_id) if row.directorate_id else None
    )
    evidence_rows = await repo.evidence_of(session, row.id)
    submissions = await repo.submissions_by_ids(session, (e.submission_id for e in evidence_rows))
    photos = await repo.media_of_submissions(session, submissions)
    items = []
    for item in evidence_rows:
        card = submissions.get(item.submission_id)
        items.append(
            EvidencePublic(
                submission_id=item.submission_id,
                guardian_id=item.guardian_id,
                question=item.question,
                answer=item.answer,
                is_repeat=item.is_repeat,
                observed_at=item.observed_at,
                latitude=card.latitude if card else None,
                longitude=card.longitude if card else None,
                photos=[
                    EvidencePhotoPublic(
                        id=m.id,
                        url=f"{PREFIX}/submissions/{m.submission_id}/media/{m.id}",
                        perceptual_hash=m.perceptual_hash,
                        reused_media_id=m.reused_media_id,
                        reused=m.reused_media_id is not None,
                    )
                    for m in photos.get(item.submission_id, [])
                ],
            )
        )
    return DiscrepancyDetail(
        **DiscrepancyPublic.model_validate(row).model_dump(),
        space_name=space.name,
        space_code=space.source_code,
        company_name=company.name if company else None,
        directorate_name=directorate.name if directorate else None,
        evidence=items,
        history=[EventPublic.model_validate(e) for e in await repo.events_of(session, row.id)],
        confirmations=[
            ConfirmationPublic.model_validate(c)
            for c in await repo.confirmations_of(session, row.id)
        ],
    )


@router.get("/discrepancies/{discrepancy_id}", tags=["evidence"])
async def get_discrepancy(
    session: SessionDep, _: ViewerDep, discrepancy_id: IdPath
) -> DiscrepancyDetail:
    """One discrepancy with its evidence (answers, photos, places, times), history and answers."""
    return await _detail(session, discrepancy_id)


@router.patch("/discrepancies/{discrepancy_id}", tags=["evidence"])
async def change_discrepancy(
    session: SessionDep, token: StaffDep, discrepancy_id: IdPath, body: DiscrepancyChange
) -> DiscrepancyDetail:
    """Move a discrepancy along its lifecycle; its guardians are told, in their language."""
    try:
        await evidence.change_status(
            session, discrepancy_id, body.status, actor=token.name, note=body.note
        )
    except evidence.DiscrepancyNotFoundError as error:
        raise _not_found("discrepancy") from error
    except evidence.LifecycleError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(error)) from error
    return await _detail(session, discrepancy_id)


@router.post("/discrepancies/refresh", tags=["evidence"])
async def refresh_discrepancies(
    session: SessionDep, runtime: RuntimeDep, _: StaffDep
) -> RefreshPublic:
    """Recompute every discrepancy from every card and status row (changes nothing twice)."""
    result = await evidence.refresh_all(session, settings=runtime.settings)
    return RefreshPublic(
        created=result.created,
        updated=result.updated,
        removed=result.removed,
        dismissed=result.dismissed,
        reopened=result.reopened,
        evidence_added=result.evidence_added,
    )


# ---------------------------------------------------------------- status rows


@router.get("/status-reports", tags=["evidence"])
async def list_status_reports(
    *,
    session: SessionDep,
    _: ViewerDep,
    space_id: IdQuery = None,
    service: Annotated[str | None, Query(pattern=SERVICE_CODE)] = None,
    limit: LimitQuery = DEFAULT_PAGE,
    offset: OffsetQuery = 0,
) -> Page[StatusReportPublic]:
    """Imported status rows, latest period first."""
    page = await repo.list_status_reports(
        session, public_space_id=space_id, service_code=service, limit=limit, offset=offset
    )
    return page_of(page, StatusReportPublic.model_validate, limit=limit, offset=offset)


# ---------------------------------------------------------------- directorates


@router.get("/directorates", tags=["evidence"])
async def list_directorates(
    *,
    session: SessionDep,
    _: ViewerDep,
    service: Annotated[str | None, Query(pattern=SERVICE_CODE)] = None,
    limit: LimitQuery = DEFAULT_PAGE,
    offset: OffsetQuery = 0,
) -> Page[DirectoratePublic]:
    """Directorates by name."""
    page = await directorates_repo.list_directorates(
        session, service_code=service, limit=limit, offset=offset
    )
    return page_of(page, DirectoratePublic.model_validate, limit=limit, offset=offset)


@router.get("/directorates/{directorate_id}", tags=["evidence"])
async def get_directorate(
    session: SessionDep, _: ViewerDep, directorate_id: IdPath
) -> DirectoratePublic:
    """One directorate."""
    row = await directorates_repo.get(session, directorate_id)
    if row is None:
        raise _not_found("directorate")
    return DirectoratePublic.model_validate(row)


@router.post("/directorates", tags=["evidence"], status_code=status.HTTP_201_CREATED)
async def post_directorate(
    session: SessionDep, _: StaffDep, body: DirectorateCreate
) -> DirectoratePublic:
    """A new directorate; the layers of its service that have none are linked to it."""
    try:
        row = await create_directorate(session, DirectorateFields(**body.model_dump()))
    except DirectorateConflictError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(error)) from error
    except ValueError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from error
    return DirectoratePublic.model_validate(row)


@router.patch("/directorates/{directorate_id}", tags=["evidence"])
async def patch_directorate(
    session: SessionDep, _: StaffDep, directorate_id: IdPath, body: DirectorateUpdate
) -> DirectoratePublic:
    """Change a directorate's name, service, e-mails, head or phone."""
    changes = body.model_dump(exclude_unset=True)
    if changes.get("name", "") is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="name cannot be empty")
    try:
        row = await update_directorate(session, directorate_id, changes)
    except DirectorateConflictError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(error)) from error
    except ValueError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from error
    if row is None:
        raise _not_found("directorate")
    return DirectoratePublic.model_validate(row)


@router.delete(
    "/directorates/{directorate_id}", tags=["evidence"], status_code=status.HTTP_204_NO_CONTENT
)
async def remove_directorate(session: SessionDep, _: AdminDep, directorate_id: IdPath) -> Response:
    """Delete a directorate no discrepancy names (409 otherwise)."""
    try:
        deleted = await delete_directorate(session, directorate_id)
    except DirectorateConflictError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(error)) from error
    if not deleted:
        raise _not_found("directorate")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------- reports


def _figures(item: ResolutionFigures) -> ResolutionFiguresPublic:
    return ResolutionFiguresPublic(
        key=item.key,
        name=item.name,
        total=item.total,
        open=item.open,
        dismissed=item.dismissed,
        resolved_reported=item.resolved_reported,
        resolved_confirmed=item.resolved_confirmed,
        reported_rate=item.reported_rate,
        confirmed_rate=item.confirmed_rate,
        median_days_to_resolution=item.median_days_to_resolution,
        overdue=item.overdue,
    )


@router.get("/reports/resolution", tags=["evidence"])
async def get_resolution_report(session: SessionDep, _: ViewerDep) -> ResolutionReportPublic:
    """Per directorate and contract: resolution rate as reported and as confirmed by
    guardians, median days to resolution, and how many are overdue."""
    report = await resolution_report(session, now=utcnow())
    return ResolutionReportPublic(
        generated_at=report.generated_at,
        directorates=[_figures(f) for f in report.directorates],
        contracts=[_figures(f) for f in report.contracts],
    )
