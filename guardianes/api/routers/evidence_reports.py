"""Evidence reports of discrepancies, as PDF or one self-contained HTML page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse
from pydantic import Field

from guardianes.api.auth import IdPath, ViewerDep
from guardianes.api.deps import RuntimeDep, SessionDep
from guardianes.api.errors import not_found
from guardianes.api.params import MAX_BATCH, local_zone
from guardianes.api.paths import PREFIX
from guardianes.api.responses import document
from guardianes.api.schemas import MAX_ID
from guardianes.services.reports.evidence_pdf import evidence_report_pdf
from guardianes.services.reports.evidence_report import (
    EvidenceReport,
    build_evidence_report,
    evidence_report_html,
)
from guardianes.storage.types import utcnow

router = APIRouter(prefix=PREFIX, tags=["evidence reports"])
PDF = "application/pdf"
HTML = "text/html; charset=utf-8"
BatchIds = Annotated[
    list[Annotated[int, Field(ge=1, le=MAX_ID)]],
    Query(alias="id", min_length=1, max_length=MAX_BATCH, description="Discrepancy ids (repeat)."),
]


async def _evidence(session: SessionDep, runtime: RuntimeDep, ids: list[int]) -> EvidenceReport:
    report = await build_evidence_report(
        session,
        ids,
        media_dir=runtime.settings.media_dir,
        timezone=local_zone(runtime),
        now=utcnow(),
        locale=runtime.settings.default_locale,
    )
    if len(report.sections) != len(set(ids)):
        present = {s.id for s in report.sections}
        missing = ", ".join(str(i) for i in ids if i not in present)
        raise not_found(f"discrepancy {missing}")
    return report


@router.get("/discrepancies/{discrepancy_id}/report.pdf")
async def discrepancy_report_pdf(
    session: SessionDep, runtime: RuntimeDep, _: ViewerDep, discrepancy_id: IdPath
) -> Response:
    """The evidence report of one discrepancy as PDF."""
    report = await _evidence(session, runtime, [discrepancy_id])
    return document(evidence_report_pdf(report), PDF, f"evidencia-{discrepancy_id}.pdf")


@router.get("/discrepancies/{discrepancy_id}/report.html", response_class=HTMLResponse)
async def discrepancy_report_html(
    session: SessionDep, runtime: RuntimeDep, _: ViewerDep, discrepancy_id: IdPath
) -> Response:
    """The evidence report of one discrepancy as one self-contained HTML page."""
    report = await _evidence(session, runtime, [discrepancy_id])
    return document(evidence_report_html(report), HTML, f"evidencia-{discrepancy_id}.html")


@router.get("/reports/evidence.pdf")
async def batch_report_pdf(
    session: SessionDep, runtime: RuntimeDep, _: ViewerDep, ids: BatchIds
) -> Response:
    """One evidence report for several discrepancies (`?id=1&id=2`) as PDF."""
    report = await _evidence(session, runtime, list(dict.fromkeys(ids)))
    return document(evidence_report_pdf(report), PDF, "evidencia.pdf")


@router.get("/reports/evidence.html", response_class=HTMLResponse)
async def batch_report_html(
    session: SessionDep, runtime: RuntimeDep, _: ViewerDep, ids: BatchIds
) -> Response:
    """One evidence report for several discrepancies (`?id=1&id=2`) as HTML."""
    report = await _evidence(session, runtime, list(dict.fromkeys(ids)))
    return document(evidence_report_html(report), HTML, "evidencia.html")
