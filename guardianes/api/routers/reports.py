"""Analyses across colonias: complaints before and after the guardians, resolution rates."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from guardianes.api.auth import IdQuery, ViewerDep
from guardianes.api.deps import RuntimeDep, SessionDep
from guardianes.api.params import MonthsQuery, local_zone
from guardianes.api.paths import PREFIX
from guardianes.api.schemas import NO_NUL
from guardianes.services.evidence_reports import ResolutionFigures, resolution_report
from guardianes.services.reports.complaints_change import BeforeAfter, complaints_before_after
from guardianes.storage.types import utcnow

router = APIRouter(prefix=PREFIX)


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


@router.get("/reports/complaints-before-after", tags=["reports"])
async def complaints_before_after_report(
    *,
    session: SessionDep,
    runtime: RuntimeDep,
    _: ViewerDep,
    months: MonthsQuery = 6,
    colonia_id: IdQuery = None,
    service: Annotated[
        str | None, Query(max_length=64, pattern=NO_NUL, description="Service code.")
    ] = None,
) -> list[BeforeAfter]:
    """Complaints N months before and after each colonia's first card, with a verdict on
    whether the data says anything (rule in the README)."""
    return await complaints_before_after(
        session,
        months=months,
        timezone=local_zone(runtime),
        now=utcnow(),
        min_total=runtime.settings.complaints_min_total,
        colonia_id=colonia_id,
        service_code=service,
    )


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
