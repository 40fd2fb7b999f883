"""Colonias: the list, one colonia with its guardians, complaints chart and visit briefing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import HTMLResponse, Response

from guardianes.api.auth import IdPath
from guardianes.api.deps import RuntimeDep, SessionDep
from guardianes.services.reports.briefing import (
    Briefing,
    ColoniaNotFoundError,
    briefing_pdf,
    build_briefing,
)
from guardianes.services.reports.complaints_change import complaints_before_after
from guardianes.storage.repositories import guardians as guardians_repo
from guardianes.storage.types import utcnow
from guardianes.web.staff import charts
from guardianes.web.staff.common import (
    attachment,
    page_locale,
    refusing,
    render,
    texts,
    viewer,
    zone,
)
from guardianes.web.staff.guardians import audited_guardians

router = APIRouter()
Months = Annotated[int, Query(ge=1, le=24)]


@router.get("/colonias", response_class=HTMLResponse)
async def colonias_page(request: Request, session: SessionDep) -> Response:
    """Every colonia, with a link to its page."""
    staff = await viewer(request)
    colonias = await guardians_repo.list_colonias(session)
    return render(request, "colonias.html", staff, colonias=colonias)


async def _briefing(
    runtime: RuntimeDep, session: SessionDep, colonia_id: int, months: int, locale: str
) -> Briefing:
    with refusing((ColoniaNotFoundError, status.HTTP_404_NOT_FOUND, "colonia not found")):
        return await build_briefing(
            session,
            colonia_id,
            months=months,
            now=utcnow(),
            timezone=zone(runtime),
            locale=locale,
        )


@router.get("/colonias/{colonia_id}", response_class=HTMLResponse)
async def colonia_page(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    colonia_id: IdPath,
    months: Months = 6,
) -> Response:
    """Guardians and lead, complaints before/after the first card, the visit briefing."""
    staff = await viewer(request)
    briefing = await _briefing(runtime, session, colonia_id, months, page_locale(request))
    guardians = await audited_guardians(
        request, session, staff, colonia_id=colonia_id, limit=500, offset=0
    )
    changes = await complaints_before_after(
        session,
        months=months,
        timezone=zone(runtime),
        now=utcnow(),
        min_total=runtime.settings.complaints_min_total,
        colonia_id=colonia_id,
    )
    t = texts(request)
    chart = charts.grouped_bars(
        t("dashboard.colonia.before_after"),
        [c.service_code for c in changes],
        {
            t("dashboard.colonia.before"): [c.before or 0 for c in changes],
            t("dashboard.colonia.after"): [c.after or 0 for c in changes],
        },
    )
    return render(
        request,
        "colonia.html",
        staff,
        briefing=briefing,
        guardians=guardians.items,
        changes=changes,
        chart=chart,
        months=months,
    )


@router.get("/colonias/{colonia_id}/briefing.pdf")
async def colonia_briefing_pdf(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    colonia_id: IdPath,
    months: Months = 6,
) -> Response:
    """The briefing to read before a visit (the API's briefing service)."""
    await viewer(request)
    briefing = await _briefing(
        runtime, session, colonia_id, months, runtime.settings.default_locale
    )
    return attachment(briefing_pdf(briefing), "application/pdf", f"briefing-{colonia_id}.pdf")
