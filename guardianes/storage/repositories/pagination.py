"""Paging: one page of a query's rows and the total it matches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageRows(Generic[T]):
    """One page of rows and the total the filters match."""

    items: Sequence[T]
    total: int


async def paginate(
    session: AsyncSession, statement: Select[Any], *, limit: int, offset: int
) -> PageRows[Any]:
    """Run `statement` for one page and count every row it matches."""
    counted = select(func.count()).select_from(statement.order_by(None).subquery())
    total = int((await session.execute(counted)).scalar_one())
    rows = (await session.execute(statement.limit(limit).offset(offset))).scalars().all()
    return PageRows(items=rows, total=total)
