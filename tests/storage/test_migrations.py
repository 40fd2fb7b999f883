"""Migrations: the schema the models describe is exactly what Alembic builds."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from guardianes.storage.db import (
    SchemaOutdatedError,
    check_models_match_migrations,
    create_engine,
    ensure_schema,
    head_revision,
    schema_is_current,
    upgrade_database,
)


async def test_migrated_database_is_at_head(db_engine: AsyncEngine) -> None:
    assert await schema_is_current(db_engine)


async def test_models_and_migrations_agree(db_engine: AsyncEngine) -> None:
    await check_models_match_migrations(db_engine)


async def test_new_sqlite_database_is_migrated_on_start(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    await ensure_schema(engine)
    assert await schema_is_current(engine)
    await engine.dispose()


async def test_outdated_database_is_refused_when_migration_is_not_allowed(
    sqlite_url: str,
) -> None:
    engine = create_engine(sqlite_url)
    with pytest.raises(SchemaOutdatedError, match="guardianes db upgrade"):
        await ensure_schema(engine, migrate_sqlite=False)
    await engine.dispose()


async def test_head_revision_exists() -> None:
    assert head_revision()


async def test_upgrade_twice_changes_nothing(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    await upgrade_database(engine)
    await upgrade_database(engine)
    assert await schema_is_current(engine)
    await engine.dispose()
