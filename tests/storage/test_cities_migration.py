"""The cities migration gives existing data one city (from the settings), on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from guardianes.storage.db import upgrade_database

BEFORE_CITIES = "b7d41c9e2a10"
NOW = datetime(2026, 11, 28, 10, tzinfo=UTC)


async def test_existing_data_goes_to_one_city_named_by_the_settings(bare_engine: AsyncEngine):
    await upgrade_database(bare_engine, BEFORE_CITIES)
    async with bare_engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO colonias (name, normalized_name, created_at, updated_at) "
                "VALUES ('Centro', 'CENTRO', :now, :now)"
            ),
            {"now": NOW},
        )
        await conn.execute(
            text(
                "INSERT INTO directorates (name, created_at, updated_at) "
                "VALUES ('Dirección de Alumbrado', :now, :now)"
            ),
            {"now": NOW},
        )
    await upgrade_database(bare_engine)
    async with bare_engine.connect() as conn:
        cities = (await conn.execute(text("SELECT id, name, timezone FROM cities"))).all()
        owners = (await conn.execute(text("SELECT city_id FROM colonias"))).scalars().all()
        directorates = (await conn.execute(text("SELECT city_id FROM directorates"))).all()
    assert [(name, zone) for _, name, zone in cities] == [("Chihuahua", "America/Chihuahua")]
    assert owners == [cities[0][0]]
    assert directorates == [(cities[0][0],)]


async def test_after_the_migration_names_are_unique_per_city_only(bare_engine: AsyncEngine):
    await upgrade_database(bare_engine)
    async with bare_engine.begin() as conn:
        for name in ("Chihuahua", "Cuauhtémoc"):
            await conn.execute(
                text(
                    "INSERT INTO cities (name, normalized_name, country, timezone, "
                    "programme_name, office_name, privacy_owner, privacy_contact, created_at, "
                    "updated_at) VALUES (:name, :name, 'MX', 'America/Mexico_City', "
                    "'Guardianes', 'la Sindicatura', 'Sindicatura', 'chat', :now, :now)"
                ),
                {"name": name, "now": NOW},
            )
        ids = (await conn.execute(text("SELECT id FROM cities ORDER BY id"))).scalars().all()
        for city_id in ids:
            await conn.execute(
                text(
                    "INSERT INTO colonias (city_id, name, normalized_name, created_at, "
                    "updated_at) VALUES (:city, 'Centro', 'CENTRO', :now, :now)"
                ),
                {"city": city_id, "now": NOW},
            )
    with pytest.raises(IntegrityError):
        async with bare_engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO colonias (city_id, name, normalized_name, created_at, "
                    "updated_at) VALUES (:city, 'Centro', 'CENTRO', :now, :now)"
                ),
                {"city": ids[0], "now": NOW},
            )
