"""The discrepancy queue: filter, open one with its evidence, move it, PDF, send it on."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, Response

from guardianes.api.auth import IdPath
from guardianes.api.deps import RuntimeDep, SessionDep
from guardianes.domain.enums import DiscrepancyStatus, EvidenceStrength, StaffTokenRole
from guardianes.services import evidence
from guardianes.services.reports import mail
from guardianes.services.reports.evidence_pdf import evidence_report_pdf
from guardianes.services.reports.evidence_report import EvidenceReport, build_evidence_report
from guardianes.storage.repositories import evidence as evidence_repo
from guardianes.storage.repositories import guardians as guardians_repo
from guardianes.storage.repositories import reports as reports_repo
from guardianes.storage.repositories.evidence import DiscrepancyFilter
from guardianes.storage.types import utcnow
from guardianes.web.staff.common import (
    CSRF,
    NOTE,
    PAGE,
    Offset,
    OptionalId,
    TextFilter,
    attachment,
    back,
    not_found,
    page_locale,
    refusing,
    render,
    session_for,
    viewer,
    zone,
)

router = APIRouter()


@router.get("/discrepancias", response_class=HTMLResponse)
async def discrepancies_page(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    status_: Annotated[DiscrepancyStatus | None, Query(alias="status")] = None,
    strength: EvidenceStrength | None = None,
    service: TextFilter = None,
    colonia_id: OptionalId = None,
    offset: Offset = 0,
) -> Response:
    """The queue of discrepancies, filtered as the API filters them."""
    staff = await viewer(request)
    filters = DiscrepancyFilter(
        status=status_, strength=strength, service_code=service, colonia_id=colonia_id
    )
    page = await evidence_repo.list_discrepancies(session, filters, limit=PAGE, offset=offset)
    spaces = {
        row.space.id: row.space
        for row in await reports_repo.spaces_with_layers(
            session, space_ids=sorted({d.public_space_id for d in page.items})
        )
    }
    return render(
        request,
        "discrepancies.html",
        staff,
        page=page,
        spaces=spaces,
        colonias=await guardians_repo.list_colonias(session),
        filters=filters,
        statuses=list(DiscrepancyStatus),
        strengths=list(EvidenceStrength),
        offset=offset,
        limit=PAGE,
    )


async def _evidence(
    runtime: RuntimeDep, session: SessionDep, discrepancy_id: int, locale: str
) -> EvidenceReport:
    report = await build_evidence_report(
        session,
        [discrepancy_id],
        media_dir=runtime.settings.media_dir,
        timezone=zone(runtime),
        now=utcnow(),
        locale=locale,
    )
    if not report.sections:
        raise not_found("discrepancy")
    return report


@router.get("/discrepancias/{discrepancy_id}", response_class=HTMLResponse)
async def discrepancy_page(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    discrepancy_id: IdPath,
    msg: TextFilter = None,
) -> Response:
    """One discrepancy with its evidence (answers, photos, map) and its history."""
    staff = await viewer(request)
    report = await _evidence(runtime, session, discrepancy_id, page_locale(request))
    current = DiscrepancyStatus(report.sections[0].status)
    return render(
        request,
        "discrepancy.html",
        staff,
        section=report.sections[0],
        history=await evidence_repo.events_of(session, discrepancy_id),
        moves=sorted(evidence.ALLOWED_MOVES[current], key=list(DiscrepancyStatus).index),
        smtp=runtime.settings.smtp_enabled,
        msg=msg,
        zone=zone(runtime),
    )


@router.post("/discrepancias/{discrepancy_id}/estado")
async def change_discrepancy_status(
    *,
    request: Request,
    session: SessionDep,
    discrepancy_id: IdPath,
    to_status: Annotated[DiscrepancyStatus, Form(alias="status")],
    csrf: CSRF,
    note: NOTE = "",
) -> Response:
    """Move a discrepancy (the evidence service keeps history and tells its guardians)."""
    staff = await session_for(request, StaffTokenRole.STAFF, csrf)
    with refusing(
        (evidence.DiscrepancyNotFoundError, status.HTTP_404_NOT_FOUND, "discrepancy not found"),
        (evidence.LifecycleError, status.HTTP_409_CONFLICT, None),
    ):
        await evidence.change_status(
            session, discrepancy_id, to_status, actor=staff.token.name, note=note.strip() or None
        )
    return back(f"/staff/discrepancias/{discrepancy_id}", "status")


@router.get("/discrepancias/{discrepancy_id}/evidencia.pdf")
async def discrepancy_pdf(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    discrepancy_id: IdPath,
) -> Response:
    """The evidence report PDF (the API's report service), in the programme's language."""
    await viewer(request)
    report = await _evidence(runtime, session, discrepancy_id, runtime.settings.default_locale)
    return attachment(
        evidence_report_pdf(report), "application/pdf", f"evidencia-{discrepancy_id}.pdf"
    )


@router.post("/discrepancias/{discrepancy_id}/enviar")
async def send_to_directorate(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    discrepancy_id: IdPath,
    csrf: CSRF,
) -> Response:
    """Queue the evidence e-mail to the discrepancy's directorate."""
    staff = await session_for(request, StaffTokenRole.STAFF, csrf)
    if not runtime.settings.smtp_enabled:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="e-mail is off")
    with refusing((mail.NotificationError, status.HTTP_422_UNPROCESSABLE_CONTENT, None)):
        await mail.queue_notification(
            session,
            [discrepancy_id],
            requested_by=staff.actor,
            locale=runtime.settings.default_locale,
        )
    return back(f"/staff/discrepancias/{discrepancy_id}", "queued")
