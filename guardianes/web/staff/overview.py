"""The overview: cards this week and month, guardians, discrepancies, sending, reminders."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from guardianes.api.deps import RuntimeDep, SessionDep
from guardianes.services import dashboard
from guardianes.storage.types import utcnow
from guardianes.web.staff import charts
from guardianes.web.staff.common import render, texts, viewer, zone

router = APIRouter()


@router.get("", response_class=HTMLResponse)
async def overview_page(request: Request, runtime: RuntimeDep, session: SessionDep) -> Response:
    """Cards this week and month, guardians, discrepancies, sending, reminders."""
    staff = await viewer(request)
    report = await dashboard.overview(session, now=utcnow(), timezone=zone(runtime))
    t = texts(request)
    chart = charts.bars(
        t("dashboard.overview.by_strength"),
        [
            (t(f"dashboard.strength.{key}"), value)
            for key, value in report.unresolved_by_strength.items()
        ],
    )
    return render(request, "overview.html", staff, report=report, chart=chart)
