"""The declarative base every model module shares, so no model module imports another."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from guardianes.storage.types import UTCDateTime, utcnow

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL, but INTEGER on SQLite so that primary keys autoincrement there.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base with the naming convention and common type map."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class Timestamped:
    """Adds created/updated times."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# ---------------------------------------------------------------- rows a city owns


def only_city_id(context: Any) -> int:
    """The city of a row inserted without one: the deployment's only city.

    A single-city deployment never names its city, so rows created the way they always were
    go to that city (created from the settings on first need). With several cities, code
    must say which: guessing would show one city's data to another's guardians.
    """
    from guardianes.storage.cities_default import only_city_id_on

    return only_city_id_on(context.connection)


def city_fk() -> Mapped[int]:
    """The `city_id` column of a row a city owns; defaults to the only city."""
    return mapped_column(ForeignKey("cities.id"), index=True, default=only_city_id)
