"""Status rows: what the authority's imported files say about a space and period."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from guardianes.api.auth import DEFAULT_PAGE, IdQuery, LimitQuery, OffsetQuery, ViewerDep
from guardianes.api.deps import SessionDep
from guardianes.api.paths import PREFIX
from guardianes.api.schemas import SERVICE_CODE, Orm, Page, page_of
from guardianes.storage.repositories import evidence as repo

router = APIRouter(prefix=PREFIX, tags=["evidence"])


class StatusReportPublic(Orm):
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


@router.get("/status-reports")
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
