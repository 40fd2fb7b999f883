"""Broadcasts, their per-recipient deliveries, and visits (announced by broadcast)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.domain.enums import BroadcastStatus, DeliveryStatus, GuardianStatus
from guardianes.storage.models import Broadcast, BroadcastDelivery, Guardian, Visit
from guardianes.storage.repositories._dialect import is_postgres
from guardianes.storage.repositories.pagination import PageRows, paginate
from guardianes.storage.types import UTCDateTime

# Deliveries not yet finished: a broadcast is DONE when none of its deliveries is in these.
OPEN_DELIVERY_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.QUEUED)


@dataclass(frozen=True, slots=True)
class RecipientFilter:
    """Who a broadcast goes to; None means any. Only ACTIVE guardians ever receive it."""

    colonia_id: int | None = None
    role: str | None = None
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery just moved PENDING > QUEUED by this transaction."""

    delivery_id: int
    guardian_id: int


# ---------------------------------------------------------------- broadcasts


async def add_broadcast(session: AsyncSession, broadcast: Broadcast) -> Broadcast:
    """Insert a broadcast and assign its id."""
    session.add(broadcast)
    await session.flush()
    return broadcast


def _recipients_where(recipients: RecipientFilter) -> list[ColumnElement[bool]]:
    """Who a broadcast reaches: active guardians matching every filter given."""
    conditions: list[ColumnElement[bool]] = [Guardian.status == GuardianStatus.ACTIVE]
    if recipients.colonia_id is not None:
        conditions.append(Guardian.colonia_id == recipients.colonia_id)
    if recipients.role is not None:
        conditions.append(Guardian.role == recipients.role)
    if recipients.channel is not None:
        conditions.append(Guardian.channel == recipients.channel)
    return conditions


async def count_recipients(session: AsyncSession, recipients: RecipientFilter) -> int:
    """How many guardians a broadcast with these filters would reach now."""
    result = await session.execute(
        select(func.count(Guardian.id)).where(*_recipients_where(recipients))
    )
    return int(result.scalar_one())


async def add_deliveries(
    session: AsyncSession, broadcast_id: int, recipients: RecipientFilter, now: datetime
) -> int:
    """One PENDING delivery per matching active guardian, in one statement; returns how many."""
    chosen = select(
        literal(broadcast_id),
        Guardian.id,
        literal(DeliveryStatus.PENDING.value),
        literal(now, UTCDateTime()),
    ).where(*_recipients_where(recipients))
    result = await session.execute(
        insert(BroadcastDelivery).from_select(
            ["broadcast_id", "guardian_id", "status", "updated_at"], chosen.order_by(Guardian.id)
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def get_broadcast(session: AsyncSession, broadcast_id: int) -> Broadcast | None:
    """One broadcast."""
    return await session.get(Broadcast, broadcast_id)


async def list_broadcasts(
    session: AsyncSession,
    *,
    status: str | None,
    limit: int,
    offset: int,
    created_by: str | None = None,
) -> PageRows[Broadcast]:
    """Broadcasts, newest first, optionally only those of one status or one author."""
    statement = select(Broadcast).order_by(Broadcast.id.desc())
    if status is not None:
        statement = statement.where(Broadcast.status == status)
    if created_by is not None:
        statement = statement.where(Broadcast.created_by == created_by)
    return await paginate(session, statement, limit=limit, offset=offset)


async def unfinished_broadcast_ids(session: AsyncSession) -> list[int]:
    """Broadcasts still PENDING or SENDING, oldest first (the dispatcher's work list)."""
    result = await session.execute(
        select(Broadcast.id)
        .where(Broadcast.status.in_((BroadcastStatus.PENDING, BroadcastStatus.SENDING)))
        .order_by(Broadcast.id)
    )
    return list(result.scalars().all())


async def delivery_counts(session: AsyncSession, broadcast_id: int) -> dict[str, int]:
    """How many deliveries of a broadcast are in each status."""
    result = await session.execute(
        select(BroadcastDelivery.status, func.count(BroadcastDelivery.id))
        .where(BroadcastDelivery.broadcast_id == broadcast_id)
        .group_by(BroadcastDelivery.status)
    )
    return {str(status): int(count) for status, count in result.all()}


async def set_broadcast_status(
    session: AsyncSession,
    broadcast_id: int,
    status: BroadcastStatus,
    *,
    only_from: Sequence[BroadcastStatus],
    finished_at: datetime | None = None,
) -> bool:
    """Move a broadcast to `status` if it is in one of `only_from`; False when it was not."""
    values: dict[str, Any] = {"status": status}
    if finished_at is not None:
        values["finished_at"] = finished_at
    result = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.status.in_(list(only_from)))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def cancel_pending_deliveries(session: AsyncSession, broadcast_id: int, now: datetime) -> int:
    """Close deliveries not yet queued (a cancelled broadcast); returns how many."""
    result = await session.execute(
        update(BroadcastDelivery)
        .where(
            BroadcastDelivery.broadcast_id == broadcast_id,
            BroadcastDelivery.status == DeliveryStatus.PENDING,
        )
        .values(status=DeliveryStatus.FAILED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- deliveries > outbox


async def claim_pending_deliveries(
    session: AsyncSession, broadcast_id: int, *, limit: int, now: datetime
) -> list[ClaimedDelivery]:
    """Move up to `limit` PENDING deliveries to QUEUED; no two transactions get the same one.

    PostgreSQL locks the candidates with SKIP LOCKED so concurrent dispatchers take
    different rows; on SQLite the single writer plus `status = 'pending'` in the UPDATE
    makes the claim atomic.
    """
    candidates = (
        select(BroadcastDelivery.id)
        .where(
            BroadcastDelivery.broadcast_id == broadcast_id,
            BroadcastDelivery.status == DeliveryStatus.PENDING,
        )
        .order_by(BroadcastDelivery.id)
        .limit(limit)
    )
    if is_postgres(session):
        candidates = candidates.with_for_update(skip_locked=True)
    result = await session.execute(
        update(BroadcastDelivery)
        .where(
            BroadcastDelivery.id.in_(candidates.scalar_subquery()),
            BroadcastDelivery.status == DeliveryStatus.PENDING,
        )
        .values(status=DeliveryStatus.QUEUED, updated_at=now)
        .returning(BroadcastDelivery.id, BroadcastDelivery.guardian_id)
        .execution_options(synchronize_session=False)
    )
    claimed = [ClaimedDelivery(row[0], row[1]) for row in result.all()]
    return sorted(claimed, key=lambda c: c.delivery_id)


async def guardians_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, Guardian]:
    """Guardians by id."""
    if not ids:
        return {}
    result = await session.execute(select(Guardian).where(Guardian.id.in_(list(ids))))
    return {g.id: g for g in result.scalars().all()}


async def link_deliveries(
    session: AsyncSession, links: Sequence[tuple[int, int]], now: datetime
) -> None:
    """Record the outbox row made from each delivery: (delivery id, outbox id) pairs."""
    if not links:
        return
    await session.execute(
        update(BroadcastDelivery),
        [
            {"id": delivery_id, "outbox_id": outbox_id, "updated_at": now}
            for delivery_id, outbox_id in links
        ],
    )


async def close_deliveries(
    session: AsyncSession, delivery_ids: Sequence[int], status: DeliveryStatus, now: datetime
) -> None:
    """End deliveries that will get no outbox row (the recipient vanished)."""
    if not delivery_ids:
        return
    await session.execute(
        update(BroadcastDelivery)
        .where(BroadcastDelivery.id.in_(list(delivery_ids)))
        .values(status=status, updated_at=now)
        .execution_options(synchronize_session=False)
    )


# ---------------------------------------------------------------- visits


async def add_visit(session: AsyncSession, visit: Visit) -> Visit:
    """Insert a visit and assign its id."""
    session.add(visit)
    await session.flush()
    return visit


async def get_visit(session: AsyncSession, visit_id: int) -> Visit | None:
    """One visit."""
    return await session.get(Visit, visit_id)


async def list_visits(
    session: AsyncSession,
    *,
    colonia_id: int | None,
    starts_from: datetime | None,
    limit: int,
    offset: int,
) -> PageRows[Visit]:
    """Visits by start time, soonest first."""
    statement = select(Visit).order_by(Visit.starts_at, Visit.id)
    if colonia_id is not None:
        statement = statement.where(Visit.colonia_id == colonia_id)
    if starts_from is not None:
        statement = statement.where(Visit.starts_at >= starts_from)
    return await paginate(session, statement, limit=limit, offset=offset)


async def broadcast_of_visit(session: AsyncSession, visit_id: int) -> Broadcast | None:
    """The notice broadcast of a visit."""
    result = await session.execute(
        select(Broadcast).where(Broadcast.visit_id == visit_id).order_by(Broadcast.id).limit(1)
    )
    return result.scalar_one_or_none()
