"""A colonia's briefing before a visit: JSON, PDF, HTML, or sent to its guardians."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from fastapi import APIRouter, Response, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from guardianes.api.auth import IdPath, StaffDep, ViewerDep, who
from guardianes.api.deps import RuntimeDep, SessionDep
from guardianes.api.errors import not_found
from guardianes.api.params import MonthsQuery, local_zone
from guardianes.api.paths import PREFIX
from guardianes.api.responses import document
from guardianes.services import broadcasts as broadcasts_service
from guardianes.services.reports.briefing import (
    Briefing,
    ColoniaNotFoundError,
    briefing_html,
    briefing_message,
    briefing_pdf,
    build_briefing,
)
from guardianes.storage.repositories.broadcasts import RecipientFilter
from guardianes.storage.types import utcnow

router = APIRouter(prefix=PREFIX, tags=["colonias"])


class BriefingPublic(BaseModel):
    """The briefing's figures and the chat message it would send."""

    colonia_id: int
    colonia: str
    months: int
    window_start: date
    window_end: date
    complaints: list[dict[str, Any]]
    total_complaints: int
    discrepancies: list[dict[str, Any]]
    spaces: list[dict[str, Any]]
    message: str


class BriefingSent(BaseModel):
    """The broadcast that carries the briefing message."""

    broadcast_id: int
    recipients: int
    message: str


async def _briefing(
    session: SessionDep, runtime: RuntimeDep, colonia_id: int, months: int
) -> Briefing:
    try:
        return await build_briefing(
            session,
            colonia_id,
            months=months,
            now=utcnow(),
            timezone=local_zone(runtime),
            locale=runtime.settings.default_locale,
        )
    except ColoniaNotFoundError as error:
        raise not_found("colonia") from error


def _briefing_public(briefing: Briefing) -> BriefingPublic:
    return BriefingPublic(
        colonia_id=briefing.colonia_id,
        colonia=briefing.colonia,
        months=briefing.months,
        window_start=briefing.window_start,
        window_end=briefing.window_end,
        complaints=[asdict(c) for c in briefing.complaints],
        total_complaints=briefing.total_complaints,
        discrepancies=[asdict(d) for d in briefing.discrepancies],
        spaces=[asdict(s) for s in briefing.spaces],
        message=briefing_message(briefing),
    )


@router.get("/colonias/{colonia_id}/briefing")
async def colonia_briefing(
    session: SessionDep,
    runtime: RuntimeDep,
    _: ViewerDep,
    colonia_id: IdPath,
    months: MonthsQuery = 6,
) -> BriefingPublic:
    """Before a visit: complaints per service, open discrepancies, spaces and who answers."""
    return _briefing_public(await _briefing(session, runtime, colonia_id, months))


@router.get("/colonias/{colonia_id}/briefing.pdf")
async def colonia_briefing_pdf(
    session: SessionDep,
    runtime: RuntimeDep,
    _: ViewerDep,
    colonia_id: IdPath,
    months: MonthsQuery = 6,
) -> Response:
    """The colonia briefing as PDF."""
    briefing = await _briefing(session, runtime, colonia_id, months)
    return document(briefing_pdf(briefing), "application/pdf", f"colonia-{colonia_id}.pdf")


@router.get("/colonias/{colonia_id}/briefing.html", response_class=HTMLResponse)
async def colonia_briefing_html(
    session: SessionDep,
    runtime: RuntimeDep,
    _: ViewerDep,
    colonia_id: IdPath,
    months: MonthsQuery = 6,
) -> Response:
    """The colonia briefing as HTML."""
    briefing = await _briefing(session, runtime, colonia_id, months)
    return document(
        briefing_html(briefing), "text/html; charset=utf-8", f"colonia-{colonia_id}.html"
    )


@router.post("/colonias/{colonia_id}/briefing/send", status_code=status.HTTP_201_CREATED)
async def send_colonia_briefing(
    session: SessionDep,
    runtime: RuntimeDep,
    token: StaffDep,
    colonia_id: IdPath,
    months: MonthsQuery = 6,
) -> BriefingSent:
    """Send the briefing's short message to the colonia's guardians (a broadcast)."""
    briefing = await _briefing(session, runtime, colonia_id, months)
    message = briefing_message(briefing)
    broadcast, count = await broadcasts_service.create_broadcast(
        session,
        text=message,
        recipients=RecipientFilter(colonia_id=colonia_id),
        created_by=who(token),
    )
    return BriefingSent(broadcast_id=broadcast.id, recipients=count, message=message)
