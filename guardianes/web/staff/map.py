"""The staff map: spaces colored by their latest card status, with filters."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from guardianes.api.deps import RuntimeDep, SessionDep
from guardianes.services.reports.exports import spaces_feature_collection
from guardianes.storage.repositories import guardians as guardians_repo
from guardianes.storage.repositories import places as places_repo
from guardianes.web.staff.common import OptionalId, TextFilter, render, viewer, zone

router = APIRouter()
MAP_PAGE = 5000  # every space of a city in one answer; the page draws them all


@router.get("/mapa", response_class=HTMLResponse)
async def map_page(request: Request, runtime: RuntimeDep, session: SessionDep) -> Response:
    """Spaces colored by their latest card status, with filters."""
    staff = await viewer(request)
    colonias = await guardians_repo.list_colonias(session)
    layers = (await places_repo.list_layers(session, limit=1000, offset=0)).items
    return render(
        request,
        "map.html",
        staff,
        colonias=colonias,
        services=sorted({layer.service_code for layer in layers}),
        contracts=sorted({layer.contract_number for layer in layers if layer.contract_number}),
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
        session, colonia_id=colonia_id, limit=MAP_PAGE, offset=0, timezone=zone(runtime)
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
