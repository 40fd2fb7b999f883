"""Staff API of the reports area: evidence reports and their e-mail, briefings, analyses, exports.

Thin calls to `guardianes.services.reports`; documents are served as files with a
download name, and nothing here is cached by a shared cache (they name contracts and
companies, and the evidence photos are of people's streets).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from guardianes.api.auth import (
    DEFAULT_PAGE,
    MAX_TEXT_QUERY,
    IdPath,
    IdQuery,
    LimitQuery,
    OffsetQuery,
    StaffDep,
    ViewerDep,
)
from guardianes.api.schemas import MAX_ID, NO_NUL, Page, RowId, page_of
from guardianes.domain.enums import DiscrepancyStatus, EmailKind, EmailStatus, EvidenceStrength
from guardianes.domain.timezone import zone
from guardianes.services import broadcasts as broadcasts_service
from guardianes.services.reports import mail
from guardianes.services.reports.briefing import (
    Briefing,
    ColoniaNotFoundError,
    briefing_html,
    briefing_message,
    briefing_pdf,
    build_briefing,
)
from guardianes.services.reports.complaints_change import (
    MAX_MONTHS,
    BeforeAfter,
    complaints_before_after,
)
from guardianes.services.reports.contract_review import (
    ContractNotFoundError,
    ContractReview,
    contract_review,
)
from guardianes.services.reports.evidence_pdf import evidence_report_pdf
from guardianes.services.reports.evidence_report import (
    EvidenceReport,
    build_evidence_report,
    evidence_report_html,
)
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
from guardianes.services.visits import as_aware
from guardianes.storage.models import StaffToken
from guardianes.storage.models_reports import EvidenceEmail
from guardianes.storage.repositories import evidence_emails as emails_repo
from guardianes.storage.repositories.broadcasts import RecipientFilter
from guardianes.storage.repositories.evidence import DiscrepancyFilter
from guardianes.storage.types import utcnow
from guardianes.web.deps import RuntimeDep, SessionDep

PREFIX = "/api/v1"
router = APIRouter(prefix=PREFIX)
MAX_BATCH = 100
GEOJSON_LIMIT = 5000
DEFAULT_REVIEW_DAYS = 90
PRIVATE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
MonthsQuery = Annotated[int, Query(ge=1, le=MAX_MONTHS, description="Whole months to count.")]
CREATED_BY_LENGTH = 200


def _not_found(what: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{what} not found")


def _unprocessable(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)


def _who(token: StaffToken) -> str:
    return f"token:{token.id}:{token.name}"[:CREATED_BY_LENGTH]


def _zone(runtime: RuntimeDep) -> ZoneInfo:
    return zone(runtime.settings.timezone)


def _document(content: bytes | str, media_type: str, filename: str) -> Response:
    return Response(
        content=content,
        media_type=media_type,
        headers={**PRIVATE, "Content-Disposition": f'inline; filename="{filename}"'},
    )


def _download(content: bytes | str, media_type: str, filename: str) -> Response:
    return Response(
        content=content,
        media_type=media_type,
        headers={**PRIVATE, "Content-Disposition": f'attachment; filename="{filename}"'},
    )


# ---------------------------------------------------------------- evidence reports


async def _evidence(session: SessionDep, runtime: RuntimeDep, ids: list[int]) -> EvidenceReport:
    report = await build_evidence_report(
        session,
        ids,
        media_dir=runtime.settings.media_dir,
        timezone=_zone(runtime),
        now=utcnow(),
        locale=runtime.settings.default_locale,
    )
    if len(report.sections) != len(set(ids)):
        found = {s.id for s in report.sections}
        missing = ", ".join(str(i) for i in ids if i not in found)
        raise _not_found(f"discrepancy {missing}")
    return report


@router.get("/discrepancies/{discrepancy_id}/report.pdf", tags=["evidence reports"])
async def discrepancy_report_pdf(
    session: SessionDep, runtime: RuntimeDep, _: ViewerDep, discrepancy_id: IdPath
) -> Response:
    """The evidence report of one discrepancy as PDF."""
    report = await _evidence(session, runtime, [discrepancy_id])
    return _document(
        evidence_report_pdf(report), "application/pdf", f"evidencia-{discrepancy_id}.pdf"
    )


@router.get(
    "/discrepancies/{discrepancy_id}/report.html",
    tags=["evidence reports"],
    response_class=HTMLResponse,
)
async def discrepancy_report_html(
    session: SessionDep, runtime: RuntimeDep, _: ViewerDep, discrepancy_id: IdPath
) -> Response:
    """The evidence report of one discrepancy as one self-contained HTML page."""
    report = await _evidence(session, runtime, [discrepancy_id])
    return _document(
        evidence_report_html(report), "text/html; charset=utf-8", f"evidencia-{discrepancy_id}.html"
    )


BatchIds = Annotated[
    list[Annotated[int, Field(ge=1, le=MAX_ID)]],
    Query(alias="id", min_length=1, max_length=MAX_BATCH, description="Discrepancy ids (repeat)."),
]


@router.get("/reports/evidence.pdf", tags=["evidence reports"])
async def batch_report_pdf(
    session: SessionDep, runtime: RuntimeDep, _: ViewerDep, ids: BatchIds
) -> Response:
    """One evidence report for several discrepancies (`?id=1&id=2`) as PDF."""
    report = await _evidence(session, runtime, list(dict.fromkeys(ids)))
    return _document(evidence_report_pdf(report), "application/pdf", "evidencia.pdf")


@router.get("/reports/evidence.html", tags=["evidence reports"], response_class=HTMLResponse)
async def batch_report_html(
    session: SessionDep, runtime: RuntimeDep, _: ViewerDep, ids: BatchIds
) -> Response:
    """One evidence report for several discrepancies (`?id=1&id=2`) as HTML."""
    report = await _evidence(session, runtime, list(dict.fromkeys(ids)))
    return _document(evidence_report_html(report), "text/html; charset=utf-8", "evidencia.html")


# ---------------------------------------------------------------- evidence e-mails


class EvidenceEmailPublic(BaseModel):
    """An evidence e-mail of the outbox and where it stands."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    directorate_id: int | None
    recipient: str
    subject: str
    discrepancy_ids: list[int]
    kind: EmailKind
    status: EmailStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    requested_by: str | None
    sent_at: datetime | None
    created_at: datetime


class NotifyRequest(BaseModel):
    """Discrepancies to send to their directorates (one e-mail per directorate)."""

    discrepancy_ids: list[RowId] = Field(min_length=1, max_length=MAX_BATCH)


def _email(email: EvidenceEmail) -> EvidenceEmailPublic:
    return EvidenceEmailPublic.model_validate(email)


async def _queue(
    session: SessionDep, runtime: RuntimeDep, token: StaffToken, ids: list[int]
) -> list[EvidenceEmailPublic]:
    if not runtime.settings.smtp_enabled:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail="e-mail is off: set GUARDIANES_SMTP_HOST and GUARDIANES_SMTP_SENDER",
        )
    try:
        emails = await mail.queue_notification(
            session, ids, requested_by=_who(token), locale=runtime.settings.default_locale
        )
    except mail.NotificationError as error:
        raise _unprocessable(str(error)) from error
    return [_email(e) for e in emails]


@router.post(
    "/discrepancies/{discrepancy_id}/notify",
    tags=["evidence reports"],
    status_code=status.HTTP_202_ACCEPTED,
)
async def notify_discrepancy(
    session: SessionDep, runtime: RuntimeDep, token: StaffDep, discrepancy_id: IdPath
) -> list[EvidenceEmailPublic]:
    """Queue the evidence e-mail of one discrepancy to its directorate; sending moves it to
    `notified`."""
    return await _queue(session, runtime, token, [discrepancy_id])


@router.post("/evidence-emails", tags=["evidence reports"], status_code=status.HTTP_202_ACCEPTED)
async def notify_batch(
    session: SessionDep, runtime: RuntimeDep, token: StaffDep, body: NotifyRequest
) -> list[EvidenceEmailPublic]:
    """Queue one evidence e-mail per directorate for several discrepancies (all or nothing)."""
    return await _queue(session, runtime, token, list(dict.fromkeys(body.discrepancy_ids)))


@router.get("/evidence-emails", tags=["evidence reports"])
async def list_evidence_emails(
    *,
    session: SessionDep,
    _: ViewerDep,
    status_: Annotated[EmailStatus | None, Query(alias="status")] = None,
    kind: EmailKind | None = None,
    discrepancy_id: IdQuery = None,
    limit: LimitQuery = DEFAULT_PAGE,
    offset: OffsetQuery = 0,
) -> Page[EvidenceEmailPublic]:
    """Evidence e-mails, newest first: failed ones show their last error."""
    page = await emails_repo.list_emails(
        session,
        status=status_,
        kind=kind,
        discrepancy_id=discrepancy_id,
        limit=limit,
        offset=offset,
    )
    return page_of(page, _email, limit=limit, offset=offset)


@router.get("/evidence-emails/{email_id}", tags=["evidence reports"])
async def get_evidence_email(
    session: SessionDep, _: ViewerDep, email_id: IdPath
) -> EvidenceEmailPublic:
    """One evidence e-mail."""
    email = await emails_repo.get_email(session, email_id)
    if email is None:
        raise _not_found("e-mail")
    return _email(email)


@router.post("/evidence-emails/{email_id}/retry", tags=["evidence reports"])
async def retry_evidence_email(
    session: SessionDep, _: StaffDep, email_id: IdPath
) -> EvidenceEmailPublic:
    """Queue a FAILED e-mail again with fresh attempts."""
    email = await emails_repo.get_email(session, email_id)
    if email is None:
        raise _not_found("e-mail")
    if not await mail.retry_failed(session, email_id):
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"the e-mail is {email.status}")
    await session.refresh(email)
    return _email(email)


# ---------------------------------------------------------------- colonia briefing


async def _briefing(
    session: SessionDep, runtime: RuntimeDep, colonia_id: int, months: int
) -> Briefing:
    try:
        return await build_briefing(
            session,
            colonia_id,
            months=months,
            now=utcnow(),
            timezone=_zone(runtime),
            locale=runtime.settings.default_locale,
        )
    except ColoniaNotFoundError as error:
        raise _not_found("colonia") from error


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


@router.get("/colonias/{colonia_id}/briefing", tags=["colonias"])
async def colonia_briefing(
    session: SessionDep,
    runtime: RuntimeDep,
    _: ViewerDep,
    colonia_id: IdPath,
    months: MonthsQuery = 6,
) -> BriefingPublic:
    """Before a visit: complaints per service, open discrepancies, spaces and who answers."""
    return _briefing_public(await _briefing(session, runtime, colonia_id, months))


@router.get("/colonias/{colonia_id}/briefing.pdf", tags=["colonias"])
async def colonia_briefing_pdf(
    session: SessionDep,
    runtime: RuntimeDep,
    _: ViewerDep,
    colonia_id: IdPath,
    months: MonthsQuery = 6,
) -> Response:
    """The colonia briefing as PDF."""
    briefing = await _briefing(session, runtime, colonia_id, months)
    return _document(briefing_pdf(briefing), "application/pdf", f"colonia-{colonia_id}.pdf")


@router.get("/colonias/{colonia_id}/briefing.html", tags=["colonias"], response_class=HTMLResponse)
async def colonia_briefing_html(
    session: SessionDep,
    runtime: RuntimeDep,
    _: ViewerDep,
    colonia_id: IdPath,
    months: MonthsQuery = 6,
) -> Response:
    """The colonia briefing as HTML."""
    briefing = await _briefing(session, runtime, colonia_id, months)
    return _document(
        briefing_html(briefing), "text/html; charset=utf-8", f"colonia-{colonia_id}.html"
    )


class BriefingSent(BaseModel):
    """The broadcast that carries the briefing message."""

    broadcast_id: int
    recipients: int
    message: str


@router.post(
    "/colonias/{colonia_id}/briefing/send",
    tags=["colonias"],
    status_code=status.HTTP_201_CREATED,
)
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
        created_by=_who(token),
    )
    return BriefingSent(broadcast_id=broadcast.id, recipients=count, message=message)


# ---------------------------------------------------------------- analyses


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
        timezone=_zone(runtime),
        now=utcnow(),
        min_total=runtime.settings.complaints_min_total,
        colonia_id=colonia_id,
        service_code=service,
    )


StartQuery = Annotated[date | None, Query(description="First day (local); default 90 days ago.")]
EndQuery = Annotated[date | None, Query(description="Last day (local), included; default today.")]


async def _review(
    session: SessionDep,
    runtime: RuntimeDep,
    *,
    start: date | None,
    end: date | None,
    contract_id: int | None = None,
    contract_number: str | None = None,
) -> ContractReview:
    today = utcnow().astimezone(_zone(runtime)).date()
    last = end or today
    first = start or last - timedelta(days=DEFAULT_REVIEW_DAYS)
    if first > last:
        raise _unprocessable("start must not be after end")
    try:
        return await contract_review(
            session,
            catalog=runtime.catalog,
            start=first,
            end=last,
            timezone=_zone(runtime),
            contract_id=contract_id,
            contract_number=contract_number,
        )
    except ContractNotFoundError as error:
        raise _not_found("contract") from error


@router.get("/contracts/{contract_id}/review", tags=["contracts"])
async def review_contract(
    *,
    session: SessionDep,
    runtime: RuntimeDep,
    _: ViewerDep,
    contract_id: IdPath,
    start: StartQuery = None,
    end: EndQuery = None,
) -> ContractReview:
    """A contract's spaces, coverage, failure rate per obligation, open discrepancies and the
    company's other municipal contracts with their IMCO risk indicators."""
    return await _review(session, runtime, start=start, end=end, contract_id=contract_id)


@router.get("/reports/contract-review", tags=["contracts"])
async def review_contract_by_number(
    *,
    session: SessionDep,
    runtime: RuntimeDep,
    _: ViewerDep,
    number: Annotated[
        str, Query(min_length=1, max_length=200, pattern=NO_NUL, description="Contract number.")
    ],
    start: StartQuery = None,
    end: EndQuery = None,
) -> ContractReview:
    """The same review by contract number, also for a contract only the map layers name
    (punctuation is ignored: `O.M.-38/2020-D` = `OM 38/2020 D`)."""
    return await _review(session, runtime, start=start, end=end, contract_number=number)


# ---------------------------------------------------------------- exports


TimeQuery = Annotated[
    datetime | None, Query(description="Completion time; without offset, local time.")
]
CardQuery = Annotated[
    str | None, Query(max_length=MAX_TEXT_QUERY, pattern=NO_NUL, description="Card form id.")
]


def _submission_filter(
    runtime: RuntimeDep,
    *,
    completed_from: TimeQuery = None,
    completed_to: TimeQuery = None,
    colonia_id: IdQuery = None,
    contract_id: IdQuery = None,
    card: CardQuery = None,
) -> SubmissionExportFilter:
    """The export filters of a request (a dependency both export formats share)."""
    zone = _zone(runtime)
    start = as_aware(completed_from, zone) if completed_from else None
    end = as_aware(completed_to, zone) if completed_to else None
    if start is not None and end is not None and start >= end:
        raise _unprocessable("completed_from must be before completed_to")
    return SubmissionExportFilter(start, end, colonia_id, contract_id, card)


SubmissionFilterDep = Annotated[SubmissionExportFilter, Depends(_submission_filter)]


@router.get("/exports/submissions.csv", tags=["exports"])
async def export_submissions_csv(
    *, session: SessionDep, runtime: RuntimeDep, _: ViewerDep, filters: SubmissionFilterDep
) -> Response:
    """Submissions as CSV (UTF-8 with BOM so spreadsheet programs read accents right)."""
    rows = await submission_rows(session, filters, timezone=_zone(runtime))
    return _download(
        "\ufeff" + to_csv(SUBMISSION_COLUMNS, rows), "text/csv; charset=utf-8", "cedulas.csv"
    )


@router.get("/exports/submissions.xlsx", tags=["exports"])
async def export_submissions_xlsx(
    *, session: SessionDep, runtime: RuntimeDep, _: ViewerDep, filters: SubmissionFilterDep
) -> Response:
    """Submissions as an XLSX workbook."""
    rows = await submission_rows(session, filters, timezone=_zone(runtime))
    return _download(
        to_xlsx(SUBMISSION_COLUMNS, rows, "cedulas"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "cedulas.xlsx",
    )


@router.get("/exports/discrepancies.csv", tags=["exports"])
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
    rows = await discrepancy_rows(session, filters, timezone=_zone(runtime))
    return _download(
        "\ufeff" + to_csv(DISCREPANCY_COLUMNS, rows),
        "text/csv; charset=utf-8",
        "discrepancias.csv",
    )


class GeoJSONResponse(Response):
    """GeoJSON (RFC 7946) media type."""

    media_type = "application/geo+json"


@router.get("/exports/spaces.geojson", tags=["exports"])
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
        session, colonia_id=colonia_id, limit=limit, offset=offset, timezone=_zone(runtime)
    )
    return GeoJSONResponse(content=json.dumps(collection, ensure_ascii=False), headers=PRIVATE)
