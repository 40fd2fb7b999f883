"""Broadcasts: the composer with its audience count, progress while sending, the report."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, Response

from guardianes.api.auth import IdPath
from guardianes.api.deps import RuntimeDep, SessionDep
from guardianes.api.schemas import MAX_ID, NO_NUL
from guardianes.domain.enums import GuardianRole, StaffTokenRole
from guardianes.services import broadcasts as broadcasts_service
from guardianes.services.references import UnknownReferenceError
from guardianes.storage.repositories import broadcasts as broadcasts_repo
from guardianes.storage.repositories import guardians as guardians_repo
from guardianes.storage.repositories.broadcasts import RecipientFilter
from guardianes.web.staff.common import (
    CSRF,
    PAGE,
    back,
    not_found,
    refusing,
    render,
    session_for,
    unprocessable,
    viewer,
)

router = APIRouter()
MAX_BROADCAST = 1000
FormId = Annotated[int | None, Form(ge=1, le=MAX_ID)]
FormChoice = Annotated[str | None, Form(max_length=20, pattern=r"^[a-z_]*$")]


@router.get("/avisos", response_class=HTMLResponse)
async def broadcasts_page(request: Request, runtime: RuntimeDep, session: SessionDep) -> Response:
    """The composer and the latest broadcasts."""
    staff = await viewer(request)
    page = await broadcasts_repo.list_broadcasts(session, status=None, limit=PAGE, offset=0)
    colonias = await guardians_repo.list_colonias(session)
    return render(
        request,
        "broadcasts.html",
        staff,
        page=page,
        colonias=colonias,
        names={c.id: c.name for c in colonias},
        roles=list(GuardianRole),
        channels=sorted(runtime.channels) or ["telegram", "whatsapp", "webchat"],
        max_text=MAX_BROADCAST,
    )


def _recipients(colonia_id: int | None, role: str | None, channel: str | None) -> RecipientFilter:
    if role and role not in {r.value for r in GuardianRole}:
        raise unprocessable("unknown role")
    return RecipientFilter(colonia_id=colonia_id, role=role or None, channel=channel or None)


@router.post("/avisos/audiencia")
async def broadcast_audience(
    *,
    request: Request,
    session: SessionDep,
    csrf: CSRF,
    colonia_id: FormId = None,
    role: FormChoice = None,
    channel: FormChoice = None,
) -> JSONResponse:
    """How many active guardians a broadcast with these filters would reach."""
    await session_for(request, StaffTokenRole.STAFF, csrf)
    count = await broadcasts_repo.count_recipients(session, _recipients(colonia_id, role, channel))
    return JSONResponse({"count": count})


@router.post("/avisos")
async def send_broadcast(
    *,
    request: Request,
    session: SessionDep,
    text: Annotated[str, Form(min_length=1, max_length=MAX_BROADCAST, pattern=NO_NUL)],
    csrf: CSRF,
    colonia_id: FormId = None,
    role: FormChoice = None,
    channel: FormChoice = None,
) -> Response:
    """Write the broadcast and its deliveries; the scheduler sends them, paced."""
    staff = await session_for(request, StaffTokenRole.STAFF, csrf)
    if not text.strip():
        raise unprocessable("empty text")
    with refusing((UnknownReferenceError, status.HTTP_422_UNPROCESSABLE_CONTENT, None)):
        broadcast, _count = await broadcasts_service.create_broadcast(
            session,
            text=text.strip(),
            recipients=_recipients(colonia_id, role, channel),
            created_by=staff.actor,
        )
    request.app.state.runtime.outbox_wakeup.set()
    return back(f"/staff/avisos/{broadcast.id}")


@router.get("/avisos/{broadcast_id}", response_class=HTMLResponse)
async def broadcast_page(
    *, request: Request, session: SessionDep, broadcast_id: IdPath
) -> Response:
    """A broadcast's progress bar while it is sent, then its final report."""
    staff = await viewer(request)
    broadcast = await broadcasts_repo.get_broadcast(session, broadcast_id)
    if broadcast is None:
        raise not_found("broadcast")
    progress = await broadcasts_service.progress(session, broadcast_id)
    return render(request, "broadcast.html", staff, broadcast=broadcast, progress=progress)


@router.get("/avisos/{broadcast_id}/progreso")
async def broadcast_progress(
    *, request: Request, session: SessionDep, broadcast_id: IdPath
) -> JSONResponse:
    """The progress as JSON, polled by the page's progress bar."""
    await viewer(request)
    with refusing(
        (
            broadcasts_service.BroadcastNotFoundError,
            status.HTTP_404_NOT_FOUND,
            "broadcast not found",
        )
    ):
        await broadcasts_service.refresh_status(session, broadcast_id)
        progress = await broadcasts_service.progress(session, broadcast_id)
    percent = math.floor(100 * progress.finished / progress.total) if progress.total else 100
    return JSONResponse(
        {
            "status": progress.status,
            "total": progress.total,
            "finished": progress.finished,
            "sent": progress.sent,
            "failed": progress.failed,
            "unreachable": progress.unreachable,
            "percent": percent,
        },
        headers={"Cache-Control": "no-store"},
    )
