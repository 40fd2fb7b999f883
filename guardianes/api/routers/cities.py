"""The cities a deployment serves."""

from __future__ import annotations

from fastapi import APIRouter

from guardianes.api.auth import ViewerDep
from guardianes.api.deps import SessionDep
from guardianes.api.paths import PREFIX
from guardianes.api.schemas import CityPublic
from guardianes.services.cities import city_ref
from guardianes.storage.repositories import cities as cities_repo

router = APIRouter(prefix=PREFIX, tags=["cities"])


@router.get("/cities")
async def list_cities(session: SessionDep, _: ViewerDep) -> list[CityPublic]:
    """Every city of the deployment."""
    return [
        CityPublic.model_validate(city_ref(c), from_attributes=True)
        for c in await cities_repo.all_cities(session)
    ]
