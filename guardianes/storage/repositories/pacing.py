"""Shared rate budgets (GCRA rows): every statement is one atomic step on SQLite and PostgreSQL.

Times are seconds of the pacers' clock (wall-clock epoch seconds in production, so that
processes on one machine or NTP-synchronised machines agree). See `models_pacing`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.storage.models_pacing import PacingSlot
from guardianes.storage.repositories._dialect import insert_for


def _started(now: float) -> Any:
    """The later of the budget's arrival time and now: where the next slot starts."""
    return case((PacingSlot.tat > now, PacingSlot.tat), else_=now)


async def _ensure(session: AsyncSession, key: str, now: float) -> None:
    """A budget seen for the first time starts full (its arrival time is now)."""
    await session.execute(
        insert_for(session, PacingSlot)
        .values(key=key, tat=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )


async def reserve(
    session: AsyncSession, key: str, *, interval: float, tolerance: float, now: float
) -> float:
    """Take the next slot of `key` whenever it is; returns the instant the send may go."""
    # One upsert: a budget seen for the first time starts full (its slot is now).
    statement = (
        insert_for(session, PacingSlot)
        .values(key=key, tat=now + interval)
        .on_conflict_do_update(index_elements=["key"], set_={"tat": _started(now) + interval})
        .returning(PacingSlot.tat)
    )
    tat = (await session.execute(statement)).scalar_one()
    return max(now, float(tat) - interval - tolerance)


async def reserve_run(
    session: AsyncSession, key: str, count: int, *, interval: float, tolerance: float, now: float
) -> list[float]:
    """Take the next `count` slots of `key` in one statement; the instants they may go.

    The same slots `count` calls of `reserve` in a row would give, in one round trip.
    """
    statement = (
        insert_for(session, PacingSlot)
        .values(key=key, tat=now + count * interval)
        .on_conflict_do_update(
            index_elements=["key"], set_={"tat": _started(now) + count * interval}
        )
        .returning(PacingSlot.tat)
    )
    tat = float((await session.execute(statement)).scalar_one())
    first = tat - count * interval
    return [max(now, first + n * interval - tolerance) for n in range(count)]


async def reserve_each(
    session: AsyncSession, keys: list[str], *, interval: float, tolerance: float, now: float
) -> dict[str, float]:
    """Take the next slot of each of several distinct keys in one statement, by key."""
    if not keys:
        return {}
    statement = (
        insert_for(session, PacingSlot)
        .values([{"key": key, "tat": now + interval} for key in keys])
        .on_conflict_do_update(index_elements=["key"], set_={"tat": _started(now) + interval})
        .returning(PacingSlot.key, PacingSlot.tat)
    )
    rows = (await session.execute(statement)).all()
    return {key: max(now, float(tat) - interval - tolerance) for key, tat in rows}


async def take_if_free(
    session: AsyncSession, key: str, *, interval: float, tolerance: float, now: float
) -> float:
    """Take a slot of `key` only if one is free now: 0.0 when taken, else seconds to wait."""
    statement = (
        update(PacingSlot)
        .where(PacingSlot.key == key, _started(now) - tolerance <= now)
        .values(tat=_started(now) + interval)
        .returning(PacingSlot.tat)
        .execution_options(synchronize_session=False)
    )
    if (await session.execute(statement)).scalar_one_or_none() is not None:
        return 0.0
    tat = await session.scalar(select(PacingSlot.tat).where(PacingSlot.key == key))
    if tat is None:
        await _ensure(session, key, now)
        if (await session.execute(statement)).scalar_one_or_none() is not None:
            return 0.0
        tat = await session.scalar(select(PacingSlot.tat).where(PacingSlot.key == key))
    return max(0.0, float(tat or now) - tolerance - now)


async def hold_until(
    session: AsyncSession, key: str, *, until: float, tolerance: float, now: float
) -> None:
    """The next send of `key` at `until` at the earliest, the budget refilling from there."""
    await _ensure(session, key, now)
    await session.execute(
        update(PacingSlot)
        .where(PacingSlot.key == key, PacingSlot.tat < until + tolerance)
        .values(tat=until + tolerance)
        .execution_options(synchronize_session=False)
    )


async def arrival_time(session: AsyncSession, key: str) -> float | None:
    """The budget's theoretical arrival time; None for a budget never used."""
    tat = await session.scalar(select(PacingSlot.tat).where(PacingSlot.key == key))
    return None if tat is None else float(tat)


async def forget_idle(session: AsyncSession, *, before: float) -> int:
    """Delete budgets full since before `before` (idle chats); they start full again anyway."""
    result = await session.execute(
        delete(PacingSlot)
        .where(PacingSlot.tat < before)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
