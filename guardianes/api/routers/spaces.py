"""Public spaces: lists, GeoJSON, and "who is responsible here?" at any point.

`/spaces/at` is declared before `/spaces/{space_id}` so it is not taken for a space id.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel

from guardianes.api.auth import (
    DEFAULT_PAGE,
    IdPath,
    IdQuery,
    LimitQuery,
    OffsetQuery,
    TextQuery,
    ViewerDep,
)
from guardianes.api.deps import RuntimeDep, SessionDep
from guardianes.api.errors import found
from guardianes.api.params import GEOJSON_LIMIT
from guardianes.api.paths import PREFIX
from guardianes.api.responses import GeoJSONResponse
from guardianes.api.schemas import CityPublic, Page, SpacePublic, page_of
from guardianes.conversations.context import SpaceMatch
from guardianes.conversations.messages import GeoPoint
from guardianes.geo.cities import CityGazetteers
from guardianes.geo.index import SpatialGazetteer
from guardianes.services.cities import city_ref
from guardianes.storage.repositories import catalog
from guardianes.storage.repositories import cities as cities_repo

router = APIRouter(prefix=PREFIX, tags=["spaces"])


class ResponsiblePublic(BaseModel):
    """Who answers for a service at a space."""

    name: str
    kind: str
    service: str
    directorate: str | None
    contract_number: str | None
    contract_object: str | None
    obligations: str | None
    company_contracts: int | None
    company_direct_awards: int | None


class SpaceAtPublic(BaseModel):
    """A space or route area at (or near) the point."""

    space_id: int
    name: str
    code: str | None
    kind: str
    inside: bool
    distance_m: float
    colonia: str | None
    responsible: list[ResponsiblePublic]


class SpacesAtPublic(BaseModel):
    """The chat's answer to "who is responsible?" at a point: `spaces[0]` is what the chat
    says; the others are the spaces of the other services there (e.g. the route area
    around a park)."""

    lat: float
    lon: float
    city: CityPublic | None
    colonia: str | None
    spaces: list[SpaceAtPublic]


def _space(match: SpaceMatch) -> SpaceAtPublic:
    return SpaceAtPublic(
        space_id=match.space_id,
        name=match.name,
        code=match.code,
        kind=match.kind,
        inside=match.inside,
        distance_m=match.distance_m,
        colonia=match.colonia.name if match.colonia else None,
        responsible=[
            ResponsiblePublic(
                name=p.name,
                kind=p.kind,
                service=p.service,
                directorate=p.directorate,
                contract_number=p.contract_number,
                contract_object=p.contract_object,
                obligations=p.obligations,
                company_contracts=p.company_contracts,
                company_direct_awards=p.company_direct_awards,
            )
            for p in match.responsible
        ],
    )


@router.get("/spaces/at")
async def spaces_at(
    *,
    runtime: RuntimeDep,
    session: SessionDep,
    _: ViewerDep,
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
    city: Annotated[str | None, Query(max_length=200, description="Only this city.")] = None,
) -> SpacesAtPublic:
    """What the chat answers to "who is responsible?" at this point, with who answers for
    each space and route area there."""
    point = GeoPoint(latitude=lat, longitude=lon)
    gazetteers = runtime.gazetteer
    city_id: int | None = None
    if city is not None:
        row = await cities_repo.by_name(session, city)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no city named {city!r}")
        city_id = row.id
    elif isinstance(gazetteers, CityGazetteers):
        city_id = gazetteers.city_at(point)
    if isinstance(gazetteers, CityGazetteers):
        gazetteer = gazetteers.spatial(city_id) if city_id is not None else None
    else:
        gazetteer = gazetteers if isinstance(gazetteers, SpatialGazetteer) else None
    if gazetteer is None:
        return SpacesAtPublic(lat=lat, lon=lon, city=None, colonia=None, spaces=[])
    colonia = gazetteer.colonia_at(point)
    in_city = next((c for c in await cities_repo.all_cities(session) if c.id == city_id), None)
    return SpacesAtPublic(
        lat=lat,
        lon=lon,
        city=CityPublic.model_validate(city_ref(in_city), from_attributes=True)
        if in_city
        else None,
        colonia=colonia.name if colonia else None,
        spaces=[_space(match) for match in gazetteer.spaces_at(point)],
    )


@router.get("/spaces")
async def list_spaces(
    session: SessionDep,
    _: ViewerDep,
    colonia_id: IdQuery = None,
    kind: TextQuery = None,
    limit: LimitQuery = DEFAULT_PAGE,
    offset: OffsetQuery = 0,
) -> Page[SpacePublic]:
    """Public spaces, by colonia or kind."""
    page = await catalog.list_spaces(
        session, colonia_id=colonia_id, kind=kind, limit=limit, offset=offset
    )
    return page_of(page, SpacePublic.model_validate, limit=limit, offset=offset)


@router.get("/spaces.geojson", response_class=GeoJSONResponse)
async def spaces_geojson(
    *,
    session: SessionDep,
    _: ViewerDep,
    colonia_id: IdQuery = None,
    kind: TextQuery = None,
    limit: Annotated[int, Query(ge=1, le=GEOJSON_LIMIT)] = 1000,
    offset: OffsetQuery = 0,
) -> dict[str, Any]:
    """Public spaces as a GeoJSON FeatureCollection (paginated like every list)."""
    page = await catalog.list_spaces(
        session, colonia_id=colonia_id, kind=kind, limit=limit, offset=offset
    )
    features = [
        {
            "type": "Feature",
            "id": space.id,
            "geometry": space.geometry_geojson,
            "properties": SpacePublic.model_validate(space).model_dump(mode="json"),
        }
        for space in page.items
    ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "total": page.total,
        "limit": limit,
        "offset": offset,
    }


@router.get("/spaces/{space_id}")
async def get_space(session: SessionDep, _: ViewerDep, space_id: IdPath) -> SpacePublic:
    """One public space."""
    return SpacePublic.model_validate(found(await catalog.get_space(session, space_id), "space"))
