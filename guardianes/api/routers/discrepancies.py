"""Discrepancies: what guardians found failed that the authority reported done, or did not.

Viewers read them with their evidence; staff move one along its lifecycle (every change is
kept as history and told to the guardians of its evidence) or recompute them all.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from guardianes.api.auth import (
    DEFAULT_PAGE,
    IdPath,
    IdQuery,
    LimitQuery,
    OffsetQuery,
    StaffDep,
    ViewerDep,
)
from guardianes.api.deps import RuntimeDep, SessionDep
from guardianes.api.errors import conflict, found, not_found
from guardianes.api.paths import PREFIX, media_url
from guardianes.api.schemas import NO_NUL, SERVICE_CODE, Orm, Page, page_of
from guardianes.conversations.obligations import ObligationCode
from guardianes.services import evidence
from guardianes.storage.models_evidence import (
    DiscrepancyKind,
    DiscrepancyStatus,
    EvidenceStrength,
)
from guardianes.storage.repositories import directorates as directorates_repo
from guardianes.storage.repositories import evidence as repo
from guardianes.storage.repositories.evidence import DiscrepancyFilter

router = APIRouter(prefix=PREFIX, tags=["evidence"])
MAX_NOTE = 2000


class DiscrepancyPublic(Orm):
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


class EventPublic(Orm):
    """One status change: who, when, why."""

    from_status: str | None
    to_status: str
    actor: str
    note: str | None
    created_at: datetime


class ConfirmationPublic(Orm):
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


class RefreshPublic(BaseModel):
    """What a full recomputation changed."""

    created: int
    updated: int
    removed: int
    dismissed: int
    reopened: int
    evidence_added: int


@router.get("/discrepancies")
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
    row = found(await repo.get_discrepancy(session, discrepancy_id), "discrepancy")
    space, _layer = await repo.space_context(session, row.public_space_id)
    company = await repo.get_company(session, row.company_id) if row.company_id else None
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
                        url=media_url(m.submission_id, m.id),
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


@router.get("/discrepancies/{discrepancy_id}")
async def get_discrepancy(
    session: SessionDep, _: ViewerDep, discrepancy_id: IdPath
) -> DiscrepancyDetail:
    """One discrepancy with its evidence (answers, photos, places, times), history and answers."""
    return await _detail(session, discrepancy_id)


@router.patch("/discrepancies/{discrepancy_id}")
async def change_discrepancy(
    session: SessionDep, token: StaffDep, discrepancy_id: IdPath, body: DiscrepancyChange
) -> DiscrepancyDetail:
    """Move a discrepancy along its lifecycle; its guardians are told, in their language."""
    try:
        await evidence.change_status(
            session, discrepancy_id, body.status, actor=token.name, note=body.note
        )
    except evidence.DiscrepancyNotFoundError as error:
        raise not_found("discrepancy") from error
    except evidence.LifecycleError as error:
        raise conflict(str(error)) from error
    return await _detail(session, discrepancy_id)


@router.post("/discrepancies/refresh")
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
