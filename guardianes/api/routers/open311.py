"""Open311 GeoReport v2 read API, public like the city's open data (no token).

`/open311/v2/services.json`, `/open311/v2/services/{service_code}.json`,
`/open311/v2/requests.json` and `/open311/v2/requests/{service_request_id}.json`, JSON
only. Errors are GeoReport error lists, `[{"code": 400, "description": "..."}]`, with the
same HTTP status. `jurisdiction_id` is accepted and ignored: one service, one jurisdiction.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from guardianes.api.deps import RuntimeDep, SessionDep
from guardianes.services.reports import open311
from guardianes.services.reports.open311 import Open311Error
from guardianes.storage.types import utcnow

router = APIRouter(prefix="/open311/v2", tags=["open311"])
MAX_PARAM = 2000


def _answer(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(
        body,
        status_code=status,
        headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=60"},
    )


def _error(error: Open311Error) -> JSONResponse:
    return _answer(error.body(), error.code)


def _param(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    if value is not None and (len(value) > MAX_PARAM or "\x00" in value):
        raise Open311Error(400, f"{name} is not valid")
    return value


@router.get("/services.json")
async def services(runtime: RuntimeDep) -> JSONResponse:
    """Every surveillance card as a service."""
    return _answer(open311.services(runtime.catalog, runtime.settings.default_locale))


@router.get("/services/{service_code}.json")
async def service_definition(runtime: RuntimeDep, service_code: str) -> JSONResponse:
    """A card's questions as service attributes."""
    try:
        return _answer(
            open311.service_definition(
                runtime.catalog, service_code, runtime.settings.default_locale
            )
        )
    except Open311Error as error:
        return _error(error)


@router.get("/requests.json")
async def requests(request: Request, session: SessionDep, runtime: RuntimeDep) -> JSONResponse:
    """Discrepancies as service requests; filters `service_request_id`, `service_code`,
    `status`, `start_date`, `end_date` (default: the last 90 days, at most 1000)."""
    try:
        query = open311.parse_query(
            service_request_id=_param(request, "service_request_id"),
            service_code=_param(request, "service_code"),
            status=_param(request, "status"),
            start_date=_param(request, "start_date"),
            end_date=_param(request, "end_date"),
        )
        found = await open311.service_requests(
            session, runtime.catalog, query, now=utcnow(), locale=runtime.settings.default_locale
        )
    except Open311Error as error:
        return _error(error)
    return _answer(found)


@router.get("/requests/{service_request_id}.json")
async def request(
    session: SessionDep, runtime: RuntimeDep, service_request_id: str
) -> JSONResponse:
    """One service request (a list of one, as GeoReport answers)."""
    try:
        found = await open311.service_request(
            session, runtime.catalog, service_request_id, locale=runtime.settings.default_locale
        )
    except Open311Error as error:
        return _error(error)
    return _answer(found)
