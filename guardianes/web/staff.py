"""The staff dashboard at /staff: server-rendered pages over the same services as the API.

Login exchanges a staff token for a signed session cookie (`staff_session`); viewers see
every page, staff act (status changes, e-mails, broadcasts, promotions), admins also
deactivate guardians and manage tokens, exactly as the API's roles. Every form carries the
session's CSRF value.
"""

from __future__ import annotations

import json
import math
import tempfile
from datetime import date, timedelta
from pathlib import Path, PurePosixPath
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, HTTPException, Query, Request, UploadFile, status
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from fastapi.templating import Jinja2Templates

from guardianes import __version__
from guardianes.api.auth import IdPath
from guardianes.api.deps import RuntimeDep, SessionDep
from guardianes.api.schemas import MAX_ID, NO_NUL
from guardianes.importers.layers import LayerSpec
from guardianes.importers.report import ImportFileError, ImportReport
from guardianes.locales import translator
from guardianes.services import broadcasts as broadcasts_service
from guardianes.services import (
    dashboard,
    evidence,
    evidence_imports,
    file_imports,
    staff_tokens,
    training,
)
from guardianes.services.audit import record_read
from guardianes.services.references import UnknownReferenceError
from guardianes.services.reports import mail
from guardianes.services.reports.briefing import (
    ColoniaNotFoundError,
    briefing_pdf,
    build_briefing,
)
from guardianes.services.reports.complaints_change import complaints_before_after
from guardianes.services.reports.contract_review import ContractNotFoundError, contract_review
from guardianes.services.reports.evidence_pdf import evidence_report_pdf
from guardianes.services.reports.evidence_report import build_evidence_report
from guardianes.services.reports.exports import spaces_feature_collection
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import GuardianRole, GuardianStatus, ResponsibleType, StaffTokenRole
from guardianes.storage.models_evidence import DiscrepancyStatus, EvidenceStrength
from guardianes.storage.repositories import broadcasts as broadcasts_repo
from guardianes.storage.repositories import catalog
from guardianes.storage.repositories import evidence as evidence_repo
from guardianes.storage.repositories import guardians as guardians_repo
from guardianes.storage.repositories import reminders as reminders_repo
from guardianes.storage.repositories import reports as reports_repo
from guardianes.storage.repositories import staff as staff_repo
from guardianes.storage.repositories.broadcasts import RecipientFilter
from guardianes.storage.repositories.evidence import DiscrepancyFilter
from guardianes.storage.types import utcnow
from guardianes.web import staff_charts
from guardianes.web.public_map import WEB_DIR
from guardianes.web.staff_session import (
    CSRF_FIELD,
    CsrfError,
    ForbiddenError,
    NotLoggedInError,
    StaffSession,
    check_csrf,
    check_login_csrf,
    current_session,
    end_session,
    login_csrf,
    require_role,
    set_login_csrf,
    start_session,
)

router = APIRouter(prefix="/staff", include_in_schema=False)
templates = Jinja2Templates(directory=WEB_DIR / "templates")
PAGE = 50
MAP_PAGE = 5000  # every space of a city in one answer; the page draws them all
MAX_NOTE = 2000
MAX_BROADCAST = 1000
MAX_FILE_NAME = 300  # layers.file_name
# Only our own files: no inline script, so a value from the data can never run as code.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob: https:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
NOTE = Annotated[str, Form(max_length=MAX_NOTE, pattern=NO_NUL)]
CSRF = Annotated[str, Form(alias=CSRF_FIELD, max_length=100)]
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
TextFilter = Annotated[str | None, Query(max_length=100, pattern=NO_NUL)]


def _zone(runtime: RuntimeDep) -> ZoneInfo:
    return ZoneInfo(runtime.settings.timezone)


def _render(
    request: Request,
    runtime: RuntimeDep,
    template: str,
    staff: StaffSession | None,
    *,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    locale = runtime.settings.default_locale
    response = templates.TemplateResponse(
        request,
        f"staff/{template}",
        {
            "t": translator(locale),
            "locale": locale,
            "staff": staff,
            "csrf_field": CSRF_FIELD,
            "version": __version__,
            "path": request.url.path,
            **values,
        },
        status_code=status_code,
    )
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _back(url: str, message: str | None = None) -> RedirectResponse:
    # 303: the browser follows with a GET, so reloading never posts a form twice.
    target = f"{url}{'&' if '?' in url else '?'}msg={message}" if message else url
    return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)


async def _session_for(
    request: Request, role: StaffTokenRole, csrf: str | None = None
) -> StaffSession:
    staff = await current_session(request)
    if csrf is not None or request.method == "POST":
        check_csrf(staff, csrf)
    require_role(staff, role)
    return staff


async def viewer(request: Request) -> StaffSession:
    """Any logged-in session."""
    return await _session_for(request, StaffTokenRole.VIEWER)


def install_staff_errors(app: Any) -> None:
    """Send the browser to the login form, or say what is refused, in the page's language."""

    async def not_logged_in(request: Request, _: Exception) -> Response:
        if request.method == "GET":
            return _back("/staff/login")
        return _plain_refusal(request, status.HTTP_401_UNAUTHORIZED, "dashboard.error.login")

    async def forbidden(request: Request, _: Exception) -> Response:
        return _plain_refusal(request, status.HTTP_403_FORBIDDEN, "dashboard.error.role")

    async def csrf(request: Request, _: Exception) -> Response:
        return _plain_refusal(request, status.HTTP_403_FORBIDDEN, "dashboard.error.csrf")

    app.add_exception_handler(NotLoggedInError, not_logged_in)
    app.add_exception_handler(ForbiddenError, forbidden)
    app.add_exception_handler(CsrfError, csrf)


def _plain_refusal(request: Request, code: int, key: str) -> Response:
    runtime = request.app.state.runtime
    t = translator(runtime.settings.default_locale)
    return _render(
        request, runtime, "refused.html", None, status_code=code, message=t(key), code=code
    )


# ---------------------------------------------------------------- login and logout


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, runtime: RuntimeDep, error: bool = False) -> Response:
    """The login form (a staff token)."""
    value = login_csrf(request)
    response = _render(request, runtime, "login.html", None, login_csrf=value, error=error)
    set_login_csrf(request, response, value)
    return response


@router.post("/login")
async def login(
    *,
    request: Request,
    runtime: RuntimeDep,
    token: Annotated[str, Form(max_length=200)],
    csrf: CSRF,
) -> Response:
    """Exchange a valid staff token for a session cookie."""
    check_login_csrf(request, csrf)
    async with unit_of_work(runtime.sessions) as session:
        row = await staff_tokens.authenticate(session, token.strip())
    if row is None:
        value = login_csrf(request)
        response = _render(
            request,
            runtime,
            "login.html",
            None,
            status_code=status.HTTP_401_UNAUTHORIZED,
            login_csrf=value,
            error=True,
        )
        set_login_csrf(request, response, value)
        return response
    redirect = _back("/staff")
    start_session(request, redirect, row)
    return redirect


@router.post("/logout")
async def logout(request: Request, csrf: CSRF) -> Response:
    """End the session."""
    await _session_for(request, StaffTokenRole.VIEWER, csrf)
    response = _back("/staff/login")
    end_session(response)
    return response


# ---------------------------------------------------------------- overview


@router.get("", response_class=HTMLResponse)
async def overview_page(request: Request, runtime: RuntimeDep, session: SessionDep) -> Response:
    """Cards this week and month, guardians, discrepancies, sending, reminders."""
    staff = await viewer(request)
    report = await dashboard.overview(session, now=utcnow(), timezone=_zone(runtime))
    chart = staff_charts.bars(
        translator(runtime.settings.default_locale)("dashboard.overview.by_strength"),
        [
            (
                translator(runtime.settings.default_locale)(f"dashboard.strength.{key}"),
                value,
            )
            for key, value in report.unresolved_by_strength.items()
        ],
    )
    return _render(request, runtime, "overview.html", staff, report=report, chart=chart)


# ---------------------------------------------------------------- map


@router.get("/mapa", response_class=HTMLResponse)
async def map_page(request: Request, runtime: RuntimeDep, session: SessionDep) -> Response:
    """Spaces colored by their latest card status, with filters."""
    staff = await viewer(request)
    colonias = await guardians_repo.list_colonias(session)
    layers = (await catalog.list_layers(session, limit=1000, offset=0)).items
    services = sorted({layer.service_code for layer in layers})
    contracts = sorted({layer.contract_number for layer in layers if layer.contract_number})
    return _render(
        request,
        runtime,
        "map.html",
        staff,
        colonias=colonias,
        services=services,
        contracts=contracts,
        tiles_url=runtime.settings.map_tiles_url,
        tiles_attribution=runtime.settings.map_tiles_attribution,
    )


@router.get("/mapa/espacios.geojson")
async def map_features(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    colonia_id: OptionalId = None,
    service: TextFilter = None,
    contract: TextFilter = None,
    since: date | None = None,
    until: date | None = None,
) -> JSONResponse:
    """The map's spaces (the API's spaces export), filtered by service, contract, period."""
    await viewer(request)
    collection = await spaces_feature_collection(
        session, colonia_id=colonia_id, limit=MAP_PAGE, offset=0, timezone=_zone(runtime)
    )
    features = [
        f
        for f in collection["features"]
        if (service is None or f["properties"]["service"] == service)
        and (contract is None or f["properties"]["contract_number"] == contract)
        and _in_period(f["properties"]["latest_card_at"], since, until)
    ]
    return JSONResponse(
        {"type": "FeatureCollection", "features": features},
        headers={"Cache-Control": "private, no-store"},
    )


def _in_period(latest: str | None, since: date | None, until: date | None) -> bool:
    """Keep spaces whose latest card falls in the period (no period: every space)."""
    if since is None and until is None:
        return True
    if latest is None:
        return False
    day = date.fromisoformat(latest[:10])
    return (since is None or day >= since) and (until is None or day <= until)


# ---------------------------------------------------------------- discrepancies


@router.get("/discrepancias", response_class=HTMLResponse)
async def discrepancies_page(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    status_: Annotated[DiscrepancyStatus | None, Query(alias="status")] = None,
    strength: EvidenceStrength | None = None,
    service: TextFilter = None,
    colonia_id: OptionalId = None,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> Response:
    """The queue of discrepancies, filtered as the API filters them."""
    staff = await viewer(request)
    filters = DiscrepancyFilter(
        status=status_, strength=strength, service_code=service, colonia_id=colonia_id
    )
    page = await evidence_repo.list_discrepancies(session, filters, limit=PAGE, offset=offset)
    spaces = {
        row.space.id: row.space
        for row in await reports_repo.spaces_with_layers(
            session, space_ids=sorted({d.public_space_id for d in page.items})
        )
    }
    colonias = await guardians_repo.list_colonias(session)
    return _render(
        request,
        runtime,
        "discrepancies.html",
        staff,
        page=page,
        spaces=spaces,
        colonias=colonias,
        filters=filters,
        statuses=list(DiscrepancyStatus),
        strengths=list(EvidenceStrength),
        offset=offset,
        limit=PAGE,
    )


@router.get("/discrepancias/{discrepancy_id}", response_class=HTMLResponse)
async def discrepancy_page(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    discrepancy_id: IdPath,
    msg: TextFilter = None,
) -> Response:
    """One discrepancy with its evidence (answers, photos, map) and its history."""
    staff = await viewer(request)
    report = await build_evidence_report(
        session,
        [discrepancy_id],
        media_dir=runtime.settings.media_dir,
        timezone=_zone(runtime),
        now=utcnow(),
        locale=runtime.settings.default_locale,
    )
    if not report.sections:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="discrepancy not found")
    current = DiscrepancyStatus(report.sections[0].status)
    history = await evidence_repo.events_of(session, discrepancy_id)
    return _render(
        request,
        runtime,
        "discrepancy.html",
        staff,
        section=report.sections[0],
        history=history,
        moves=sorted(evidence.ALLOWED_MOVES[current], key=list(DiscrepancyStatus).index),
        smtp=runtime.settings.smtp_enabled,
        msg=msg,
        zone=_zone(runtime),
    )


@router.post("/discrepancias/{discrepancy_id}/estado")
async def change_discrepancy_status(
    *,
    request: Request,
    session: SessionDep,
    discrepancy_id: IdPath,
    to_status: Annotated[DiscrepancyStatus, Form(alias="status")],
    csrf: CSRF,
    note: NOTE = "",
) -> Response:
    """Move a discrepancy (the evidence service keeps history and tells its guardians)."""
    staff = await _session_for(request, StaffTokenRole.STAFF, csrf)
    try:
        await evidence.change_status(
            session, discrepancy_id, to_status, actor=staff.token.name, note=note.strip() or None
        )
    except evidence.DiscrepancyNotFoundError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="discrepancy not found") from error
    except evidence.LifecycleError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(error)) from error
    return _back(f"/staff/discrepancias/{discrepancy_id}", "status")


@router.get("/discrepancias/{discrepancy_id}/evidencia.pdf")
async def discrepancy_pdf(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    discrepancy_id: IdPath,
) -> Response:
    """The evidence report PDF (the API's report service)."""
    await viewer(request)
    report = await build_evidence_report(
        session,
        [discrepancy_id],
        media_dir=runtime.settings.media_dir,
        timezone=_zone(runtime),
        now=utcnow(),
        locale=runtime.settings.default_locale,
    )
    if not report.sections:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="discrepancy not found")
    return Response(
        evidence_report_pdf(report),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="evidencia-{discrepancy_id}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


@router.post("/discrepancias/{discrepancy_id}/enviar")
async def send_to_directorate(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    discrepancy_id: IdPath,
    csrf: CSRF,
) -> Response:
    """Queue the evidence e-mail to the discrepancy's directorate."""
    staff = await _session_for(request, StaffTokenRole.STAFF, csrf)
    if not runtime.settings.smtp_enabled:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="e-mail is off")
    try:
        await mail.queue_notification(
            session,
            [discrepancy_id],
            requested_by=staff.actor,
            locale=runtime.settings.default_locale,
        )
    except mail.NotificationError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from error
    return _back(f"/staff/discrepancias/{discrepancy_id}", "queued")


# ---------------------------------------------------------------- contracts


def _review_period(runtime: RuntimeDep, start: date | None, end: date | None) -> tuple[date, date]:
    today = utcnow().astimezone(_zone(runtime)).date()
    end = end or today
    start = start or end - timedelta(days=365)
    if start > end:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="start after end")
    return start, end


@router.get("/contratos", response_class=HTMLResponse)
async def contracts_page(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> Response:
    """Contracts the map layers name, then the procurement data."""
    staff = await viewer(request)
    layers = (await catalog.list_layers(session, limit=1000, offset=0)).items
    layer_contracts = sorted(
        {
            (layer.contract_number, layer.responsible_name or "")
            for layer in layers
            if layer.contract_number
        }
    )
    page = await catalog.list_contracts(
        session, company_id=None, contract_number=None, limit=PAGE, offset=offset
    )
    return _render(
        request,
        runtime,
        "contracts.html",
        staff,
        layer_contracts=layer_contracts,
        page=page,
        offset=offset,
        limit=PAGE,
    )


@router.get("/contratos/revision", response_class=HTMLResponse)
async def contract_page(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    contract_id: OptionalId = None,
    number: Annotated[str | None, Query(max_length=100, pattern=NO_NUL)] = None,
    start: date | None = None,
    end: date | None = None,
) -> Response:
    """Coverage, failure rate per obligation, IMCO indicators, the company's other contracts."""
    staff = await viewer(request)
    if contract_id is None and not number:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="contract_id or number")
    period = _review_period(runtime, start, end)
    try:
        review = await contract_review(
            session,
            catalog=runtime.catalog,
            start=period[0],
            end=period[1],
            timezone=_zone(runtime),
            contract_id=contract_id,
            contract_number=number,
        )
    except ContractNotFoundError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="contract not found") from error
    t = translator(runtime.settings.default_locale)
    chart = staff_charts.bars(
        t("dashboard.contract.failure_chart"),
        [
            (t(f"dashboard.obligation.{o.obligation}"), round((o.failure_rate or 0) * 100, 1))
            for o in review.obligations
        ],
        maximum=100,
        suffix=" %",
    )
    return _render(request, runtime, "contract.html", staff, review=review, chart=chart)


# ---------------------------------------------------------------- colonias


@router.get("/colonias", response_class=HTMLResponse)
async def colonias_page(request: Request, runtime: RuntimeDep, session: SessionDep) -> Response:
    """Every colonia, with a link to its page."""
    staff = await viewer(request)
    colonias = await guardians_repo.list_colonias(session)
    return _render(request, runtime, "colonias.html", staff, colonias=colonias)


@router.get("/colonias/{colonia_id}", response_class=HTMLResponse)
async def colonia_page(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    colonia_id: IdPath,
    months: Annotated[int, Query(ge=1, le=24)] = 6,
) -> Response:
    """Guardians and lead, complaints before/after the first card, the visit briefing."""
    staff = await viewer(request)
    try:
        briefing = await build_briefing(
            session,
            colonia_id,
            months=months,
            now=utcnow(),
            timezone=_zone(runtime),
            locale=runtime.settings.default_locale,
        )
    except ColoniaNotFoundError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="colonia not found") from error
    guardians = (
        await staff_repo.list_guardians(
            session,
            colonia_id=colonia_id,
            role=None,
            channel=None,
            status=None,
            limit=500,
            offset=0,
        )
    ).items
    await record_read(
        session,
        staff.token,
        method="GET",
        route=request.url.path,
        guardian_ids=[g.id for g in guardians],
    )
    changes = await complaints_before_after(
        session,
        months=months,
        timezone=_zone(runtime),
        now=utcnow(),
        min_total=runtime.settings.complaints_min_total,
        colonia_id=colonia_id,
    )
    t = translator(runtime.settings.default_locale)
    chart = staff_charts.grouped_bars(
        t("dashboard.colonia.before_after"),
        [c.service_code for c in changes],
        {
            t("dashboard.colonia.before"): [c.before or 0 for c in changes],
            t("dashboard.colonia.after"): [c.after or 0 for c in changes],
        },
    )
    return _render(
        request,
        runtime,
        "colonia.html",
        staff,
        briefing=briefing,
        guardians=guardians,
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
    months: Annotated[int, Query(ge=1, le=24)] = 6,
) -> Response:
    """The briefing to read before a visit (the API's briefing service)."""
    await viewer(request)
    try:
        briefing = await build_briefing(
            session,
            colonia_id,
            months=months,
            now=utcnow(),
            timezone=_zone(runtime),
            locale=runtime.settings.default_locale,
        )
    except ColoniaNotFoundError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="colonia not found") from error
    return Response(
        briefing_pdf(briefing),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="briefing-{colonia_id}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


# ---------------------------------------------------------------- training


@router.get("/capacitacion", response_class=HTMLResponse)
async def training_page(
    request: Request, runtime: RuntimeDep, session: SessionDep, colonia_id: OptionalId = None
) -> Response:
    """Pre and post quiz results: means, gains, share right per topic."""
    staff = await viewer(request)
    course = runtime.catalog.course
    try:
        report = await training.learning_gains(
            session,
            runtime.catalog,
            form_id=course.quiz_form_id if course is not None else None,
            colonia_id=colonia_id,
        )
    except UnknownReferenceError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(error)) from error
    t = translator(runtime.settings.default_locale)
    means = staff_charts.grouped_bars(
        t("dashboard.training.means"),
        [t("dashboard.training.group")],
        {
            t("dashboard.training.pre"): [round(report.mean_pre or 0, 1)],
            t("dashboard.training.post"): [round(report.mean_post or 0, 1)],
        },
        maximum=100,
    )
    topics = staff_charts.grouped_bars(
        t("dashboard.training.topics"),
        [s.label or s.key for s in report.topics],
        {
            t("dashboard.training.pre"): [
                _share(s.pre_right, s.pre_attempts) for s in report.topics
            ],
            t("dashboard.training.post"): [
                _share(s.post_right, s.post_attempts) for s in report.topics
            ],
        },
        maximum=100,
    )
    colonias = await guardians_repo.list_colonias(session)
    return _render(
        request,
        runtime,
        "training.html",
        staff,
        report=report,
        means=means,
        topics=topics,
        colonias=colonias,
        colonia_id=colonia_id,
    )


def _share(right: int, attempts: int) -> float:
    return round(100 * right / attempts, 1) if attempts else 0.0


# ---------------------------------------------------------------- guardians


@router.get("/guardianes", response_class=HTMLResponse)
async def guardians_page(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    colonia_id: OptionalId = None,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    msg: TextFilter = None,
) -> Response:
    """Guardians (their reading is audited as the API's is), with promote and deactivate."""
    staff = await viewer(request)
    page = await staff_repo.list_guardians(
        session,
        colonia_id=colonia_id,
        role=None,
        channel=None,
        status=None,
        limit=PAGE,
        offset=offset,
    )
    await record_read(
        session,
        staff.token,
        method="GET",
        route=request.url.path,
        guardian_ids=[g.id for g in page.items],
    )
    colonias = await guardians_repo.list_colonias(session)
    return _render(
        request,
        runtime,
        "guardians.html",
        staff,
        page=page,
        colonias=colonias,
        names={c.id: c.name for c in colonias},
        colonia_id=colonia_id,
        offset=offset,
        limit=PAGE,
        msg=msg,
        lead=GuardianRole.LEAD,
        active=GuardianStatus.ACTIVE,
    )


@router.post("/guardianes/{guardian_id}/lider")
async def promote_guardian(
    *,
    request: Request,
    session: SessionDep,
    guardian_id: IdPath,
    csrf: CSRF,
) -> Response:
    """Make a guardian the lead of their colonia (the previous lead steps down)."""
    await _session_for(request, StaffTokenRole.STAFF, csrf)
    try:
        await staff_tokens.promote_to_lead(session, guardian_id)
    except staff_tokens.GuardianNotFoundError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="guardian not found") from error
    except staff_tokens.GuardianWithoutColoniaError as error:
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail="the guardian has no colonia"
        ) from error
    return _back("/staff/guardianes", "promoted")


@router.post("/guardianes/{guardian_id}/desactivar")
async def deactivate_guardian(
    *,
    request: Request,
    session: SessionDep,
    guardian_id: IdPath,
    csrf: CSRF,
) -> Response:
    """Deactivate a guardian (admin, as in the API)."""
    await _session_for(request, StaffTokenRole.ADMIN, csrf)
    try:
        await staff_tokens.deactivate_guardian(session, guardian_id)
    except staff_tokens.GuardianNotFoundError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="guardian not found") from error
    return _back("/staff/guardianes", "deactivated")


# ---------------------------------------------------------------- broadcasts


@router.get("/avisos", response_class=HTMLResponse)
async def broadcasts_page(request: Request, runtime: RuntimeDep, session: SessionDep) -> Response:
    """The composer and the latest broadcasts."""
    staff = await viewer(request)
    page = await broadcasts_repo.list_broadcasts(session, status=None, limit=PAGE, offset=0)
    colonias = await guardians_repo.list_colonias(session)
    return _render(
        request,
        runtime,
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
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="unknown role")
    return RecipientFilter(colonia_id=colonia_id, role=role or None, channel=channel or None)


FormId = Annotated[int | None, Form(ge=1, le=MAX_ID)]
FormChoice = Annotated[str | None, Form(max_length=20, pattern=r"^[a-z_]*$")]


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
    await _session_for(request, StaffTokenRole.STAFF, csrf)
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
    staff = await _session_for(request, StaffTokenRole.STAFF, csrf)
    if not text.strip():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="empty text")
    try:
        broadcast, _count = await broadcasts_service.create_broadcast(
            session,
            text=text.strip(),
            recipients=_recipients(colonia_id, role, channel),
            created_by=staff.actor,
        )
    except UnknownReferenceError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from error
    request.app.state.runtime.outbox_wakeup.set()
    return _back(f"/staff/avisos/{broadcast.id}")


@router.get("/avisos/{broadcast_id}", response_class=HTMLResponse)
async def broadcast_page(
    *,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    broadcast_id: IdPath,
) -> Response:
    """A broadcast's progress bar while it is sent, then its final report."""
    staff = await viewer(request)
    broadcast = await broadcasts_repo.get_broadcast(session, broadcast_id)
    if broadcast is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="broadcast not found")
    progress = await broadcasts_service.progress(session, broadcast_id)
    return _render(
        request, runtime, "broadcast.html", staff, broadcast=broadcast, progress=progress
    )


@router.get("/avisos/{broadcast_id}/progreso")
async def broadcast_progress(
    *,
    request: Request,
    session: SessionDep,
    broadcast_id: IdPath,
) -> JSONResponse:
    """The progress as JSON, polled by the page's progress bar."""
    await viewer(request)
    try:
        await broadcasts_service.refresh_status(session, broadcast_id)
        progress = await broadcasts_service.progress(session, broadcast_id)
    except broadcasts_service.BroadcastNotFoundError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="broadcast not found") from error
    return JSONResponse(
        {
            "status": progress.status,
            "total": progress.total,
            "finished": progress.finished,
            "sent": progress.sent,
            "failed": progress.failed,
            "unreachable": progress.unreachable,
            "percent": math.floor(100 * progress.finished / progress.total)
            if progress.total
            else 100,
        },
        headers={"Cache-Control": "no-store"},
    )


# ---------------------------------------------------------------- visits and reminders


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
    zone = _zone(runtime)
    today = utcnow().astimezone(zone).date()
    shown = date.fromisoformat(f"{month}-01") if month else today.replace(day=1)
    weeks = await dashboard.visits_calendar(session, month=shown, timezone=zone)
    reminders = (
        await reminders_repo.list_reminders(
            session, colonia_id=None, kind=None, limit=PAGE, offset=0
        )
    ).items
    previous = (shown - timedelta(days=1)).replace(day=1)
    following = (shown + timedelta(days=32)).replace(day=1)
    return _render(
        request,
        runtime,
        "visits.html",
        staff,
        weeks=weeks,
        shown=shown,
        today=today,
        previous=previous,
        following=following,
        reminders=reminders,
        zone=zone,
        cron=lambda r: json.dumps(r.cron, ensure_ascii=False),
    )


# ---------------------------------------------------------------- imports


async def _imports_page(
    request: Request,
    runtime: RuntimeDep,
    staff: StaffSession,
    *,
    status_code: int = 200,
    report: ImportReport | None = None,
    failure: str | None = None,
    problems: list[str] | None = None,
) -> Response:
    async with unit_of_work(runtime.sessions) as session:
        layers = (await catalog.list_layers(session, limit=PAGE, offset=0)).items
    return _render(
        request,
        runtime,
        "imports.html",
        staff,
        status_code=status_code,
        kinds=file_imports.IMPORT_KINDS,
        layers=layers,
        report=report,
        failure=failure,
        problems=problems or [],
    )


@router.get("/importaciones", response_class=HTMLResponse)
async def imports_page(request: Request, runtime: RuntimeDep) -> Response:
    """The upload form and the layers loaded so far."""
    staff = await viewer(request)
    return await _imports_page(request, runtime, staff)


@router.post("/importaciones", response_class=HTMLResponse)
async def upload_import(
    *,
    request: Request,
    runtime: RuntimeDep,
    file: UploadFile,
    kind: Annotated[str, Form(max_length=20)],
    csrf: CSRF,
    service: Annotated[str | None, Form(max_length=64, pattern=NO_NUL)] = None,
    contract: Annotated[str | None, Form(max_length=100, pattern=NO_NUL)] = None,
    responsible: Annotated[str | None, Form(max_length=300, pattern=NO_NUL)] = None,
    skip_invalid: Annotated[bool, Form()] = False,
) -> Response:
    """Import an uploaded file and show its report (all or nothing, as the API)."""
    staff = await _session_for(request, StaffTokenRole.STAFF, csrf)
    if kind not in file_imports.IMPORT_KINDS or (kind == "kml" and not service):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="kind or service")
    name = PurePosixPath((file.filename or f"upload.{kind}").replace("\\", "/")).name
    if not name or "\x00" in name or len(name) > MAX_FILE_NAME:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="file name")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(await file.read())
        spec = (
            LayerSpec(
                path=path,
                service=service or "",
                year=None,
                contract=contract or None,
                responsible=responsible or None,
                responsible_type=ResponsibleType.CONTRACTOR
                if responsible
                else ResponsibleType.MUNICIPALITY,
                title=None,
            )
            if kind == "kml"
            else None
        )
        try:
            report = await file_imports.run_import(
                kind, path, runtime, spec, skip_invalid=skip_invalid
            )
        except ImportFileError as error:
            return await _imports_page(request, runtime, staff, status_code=422, failure=str(error))
        except evidence_imports.StatusImportError as error:
            return await _imports_page(
                request,
                runtime,
                staff,
                status_code=422,
                failure=str(error),
                problems=[f"{p.line}: {p.column}: {p.reason}" for p in error.problems],
            )
    return await _imports_page(request, runtime, staff, report=report)


# ---------------------------------------------------------------- tokens (admin)


async def _tokens_page(
    request: Request, runtime: RuntimeDep, staff: StaffSession, created: str | None = None
) -> Response:
    async with unit_of_work(runtime.sessions) as session:
        rows = await staff_tokens.list_tokens(session)
    return _render(
        request,
        runtime,
        "tokens.html",
        staff,
        rows=rows,
        created=created,
        roles=list(StaffTokenRole),
    )


@router.get("/tokens", response_class=HTMLResponse)
async def tokens_page(request: Request, runtime: RuntimeDep) -> Response:
    """Staff tokens (admin): who may use the API and this dashboard."""
    staff = await _session_for(request, StaffTokenRole.ADMIN)
    return await _tokens_page(request, runtime, staff)


@router.post("/tokens", response_class=HTMLResponse)
async def create_token(
    *,
    request: Request,
    runtime: RuntimeDep,
    name: Annotated[str, Form(min_length=1, max_length=200, pattern=NO_NUL)],
    role: Annotated[StaffTokenRole, Form()],
    csrf: CSRF,
) -> Response:
    """Make a token; its plain value is shown on this answer only, never again."""
    staff = await _session_for(request, StaffTokenRole.ADMIN, csrf)
    async with unit_of_work(runtime.sessions) as session:
        _, plain = await staff_tokens.create_token(session, name=name.strip(), role=role)
    return await _tokens_page(request, runtime, staff, created=plain)


@router.post("/tokens/{token_id}/revocar")
async def revoke_token(
    request: Request, session: SessionDep, token_id: IdPath, csrf: CSRF
) -> Response:
    """Revoke a token: its API calls and dashboard sessions stop at once."""
    await _session_for(request, StaffTokenRole.ADMIN, csrf)
    if not await staff_tokens.revoke_token(session, token_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="token not found or revoked")
    return _back("/staff/tokens")


STATIC_FILES = {"staff.css": "text/css", "staff.js": "text/javascript"}


@router.get("/static/{name}")
async def staff_static(name: str) -> Response:
    """The dashboard's own stylesheet and script."""
    media_type = STATIC_FILES.get(name)
    if media_type is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such file")
    return FileResponse(
        WEB_DIR / "static" / name,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=3600"},
    )
