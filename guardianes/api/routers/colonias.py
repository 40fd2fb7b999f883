"""Colonias: read them, set a colonia's training date."""

from __future__ import annotations

from fastapi import APIRouter

from guardianes.api.auth import DEFAULT_PAGE, IdPath, LimitQuery, OffsetQuery, StaffDep, ViewerDep
from guardianes.api.deps import SessionDep
from guardianes.api.errors import found
from guardianes.api.paths import PREFIX
from guardianes.api.schemas import ColoniaPublic, ColoniaUpdate, Page, page_of
from guardianes.storage.models import Colonia
from guardianes.storage.repositories import catalog

router = APIRouter(prefix=PREFIX, tags=["colonias"])


def _colonia(colonia: Colonia) -> ColoniaPublic:
    public = ColoniaPublic.model_validate(colonia)
    public.has_geometry = colonia.geometry_geojson is not None
    return public


@router.get("/colonias")
async def list_colonias(
    *, session: SessionDep, _: ViewerDep, limit: LimitQuery = DEFAULT_PAGE, offset: OffsetQuery = 0
) -> Page[ColoniaPublic]:
    """Colonias by name."""
    page = await catalog.list_colonias(session, limit=limit, offset=offset)
    return page_of(page, _colonia, limit=limit, offset=offset)


@router.get("/colonias/{colonia_id}")
async def get_colonia(session: SessionDep, _: ViewerDep, colonia_id: IdPath) -> ColoniaPublic:
    """One colonia."""
    return _colonia(found(await catalog.get_colonia(session, colonia_id), "colonia"))


@router.patch("/colonias/{colonia_id}")
async def update_colonia(
    *, session: SessionDep, _: StaffDep, colonia_id: IdPath, body: ColoniaUpdate
) -> ColoniaPublic:
    """Set a colonia's training date (quizzes before it are pre-training, after it post)."""
    colonia = found(await catalog.get_colonia(session, colonia_id), "colonia")
    colonia.training_date = body.training_date
    await session.flush()
    return _colonia(colonia)
