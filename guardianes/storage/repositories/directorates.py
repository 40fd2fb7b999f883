"""Directorates: the municipal units in charge of a service, notified of discrepancies."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.storage.models import Directorate, Layer
from guardianes.storage.models_evidence import Discrepancy
from guardianes.storage.repositories.pagination import PageRows, paginate


async def list_directorates(
    session: AsyncSession, *, service_code: str | None, limit: int, offset: int
) -> PageRows[Directorate]:
    """Directorates by name."""
    statement = select(Directorate).order_by(Directorate.name, Directorate.id)
    if service_code is not None:
        statement = statement.where(Directorate.service_code == service_code)
    return await paginate(session, statement, limit=limit, offset=offset)


async def get(session: AsyncSession, directorate_id: int) -> Directorate | None:
    """One directorate."""
    return await session.get(Directorate, directorate_id)


async def by_name(
    session: AsyncSession, name: str, city_id: int | None = None
) -> Directorate | None:
    """The directorate with exactly that name (in that city, when given)."""
    query = select(Directorate).where(Directorate.name == name).order_by(Directorate.id)
    if city_id is not None:
        query = query.where(Directorate.city_id == city_id)
    return (await session.scalars(query.limit(1))).one_or_none()


async def add(session: AsyncSession, row: Directorate) -> Directorate:
    """Insert a directorate."""
    session.add(row)
    await session.flush()
    return row


async def delete(session: AsyncSession, row: Directorate) -> None:
    """Delete a directorate."""
    await session.delete(row)
    await session.flush()


async def link_layers_of_service(session: AsyncSession, directorate: Directorate) -> int:
    """Give the directorate every layer of its service that has none; returns how many."""
    if directorate.service_code is None:
        return 0
    result = await session.execute(
        update(Layer)
        .where(
            Layer.service_code == directorate.service_code,
            Layer.directorate_id.is_(None),
            Layer.city_id == directorate.city_id,
        )
        .values(directorate_id=directorate.id)
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def unlink_layers(session: AsyncSession, directorate_id: int) -> None:
    """Layers of a directorate being deleted go back to none."""
    await session.execute(
        update(Layer)
        .where(Layer.directorate_id == directorate_id)
        .values(directorate_id=None)
        .execution_options(synchronize_session="fetch")
    )


async def discrepancy_count(session: AsyncSession, directorate_id: int) -> int:
    """How many discrepancies name the directorate."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Discrepancy)
            .where(Discrepancy.directorate_id == directorate_id)
        )
        or 0
    )


async def layers_of(session: AsyncSession, directorate_id: int) -> list[str]:
    """File names of the layers a directorate answers for."""
    rows = await session.scalars(
        select(Layer.file_name).where(Layer.directorate_id == directorate_id).order_by(Layer.id)
    )
    return list(rows)
