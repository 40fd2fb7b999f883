"""Queries of the importers and of the gazetteer loader (layers, spaces, colonias, contracts)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.storage.models import (
    Colonia,
    Company,
    ComplaintCount,
    Contract,
    Directorate,
    Layer,
    PublicSpace,
    ServiceType,
)

ComplaintKey = tuple[int, str, date, str]
_IN_CHUNK = 500  # stay below SQLite's bound-parameter limit in IN (...) lists


async def service_types(session: AsyncSession) -> dict[str, ServiceType]:
    """Every service type by code."""
    rows = await session.scalars(select(ServiceType))
    return {row.code: row for row in rows}


async def layer_by_file_name(
    session: AsyncSession, file_name: str, city_id: int | None = None
) -> Layer | None:
    """The layer imported from a file of that name (in that city, when given)."""
    query = select(Layer).where(Layer.file_name == file_name)
    if city_id is not None:
        query = query.where(Layer.city_id == city_id)
    return await session.scalar(query)


async def spaces_of_layer(session: AsyncSession, layer_id: int) -> dict[str, PublicSpace]:
    """A layer's public spaces by placemark key."""
    rows = await session.scalars(select(PublicSpace).where(PublicSpace.layer_id == layer_id))
    return {row.placemark_key: row for row in rows}


async def all_spaces(session: AsyncSession, city_id: int | None = None) -> Sequence[PublicSpace]:
    """Every public space (of one city, when given: a city owns its layers' spaces)."""
    query = select(PublicSpace).order_by(PublicSpace.id)
    if city_id is not None:
        query = query.join(Layer, PublicSpace.layer_id == Layer.id).where(Layer.city_id == city_id)
    return (await session.scalars(query)).all()


async def all_layers(session: AsyncSession, city_id: int | None = None) -> Sequence[Layer]:
    """Every layer (of one city, when given)."""
    query = select(Layer).order_by(Layer.id)
    if city_id is not None:
        query = query.where(Layer.city_id == city_id)
    return (await session.scalars(query)).all()


async def all_colonias(session: AsyncSession, city_id: int | None = None) -> Sequence[Colonia]:
    """Every colonia (of one city, when given), by name."""
    query = select(Colonia).order_by(Colonia.normalized_name)
    if city_id is not None:
        query = query.where(Colonia.city_id == city_id)
    return (await session.scalars(query)).all()


async def all_companies(session: AsyncSession) -> Sequence[Company]:
    """Every company, oldest first (the first of a name wins name matches)."""
    return (await session.scalars(select(Company).order_by(Company.id))).all()


async def all_directorates(
    session: AsyncSession, city_id: int | None = None
) -> Sequence[Directorate]:
    """Every directorate (of one city, when given)."""
    query = select(Directorate)
    if city_id is not None:
        query = query.where(Directorate.city_id == city_id)
    return (await session.scalars(query)).all()


async def contracts_by_natural_key(
    session: AsyncSession, keys: Iterable[str], city_id: int | None = None
) -> dict[str, Contract]:
    """Existing contracts among these natural keys (of one city, when given)."""
    wanted = list(keys)
    found: dict[str, Contract] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        query = select(Contract).where(Contract.natural_key.in_(chunk))
        if city_id is not None:
            query = query.where(Contract.city_id == city_id)
        rows = await session.scalars(query)
        found.update({row.natural_key: row for row in rows})
    return found


async def contract_numbers(
    session: AsyncSession, city_id: int | None = None
) -> Sequence[tuple[int, str]]:
    """(id, contract number) of every numbered contract, newest contract date first."""
    query = (
        select(Contract.id, Contract.contract_number)
        .where(Contract.contract_number.is_not(None))
        .order_by(Contract.contract_date.desc(), Contract.id.desc())
    )
    if city_id is not None:
        query = query.where(Contract.city_id == city_id)
    result = await session.execute(query)
    return [(row[0], row[1]) for row in result.all() if row[1] is not None]


async def contracts_with_companies(
    session: AsyncSession, ids: Iterable[int]
) -> dict[int, tuple[Contract, Company | None]]:
    """Contracts by id, each with its company."""
    wanted = list(ids)
    if not wanted:
        return {}
    result = await session.execute(
        select(Contract, Company)
        .outerjoin(Company, Contract.company_id == Company.id)
        .where(Contract.id.in_(wanted))
    )
    return {contract.id: (contract, company) for contract, company in result.all()}


async def complaint_counts(
    session: AsyncSession, colonia_ids: Iterable[int]
) -> dict[ComplaintKey, ComplaintCount]:
    """Complaint rows of these colonias by (colonia, service, period start, granularity)."""
    wanted = list(set(colonia_ids))
    found: dict[ComplaintKey, ComplaintCount] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        rows = await session.scalars(
            select(ComplaintCount).where(ComplaintCount.colonia_id.in_(chunk))
        )
        for row in rows:
            found[(row.colonia_id, row.service_code, row.period_start, row.granularity)] = row
    return found


async def count_rows(session: AsyncSession, model: type[object]) -> int:
    """How many rows a table holds (for reports and tests)."""
    result = await session.scalar(select(func.count()).select_from(model))
    return int(result or 0)
