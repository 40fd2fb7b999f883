"""Fixtures of the storage tests: databases of each backend before any migration."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from guardianes.storage.db import create_engine
from tests.conftest import IN_CI, _create_database, _drop_database


@pytest.fixture(params=["sqlite", "postgresql"])
async def bare_engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An empty database of each backend, not migrated yet."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
        yield engine
        await engine.dispose()
        return
    name = f"guardianes_mig_{uuid.uuid4().hex[:12]}"
    try:
        await _create_database(name)
    except (OSError, asyncpg.PostgresError) as error:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI=true: {error}")
        pytest.skip(f"PostgreSQL not reachable: {error}")
    engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}")
    try:
        yield engine
    finally:
        await engine.dispose()
        await _drop_database(name)
