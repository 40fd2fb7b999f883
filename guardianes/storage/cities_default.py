"""The deployment's only city, found or created inside a flush (see `base.only_city_id`)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import column, insert, select, table
from sqlalchemy.engine import Connection

from guardianes.storage.types import utcnow

_NON_ALNUM = re.compile(r"[^A-Z0-9]+")
_CITY_COLUMNS = (
    "name",
    "normalized_name",
    "state",
    "country",
    "timezone",
    "programme_name",
    "office_name",
    "privacy_owner",
    "privacy_contact",
    "created_at",
    "updated_at",
)
# The cities table as this module needs it, without importing the models: the models'
# base calls this module from inside a flush, so importing them back would be a cycle.
_CITIES = table("cities", column("id"), *(column(name) for name in _CITY_COLUMNS))


class CityRequiredError(ValueError):
    """Several cities exist and the code creating a row did not say which one."""


def city_key(name: str) -> str:
    """The matching key of a city name: upper-case ASCII words ("Cuauhtémoc" → CUAUHTEMOC)."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_ALNUM.sub(" ", plain.upper()).strip()


def default_city_values(name: str | None = None) -> dict[str, Any]:
    """A new city's columns: the settings' defaults, with `name` when given."""
    from guardianes.config import Settings  # read when needed: tests change the environment

    settings = Settings()
    city_name = (name or settings.city_name).strip()
    same = name is None or city_key(city_name) == city_key(settings.city_name)
    now = utcnow()
    return {
        "name": city_name,
        "normalized_name": city_key(city_name),
        "state": settings.city_state if same else None,
        "country": settings.city_country,
        "timezone": settings.timezone,
        "programme_name": settings.programme_name,
        "office_name": settings.office_name,
        "privacy_owner": settings.privacy_owner,
        "privacy_contact": settings.privacy_contact,
        "created_at": now,
        "updated_at": now,
    }


def only_city_id_on(connection: Connection) -> int:
    """The id of the only city, creating the default one in an empty deployment."""
    ids = connection.execute(select(_CITIES.c.id).order_by(_CITIES.c.id).limit(2)).scalars().all()
    if len(ids) == 1:
        return int(ids[0])
    if ids:
        raise CityRequiredError("this deployment serves several cities: say which one")
    created = connection.execute(
        insert(_CITIES).values(**default_city_values()).returning(_CITIES.c.id)
    )
    return int(created.scalar_one())
