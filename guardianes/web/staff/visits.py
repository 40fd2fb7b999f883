"""Visits: the month's calendar and the reminders."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from guardianes.api.deps import RuntimeDep, SessionDep
from guardianes.services import dashboard
from guardianes.storage.repositories import reminders as reminders_repo
from guardianes.storage.types import utcnow
from guardianes.web.staff.common import PAGE, render, viewer, zone

router = APIRouter()


@router.get("/visitas", response_class=HTMLResponse)
async def visits_page(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
) -> Response:
    """The month's visits as a calendar, and the reminders."""
    staff = await viewer(request)
    local = zone(runtime)
    today = utcnow().astimezone(local).date()
    shown = date.fromisoformat(f"{month}-01") if month else today.replace(day=1)
    weeks = await dashboard.visits_calendar(session, month=shown, timezone=local)
    reminders = (
        await reminders_repo.list_reminders(
            session, colonia_id=None, kind=None, limit=PAGE, offset=0
        )
    ).items
    return render(
        request,
        "visits.html",
        staff,
        weeks=weeks,
        shown=shown,
        today=today,
        previous=(shown - timedelta(days=1)).replace(day=1),
        following=(shown + timedelta(days=32)).replace(day=1),
        reminders=reminders,
        zone=local,
        cron=lambda r: json.dumps(r.cron, ensure_ascii=False),
    )
