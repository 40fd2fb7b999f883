"""Places: colonias, public spaces and the map layers they come from."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.storage.models import Colonia, Layer, PublicSpace
from guardianes.storage.repositories.pagination import PageRows, paginate


async def list_colonias(session: AsyncSession, *, limit: int, offset: int) -> PageRows[Colonia]:
    """Colonias by name."""
    statement = select(Colonia).order_by(Colonia.name, Colonia.id)
    return await paginate(session, statement, limit=limit, offset=offset)


async def get_colonia(session: AsyncSession, colonia_id: int) -> Colonia | None:
    """One colonia."""
    return await session.get(Colonia, colonia_id)


def _spaces_statement(colonia_id: int | None, kind: str | None) -> Select[Any]:
    statement = select(PublicSpace).order_by(PublicSpace.id)
    if colonia_id is not None:
        statement = statement.where(PublicSpace.colonia_id == colonia_id)
    if kind is not None:
        statement = statement.where(PublicSpace.kind == kind)
    return statement


async def list_spaces(
    session: AsyncSession,
    *,
    colonia_id: int | None,
    kind: str | None,
    limit: int,
    offset: int,
) -> PageRows[PublicSpace]:
    """Public spaces, optionally of one colonia or kind."""
    statement = _spaces_statement(colonia_id, kind)
    return await paginate(session, statement, limit=limit, offset=offset)


async def get_space(session: AsyncSession, space_id: int) -> PublicSpace | None:
    """One public space."""
    return await session.get(PublicSpace, space_id)


async def list_layers(session: AsyncSession, *, limit: int, offset: int) -> PageRows[Layer]:
    """Imported map layers, most recently changed first (the import history)."""
    statement = select(Layer).order_by(Layer.updated_at.desc(), Layer.id.desc())
    return await paginate(session, statement, limit=limit, offset=offset)
