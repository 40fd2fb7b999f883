"""The privacy migration on a database with guardians: their sign-up consent starts the history."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from guardianes.storage.db import create_engine, upgrade_database
from tests.conftest import _create_database, _drop_database

BEFORE = "9084976490a7"
PRIVACY = "75a3cd8200b1"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[str]:
    """A brand-new, unmigrated database of each backend."""
    if request.param == "sqlite":
        yield sqlite_url
        return
    request.getfixturevalue("postgres_url")  # skips (or fails under CI) without PostgreSQL
    name = f"guardianes_migration_{uuid.uuid4().hex[:10]}"
    asyncio.run(_create_database(name))
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        asyncio.run(_drop_database(name))


def test_existing_guardians_get_their_sign_up_consent_as_history(empty_url: str) -> None:
    # A plain test: creating a PostgreSQL database needs its own event loop, like the fixture.
    rows = asyncio.run(_migrate_with_a_guardian(empty_url))
    assert rows == [("accepted", "2026-11", "telegram")]


async def _migrate_with_a_guardian(url: str) -> list[tuple[str, ...]]:
    engine = create_engine(url)
    try:
        await upgrade_database(engine, BEFORE)
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO guardians (channel, channel_user_id, address, display_name, "
                    "role, locale, consent_at, privacy_notice_version, status, created_at, "
                    "updated_at) VALUES ('telegram', '42', '42', 'Ana', 'guardian', 'es', "
                    ":at, '2026-11', 'active', :at, :at)"
                ),
                {"at": datetime(2026, 11, 1, 10, tzinfo=UTC)},
            )
        await upgrade_database(engine, PRIVACY)
        async with engine.connect() as conn:
            result = await conn.execute(
                text("SELECT action, notice_version, channel FROM consent_events")
            )
            return [tuple(row) for row in result.all()]
    finally:
        await engine.dispose()
