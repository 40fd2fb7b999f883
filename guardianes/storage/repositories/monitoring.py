"""Read-only queries for readiness and the metrics scrape (state shared by every worker)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.domain.enums import BroadcastStatus, OutboxStatus
from guardianes.storage.models import Broadcast, BroadcastDelivery, InboundEvent, OutboxMessage

BACKLOG_STATUSES = (OutboxStatus.QUEUED, OutboxStatus.SENDING)
CLOSED_UNSENT_STATUSES = (OutboxStatus.FAILED, OutboxStatus.UNREACHABLE)
BROADCASTS_IN_PROGRESS = (BroadcastStatus.PENDING, BroadcastStatus.SENDING)


@dataclass(frozen=True, slots=True)
class ChannelBacklog:
    """Unsent outbox rows of one channel and when the oldest of them was queued."""

    channel: str
    rows: int
    oldest_created_at: datetime | None


@dataclass(frozen=True, slots=True)
class StatusCount:
    """How many rows of one group (channel or broadcast) have one status."""

    group: str
    status: str
    rows: int


async def ping(session: AsyncSession) -> None:
    """Raise unless the database answers a trivial query."""
    await session.execute(text("SELECT 1"))


async def outbox_backlog(session: AsyncSession) -> list[ChannelBacklog]:
    """Per channel: rows queued or being sent, and the creation time of the oldest."""
    rows = await session.execute(
        select(OutboxMessage.channel, func.count(), func.min(OutboxMessage.created_at))
        .where(OutboxMessage.status.in_(BACKLOG_STATUSES))
        .group_by(OutboxMessage.channel)
    )
    return [ChannelBacklog(channel, int(count), oldest) for channel, count, oldest in rows]


async def outbox_closed_unsent(session: AsyncSession) -> list[StatusCount]:
    """Per channel: rows given up as failed or unreachable."""
    rows = await session.execute(
        select(OutboxMessage.channel, OutboxMessage.status, func.count())
        .where(OutboxMessage.status.in_(CLOSED_UNSENT_STATUSES))
        .group_by(OutboxMessage.channel, OutboxMessage.status)
    )
    return [StatusCount(channel, status, int(count)) for channel, status, count in rows]


async def inbound_by_status(session: AsyncSession) -> list[StatusCount]:
    """Per channel: stored platform updates received, processed and failed."""
    rows = await session.execute(
        select(InboundEvent.channel, InboundEvent.status, func.count()).group_by(
            InboundEvent.channel, InboundEvent.status
        )
    )
    return [StatusCount(channel, status, int(count)) for channel, status, count in rows]


async def broadcast_progress(session: AsyncSession) -> list[StatusCount]:
    """Per broadcast still pending or sending: its deliveries by status."""
    rows = await session.execute(
        select(BroadcastDelivery.broadcast_id, BroadcastDelivery.status, func.count())
        .join(Broadcast, Broadcast.id == BroadcastDelivery.broadcast_id)
        .where(Broadcast.status.in_(BROADCASTS_IN_PROGRESS))
        .group_by(BroadcastDelivery.broadcast_id, BroadcastDelivery.status)
    )
    return [StatusCount(str(broadcast), status, int(count)) for broadcast, status, count in rows]
