"""Small helpers for statements that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def is_postgres(session: AsyncSession) -> bool:
    """True when the session talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def insert_for(session: AsyncSession, table: Any) -> Any:
    """A dialect `insert()` that supports `on_conflict_do_nothing`."""
    if is_postgres(session):
        return postgresql.insert(table)
    return sqlite.insert(table)
