"""Guardians: the list (its reading audited as the API's is), promote a lead, deactivate."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, Response

from guardianes.api.auth import IdPath
from guardianes.api.deps import SessionDep
from guardianes.domain.enums import GuardianRole, GuardianStatus, StaffTokenRole
from guardianes.services import staff_tokens
from guardianes.services.audit import record_read
from guardianes.storage.models import Guardian
from guardianes.storage.repositories import guardians as guardians_repo
from guardianes.storage.repositories import staff as staff_repo
from guardianes.storage.repositories.pagination import PageRows
from guardianes.web.staff.common import (
    CSRF,
    PAGE,
    Offset,
    OptionalId,
    TextFilter,
    back,
    refusing,
    render,
    session_for,
    viewer,
)
from guardianes.web.staff.session import StaffSession

router = APIRouter()
GUARDIAN_MISSING = (
    staff_tokens.GuardianNotFoundError,
    status.HTTP_404_NOT_FOUND,
    "guardian not found",
)


async def audited_guardians(
    request: Request,
    session: SessionDep,
    staff: StaffSession,
    *,
    colonia_id: int | None,
    limit: int,
    offset: int,
) -> PageRows[Guardian]:
    """Guardians of a colonia (or all), their reading recorded in the audit log."""
    page = await staff_repo.list_guardians(
        session,
        colonia_id=colonia_id,
        role=None,
        channel=None,
        status=None,
        limit=limit,
        offset=offset,
    )
    await record_read(
        session,
        staff.token,
        method="GET",
        route=request.url.path,
        guardian_ids=[g.id for g in page.items],
    )
    return page


@router.get("/guardianes", response_class=HTMLResponse)
async def guardians_page(
    *,
    request: Request,
    session: SessionDep,
    colonia_id: OptionalId = None,
    offset: Offset = 0,
    msg: TextFilter = None,
) -> Response:
    """Guardians (their reading is audited as the API's is), with promote and deactivate."""
    staff = await viewer(request)
    page = await audited_guardians(
        request, session, staff, colonia_id=colonia_id, limit=PAGE, offset=offset
    )
    colonias = await guardians_repo.list_colonias(session)
    return render(
        request,
        "guardians.html",
        staff,
        page=page,
        colonias=colonias,
        names={c.id: c.name for c in colonias},
        colonia_id=colonia_id,
        offset=offset,
        limit=PAGE,
        msg=msg,
        lead=GuardianRole.LEAD,
        active=GuardianStatus.ACTIVE,
    )


@router.post("/guardianes/{guardian_id}/lider")
async def promote_guardian(
    *, request: Request, session: SessionDep, guardian_id: IdPath, csrf: CSRF
) -> Response:
    """Make a guardian the lead of their colonia (the previous lead steps down)."""
    await session_for(request, StaffTokenRole.STAFF, csrf)
    with refusing(
        GUARDIAN_MISSING,
        (
            staff_tokens.GuardianWithoutColoniaError,
            status.HTTP_409_CONFLICT,
            "the guardian has no colonia",
        ),
    ):
        await staff_tokens.promote_to_lead(session, guardian_id)
    return back("/staff/guardianes", "promoted")


@router.post("/guardianes/{guardian_id}/desactivar")
async def deactivate_guardian(
    *, request: Request, session: SessionDep, guardian_id: IdPath, csrf: CSRF
) -> Response:
    """Deactivate a guardian (admin, as in the API)."""
    await session_for(request, StaffTokenRole.ADMIN, csrf)
    with refusing(GUARDIAN_MISSING):
        await staff_tokens.deactivate_guardian(session, guardian_id)
    return back("/staff/guardianes", "deactivated")
