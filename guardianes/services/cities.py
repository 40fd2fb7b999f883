"""Which city a conversation belongs to, and what of the geography it may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.config import Settings
from guardianes.conversations.context import CityRef, Gazetteer
from guardianes.domain.timezone import zone
from guardianes.geo.cities import CityGazetteers
from guardianes.storage.models import Guardian
from guardianes.storage.models_cities import City
from guardianes.storage.repositories import cities as cities_repo


@dataclass(frozen=True, slots=True)
class CityView:
    """The city of one conversation: its names, its zone, the gazetteer it sees."""

    city: CityRef | None
    cities: tuple[CityRef, ...]
    gazetteer: Gazetteer
    city_gazetteers: dict[int, Gazetteer] = field(default_factory=dict)
    timezone: ZoneInfo | None = None


def city_ref(city: City) -> CityRef:
    """The engine's view of a city row."""
    return CityRef(
        id=city.id,
        name=city.name,
        programme_name=city.programme_name,
        office_name=city.office_name,
        privacy_owner=city.privacy_owner,
        privacy_contact=city.privacy_contact,
    )


def _zone(name: str) -> ZoneInfo | None:
    try:
        return zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def settings_city(settings: Settings) -> CityRef:
    """The city a deployment names in its settings (id 0: not stored yet)."""
    return CityRef(
        id=0,
        name=settings.city_name,
        programme_name=settings.programme_name,
        office_name=settings.office_name,
        privacy_owner=settings.privacy_owner,
        privacy_contact=settings.privacy_contact,
    )


async def city_view(
    session: AsyncSession, settings: Settings, gazetteer: Gazetteer, guardian: Guardian | None
) -> CityView:
    """The guardian's city (from their row, else their colonia, else the only city) and the
    gazetteer of that city alone; a newcomer in a multi-city deployment sees every city until
    registration settles theirs."""
    rows = list(await cities_repo.all_cities(session))
    refs = tuple(city_ref(row) for row in rows)
    by_city = isinstance(gazetteer, CityGazetteers)
    per_city: dict[int, Gazetteer] = (
        {row.id: gazetteer.for_city(row.id) for row in rows}
        if isinstance(gazetteer, CityGazetteers)
        else {}
    )
    city_id: int | None = None
    if len(rows) == 1:
        city_id = rows[0].id
    elif guardian is not None:
        city_id = guardian.city_id
        if city_id is None and guardian.colonia_id is not None and by_city:
            assert isinstance(gazetteer, CityGazetteers)
            city_id = gazetteer.city_of_colonia(guardian.colonia_id)
    row = next((r for r in rows if r.id == city_id), None)
    if row is None:
        if not rows:  # before the first import: the settings name the city
            return CityView(settings_city(settings), refs, gazetteer, per_city)
        return CityView(None, refs, gazetteer, per_city)
    seen = per_city.get(row.id, gazetteer) if len(rows) > 1 else gazetteer
    return CityView(city_ref(row), refs, seen, per_city, _zone(row.timezone))
