"""Contracts and companies: the list, then one contract's review."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import HTMLResponse, Response

from guardianes.api.deps import RuntimeDep, SessionDep
from guardianes.api.schemas import NO_NUL
from guardianes.services.reports.contract_review import ContractNotFoundError, contract_review
from guardianes.storage.repositories import contracts as contracts_repo
from guardianes.storage.repositories import places as places_repo
from guardianes.storage.types import utcnow
from guardianes.web.staff import charts
from guardianes.web.staff.common import (
    PAGE,
    Offset,
    OptionalId,
    refusing,
    render,
    texts,
    unprocessable,
    viewer,
    zone,
)

router = APIRouter()


def _review_period(runtime: RuntimeDep, start: date | None, end: date | None) -> tuple[date, date]:
    today = utcnow().astimezone(zone(runtime)).date()
    end = end or today
    start = start or end - timedelta(days=365)
    if start > end:
        raise unprocessable("start after end")
    return start, end


@router.get("/contratos", response_class=HTMLResponse)
async def contracts_page(*, request: Request, session: SessionDep, offset: Offset = 0) -> Response:
    """Contracts the map layers name, then the procurement data."""
    staff = await viewer(request)
    layers = (await places_repo.list_layers(session, limit=1000, offset=0)).items
    layer_contracts = sorted(
        {
            (layer.contract_number, layer.responsible_name or "")
            for layer in layers
            if layer.contract_number
        }
    )
    page = await contracts_repo.list_contracts(
        session, company_id=None, contract_number=None, limit=PAGE, offset=offset
    )
    return render(
        request,
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
        raise unprocessable("contract_id or number")
    period = _review_period(runtime, start, end)
    with refusing((ContractNotFoundError, status.HTTP_404_NOT_FOUND, "contract not found")):
        review = await contract_review(
            session,
            catalog=runtime.catalog,
            start=period[0],
            end=period[1],
            timezone=zone(runtime),
            contract_id=contract_id,
            contract_number=number,
        )
    t = texts(request)
    chart = charts.bars(
        t("dashboard.contract.failure_chart"),
        [
            (t(f"dashboard.obligation.{o.obligation}"), round((o.failure_rate or 0) * 100, 1))
            for o in review.obligations
        ],
        maximum=100,
        suffix=" %",
    )
    return render(request, "contract.html", staff, review=review, chart=chart)
