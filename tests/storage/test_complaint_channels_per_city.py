"""Complaint channels belong to a city: the migration gives old ones a city, lookups filter."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from guardianes.storage.db import upgrade_database
from guardianes.storage.models_cities import City
from guardianes.storage.repositories import training as repo

BEFORE_CHANNEL_CITIES = "c15c0ca5f1a9"
NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
CHANNEL = {"contact": "072", "hours": None, "notes": None, "confirmed": True, "active": True}


async def _city(session: AsyncSession, name: str) -> int:
    city = City(
        name=name,
        normalized_name=name.upper(),
        timezone="America/Chihuahua",
        programme_name="Guardianes",
        office_name="la Sindicatura",
        privacy_owner="Sindicatura",
        privacy_contact="chat",
    )
    session.add(city)
    await session.flush()
    return city.id


async def test_existing_channels_go_to_the_existing_city(bare_engine: AsyncEngine) -> None:
    await upgrade_database(bare_engine, BEFORE_CHANNEL_CITIES)
    async with bare_engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO cities (name, normalized_name, country, timezone, programme_name, "
                "office_name, privacy_owner, privacy_contact, created_at, updated_at) VALUES "
                "('Chihuahua', 'CHIHUAHUA', 'MX', 'America/Chihuahua', 'Guardianes', "
                "'la Sindicatura', 'Sindicatura', 'chat', :now, :now)"
            ),
            {"now": NOW},
        )
        await conn.execute(
            text(
                "INSERT INTO complaint_channels (kind, name, contact, confirmed, active, "
                "created_at, updated_at) VALUES ('phone', 'Línea 072', '072', true, true, "
                ":now, :now)"
            ),
            {"now": NOW},
        )
    await upgrade_database(bare_engine)
    async with bare_engine.connect() as conn:
        city_ids = (await conn.execute(text("SELECT id FROM cities"))).scalars().all()
        owners = (await conn.execute(text("SELECT city_id FROM complaint_channels"))).all()
    assert owners == [(city_ids[0],)]


async def test_existing_channels_without_a_city_get_one_from_the_settings(
    bare_engine: AsyncEngine,
) -> None:
    await upgrade_database(bare_engine, BEFORE_CHANNEL_CITIES)
    async with bare_engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO complaint_channels (kind, name, contact, confirmed, active, "
                "created_at, updated_at) VALUES ('phone', 'Línea 072', '072', true, true, "
                ":now, :now)"
            ),
            {"now": NOW},
        )
    await upgrade_database(bare_engine)
    async with bare_engine.connect() as conn:
        cities = (await conn.execute(text("SELECT id, timezone FROM cities"))).all()
        owners = (await conn.execute(text("SELECT city_id FROM complaint_channels"))).all()
    assert [zone for _, zone in cities] == ["America/Chihuahua"]
    assert owners == [(cities[0][0],)]


async def test_each_city_sees_only_its_own_channels(session: AsyncSession) -> None:
    chihuahua, juarez = await _city(session, "Chihuahua"), await _city(session, "Juárez")
    for city_id, name in ((chihuahua, "Línea 072"), (juarez, "Línea 072")):
        await repo.upsert_complaint_channel(
            session, city_id=city_id, service_code=None, kind="phone", name=name, values=CHANNEL
        )

    own = await repo.list_complaint_channels(session, city_id=juarez)

    assert [(row.city_id, row.name) for row in own] == [(juarez, "Línea 072")]


async def test_importing_a_channel_again_updates_it_within_its_city(session: AsyncSession) -> None:
    chihuahua = await _city(session, "Chihuahua")
    values = {**CHANNEL, "contact": "614 072"}

    first = await repo.upsert_complaint_channel(
        session, city_id=chihuahua, service_code=None, kind="phone", name="072", values=CHANNEL
    )
    again = await repo.upsert_complaint_channel(
        session, city_id=chihuahua, service_code=None, kind="phone", name="072", values=values
    )

    rows = await repo.list_complaint_channels(session, city_id=chihuahua)
    assert (first, again) == (True, False)
    assert [row.contact for row in rows] == ["614 072"]
