"""Downloads for spreadsheets and GIS: submissions, discrepancies, spaces with their status."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from guardianes.api.auth import MAX_TEXT_QUERY, IdQuery, OffsetQuery, ViewerDep
from guardianes.api.deps import RuntimeDep, SessionDep
from guardianes.api.params import GEOJSON_LIMIT, local_period, local_zone
from guardianes.api.paths import PREFIX
from guardianes.api.responses import GEOJSON, PRIVATE, download
from guardianes.api.schemas import NO_NUL
from guardianes.domain.enums import DiscrepancyStatus, EvidenceStrength
from guardianes.services.reports.exports import (
    DISCREPANCY_COLUMNS,
    SUBMISSION_COLUMNS,
    SubmissionExportFilter,
    discrepancy_rows,
    spaces_feature_collection,
    submission_rows,
    to_csv,
    to_xlsx,
)
from guardianes.storage.repositories.evidence import DiscrepancyFilter

router = APIRouter(prefix=PREFIX, tags=["exports"])
CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Spreadsheet programs read accents right only with a byte-order mark.
BOM = "\ufeff"
TimeQuery = Annotated[
    datetime | None, Query(description="Completion time; without offset, local time.")
]
CardQuery = Annotated[
    str | None, Query(max_length=MAX_TEXT_QUERY, pattern=NO_NUL, description="Card form id.")
]


async def _submission_filter(  # async: a sync dependency would take a worker thread
    runtime: RuntimeDep,
    *,
    completed_from: TimeQuery = None,
    completed_to: TimeQuery = None,
    colonia_id: IdQuery = None,
    contract_id: IdQuery = None,
    card: CardQuery = None,
) -> SubmissionExportFilter:
    """The export filters of a request (a dependency both export formats share)."""
    start, end = local_period(
        runtime, completed_from, completed_to, names=("completed_from", "completed_to")
    )
    return SubmissionExportFilter(start, end, colonia_id, contract_id, card)


SubmissionFilterDep = Annotated[SubmissionExportFilter, Depends(_submission_filter)]


@router.get("/exports/submissions.csv")
async def export_submissions_csv(
    *, session: SessionDep, runtime: RuntimeDep, _: ViewerDep, filters: SubmissionFilterDep
) -> Response:
    """Submissions as CSV (UTF-8 with BOM so spreadsheet programs read accents right)."""
    rows = await submission_rows(session, filters, timezone=local_zone(runtime))
    return download(BOM + to_csv(SUBMISSION_COLUMNS, rows), CSV, "cedulas.csv")


@router.get("/exports/submissions.xlsx")
async def export_submissions_xlsx(
    *, session: SessionDep, runtime: RuntimeDep, _: ViewerDep, filters: SubmissionFilterDep
) -> Response:
    """Submissions as an XLSX workbook."""
    rows = await submission_rows(session, filters, timezone=local_zone(runtime))
    return download(to_xlsx(SUBMISSION_COLUMNS, rows, "cedulas"), XLSX, "cedulas.xlsx")


@router.get("/exports/discrepancies.csv")
async def export_discrepancies_csv(
    *,
    session: SessionDep,
    runtime: RuntimeDep,
    _: ViewerDep,
    status_: Annotated[DiscrepancyStatus | None, Query(alias="status")] = None,
    service: Annotated[str | None, Query(max_length=64, pattern=NO_NUL)] = None,
    colonia_id: IdQuery = None,
    contract_id: IdQuery = None,
    company_id: IdQuery = None,
    directorate_id: IdQuery = None,
    strength: EvidenceStrength | None = None,
) -> Response:
    """Discrepancies as CSV."""
    filters = DiscrepancyFilter(
        status=status_,
        service_code=service,
        colonia_id=colonia_id,
        contract_id=contract_id,
        company_id=company_id,
        directorate_id=directorate_id,
        strength=strength,
    )
    rows = await discrepancy_rows(session, filters, timezone=local_zone(runtime))
    return download(BOM + to_csv(DISCREPANCY_COLUMNS, rows), CSV, "discrepancias.csv")


@router.get("/exports/spaces.geojson")
async def export_spaces_geojson(
    *,
    session: SessionDep,
    runtime: RuntimeDep,
    _: ViewerDep,
    colonia_id: IdQuery = None,
    limit: Annotated[int, Query(ge=1, le=GEOJSON_LIMIT)] = GEOJSON_LIMIT,
    offset: OffsetQuery = 0,
) -> Response:
    """Public spaces with their latest card status (`no_cards`, `ok`, `failure`) as GeoJSON."""
    collection = await spaces_feature_collection(
        session, colonia_id=colonia_id, limit=limit, offset=offset, timezone=local_zone(runtime)
    )
    return Response(
        content=json.dumps(collection, ensure_ascii=False), media_type=GEOJSON, headers=PRIVATE
    )
