"""Cities: find, create on first use, resolve the one an import or a guardian belongs to."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.storage.cities_default import CityRequiredError, city_key, default_city_values
from guardianes.storage.models_cities import City

__all__ = ["CityRequiredError", "all_cities", "by_name", "ensure_city", "resolve_city"]


_ALL_CITIES = select(City).order_by(City.id)  # every message reads it: built once


async def all_cities(session: AsyncSession) -> Sequence[City]:
    """Every city, oldest first."""
    return (await session.scalars(_ALL_CITIES)).all()


async def by_name(session: AsyncSession, name: str) -> City | None:
    """The city of that name (accents, case and spacing ignored)."""
    return await session.scalar(select(City).where(City.normalized_name == city_key(name)))


async def ensure_city(session: AsyncSession, name: str) -> City:
    """The city of that name, created with the settings' defaults on first use."""
    found = await by_name(session, name)
    if found is not None:
        return found
    values = default_city_values(name)
    values.pop("created_at")
    values.pop("updated_at")
    city = City(**values)
    session.add(city)
    await session.flush()
    return city


async def resolve_city(session: AsyncSession, name: str | None) -> City:
    """The named city (created on first use), else the only one (the default when none).

    Raises `CityRequiredError` when no name is given and there are several cities.
    """
    if name is not None and name.strip():
        return await ensure_city(session, name)
    cities = await all_cities(session)
    if len(cities) == 1:
        return cities[0]
    if cities:
        names = ", ".join(city.name for city in cities)
        raise CityRequiredError(f"several cities ({names}): say which one with --city")
    return await ensure_city(session, default_city_values()["name"])
