"""Cities and "who is responsible here?" for staff: the chat's answer at any point.

Mounted before the other routers so `/spaces/at` is not taken for a space id.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel

from guardianes.api.auth import ViewerDep
from guardianes.conversations.context import SpaceMatch
from guardianes.conversations.messages import GeoPoint
from guardianes.geo.cities import CityGazetteers
from guardianes.geo.index import SpatialGazetteer
from guardianes.services.cities import city_ref
from guardianes.storage.repositories import cities as cities_repo
from guardianes.web.deps import RuntimeDep, SessionDep

router = APIRouter(prefix="/api/v1")


class CityPublic(BaseModel):
    """A city the deployment serves, with the names its guardians read."""

    id: int
    name: str
    programme_name: str
    office_name: str
    privacy_owner: str
    privacy_contact: str


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


@router.get("/cities", tags=["cities"])
async def list_cities(session: SessionDep, _: ViewerDep) -> list[CityPublic]:
    """Every city of the deployment."""
    return [
        CityPublic.model_validate(city_ref(c), from_attributes=True)
        for c in await cities_repo.all_cities(session)
    ]


@router.get("/spaces/at", tags=["spaces"])
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
    found = next((c for c in await cities_repo.all_cities(session) if c.id == city_id), None)
    return SpacesAtPublic(
        lat=lat,
        lon=lon,
        city=CityPublic.model_validate(city_ref(found), from_attributes=True) if found else None,
        colonia=colonia.name if colonia else None,
        spaces=[_space(match) for match in gazetteer.spaces_at(point)],
    )
