"""Alembic environment: runs on a connection handed in by `guardianes.storage.db`."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from guardianes.config import Settings
from guardianes.storage import models  # noqa: F401  (loads every table onto Base.metadata)
from guardianes.storage.base import Base
from guardianes.storage.db import create_engine

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite needs batch mode for ALTER TABLE
        compare_type=True,
        user_module_prefix="guardianes.storage.types.",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    # Plain `alembic` command line: use the configured database.
    asyncio.run(_run_with_own_engine(Settings().database_url))
