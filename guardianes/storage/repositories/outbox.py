"""The outbox: messages waiting to be sent, claimed by any number of sender processes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from guardianes.storage.models import (
    BroadcastDelivery,
    DeliveryStatus,
    OutboxMessage,
    OutboxStatus,
)
from guardianes.storage.repositories._dialect import is_postgres
from guardianes.storage.types import utcnow

# Rows not yet confirmed sent; an earlier one of these blocks later rows of the same chat.
PENDING_STATUSES = (OutboxStatus.QUEUED, OutboxStatus.SENDING)


async def enqueue(
    session: AsyncSession,
    *,
    channel: str,
    address: str,
    payload: dict[str, Any],
    guardian_id: int | None = None,
    kind: str = "reply",
    locale: str = "es",
    as_template: bool = False,
    edit_message_id: str | None = None,
) -> OutboxMessage:
    """Add one message to send; it goes out after the surrounding transaction commits."""
    row = OutboxMessage(
        channel=channel,
        address=address,
        payload=payload,
        guardian_id=guardian_id,
        kind=kind,
        locale=locale,
        as_template=as_template,
        edit_message_id=edit_message_id,
        status=OutboxStatus.QUEUED,
        next_attempt_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    return row


def _due_heads(now: datetime, channels: Sequence[str]) -> Any:
    """Rows due now that are the oldest unsent row of their chat (keeps per-chat order)."""
    earlier = aliased(OutboxMessage)
    blocked = exists().where(
        and_(
            earlier.channel == OutboxMessage.channel,
            earlier.address == OutboxMessage.address,
            earlier.id < OutboxMessage.id,
            earlier.status.in_(PENDING_STATUSES),
        )
    )
    ready = (OutboxMessage.status == OutboxStatus.QUEUED) & (OutboxMessage.next_attempt_at <= now)
    expired = (OutboxMessage.status == OutboxStatus.SENDING) & (OutboxMessage.claimed_until < now)
    return (
        select(OutboxMessage.id)
        .where(OutboxMessage.channel.in_(channels), ready | expired, ~blocked)
        .order_by(OutboxMessage.id)
    )


async def claim_due(
    session: AsyncSession,
    *,
    worker: str,
    channels: Sequence[str],
    limit: int,
    lease: timedelta,
) -> list[OutboxMessage]:
    """Claim up to `limit` due rows for this worker; no two workers ever get the same row."""
    now = utcnow()
    candidates = _due_heads(now, channels).limit(limit)
    if is_postgres(session):
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list((await session.execute(candidates)).scalars().all())
    claimed: list[int] = []
    for row_id in ids:
        # The conditional update is the claim on SQLite (no SKIP LOCKED) and a no-op
        # safety net on PostgreSQL, where the rows are already locked by this transaction.
        result = await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == row_id,
                (OutboxMessage.status == OutboxStatus.QUEUED)
                | (
                    (OutboxMessage.status == OutboxStatus.SENDING)
                    & (OutboxMessage.claimed_until < now)
                ),
            )
            .values(
                status=OutboxStatus.SENDING,
                claimed_by=worker,
                claimed_until=now + lease,
                attempts=OutboxMessage.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(row_id)
    if not claimed:
        return []
    rows = await session.execute(
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(claimed))
        .order_by(OutboxMessage.id)
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars().all())


async def mark_sent(
    session: AsyncSession, outbox_id: int, worker: str, platform_message_id: str | None
) -> bool:
    """Record a confirmed send; False when the claim was lost meanwhile."""
    now = utcnow()
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id, OutboxMessage.status == OutboxStatus.SENDING)
        .values(
            status=OutboxStatus.SENT,
            platform_message_id=platform_message_id,
            sent_at=now,
            status_at=now,
            claimed_until=None,
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def reschedule(
    session: AsyncSession,
    outbox_id: int,
    *,
    at: datetime,
    error: str,
    as_template: bool | None = None,
) -> None:
    """Put a row back in the queue to try again at `at`."""
    values: dict[str, Any] = {
        "status": OutboxStatus.QUEUED,
        "next_attempt_at": at,
        "claimed_until": None,
        "last_error": error[:2000],
    }
    if as_template is not None:
        values["as_template"] = as_template
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def close_row(
    session: AsyncSession, outbox_id: int, status: OutboxStatus, error: str
) -> None:
    """End a row that will not be sent (FAILED or UNREACHABLE)."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id)
        .values(status=status, last_error=error[:2000], claimed_until=None, status_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def close_pending_for_address(
    session: AsyncSession, channel: str, address: str, status: OutboxStatus, error: str
) -> list[int]:
    """End every queued row of one chat (the person blocked the bot); returns their ids."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.address == address,
            OutboxMessage.status == OutboxStatus.QUEUED,
        )
        .values(status=status, last_error=error[:2000], status_at=utcnow())
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    return list(result.scalars().all())


async def update_status_by_platform_id(
    session: AsyncSession,
    channel: str,
    platform_message_id: str,
    status: OutboxStatus,
    error: str | None = None,
) -> int:
    """Apply a platform status callback (delivered, read, failed); returns rows changed."""
    order = [OutboxStatus.SENT, OutboxStatus.DELIVERED, OutboxStatus.READ]
    allowed_from = (
        [OutboxStatus.SENDING, *order[: order.index(status)]] if status in order else None
    )
    statement = update(OutboxMessage).where(
        OutboxMessage.channel == channel,
        OutboxMessage.platform_message_id == platform_message_id,
    )
    if allowed_from is not None:
        # Callbacks arrive out of order; never move a message backwards (read > delivered).
        statement = statement.where(OutboxMessage.status.in_(allowed_from))
    values: dict[str, Any] = {"status": status, "status_at": utcnow()}
    if error:
        values["last_error"] = error[:2000]
    result = await session.execute(
        statement.values(**values).execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def messages_for_address(
    session: AsyncSession, channel: str, address: str, after_id: int, limit: int = 100
) -> Sequence[OutboxMessage]:
    """Messages already delivered to one chat after `after_id` (the web chat reads these)."""
    result = await session.execute(
        select(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.address == address,
            OutboxMessage.id > after_id,
            OutboxMessage.status.in_(
                (OutboxStatus.SENT, OutboxStatus.DELIVERED, OutboxStatus.READ)
            ),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return result.scalars().all()


async def get_row(session: AsyncSession, outbox_id: int) -> OutboxMessage | None:
    """One outbox row."""
    return await session.get(OutboxMessage, outbox_id)


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    """How many rows are in each status."""
    result = await session.execute(
        select(OutboxMessage.status, func.count(OutboxMessage.id)).group_by(OutboxMessage.status)
    )
    return {str(status): int(count) for status, count in result.all()}


_DELIVERY_FOR_OUTBOX = {
    OutboxStatus.SENT: DeliveryStatus.SENT,
    OutboxStatus.FAILED: DeliveryStatus.FAILED,
    OutboxStatus.UNREACHABLE: DeliveryStatus.UNREACHABLE,
}


async def sync_linked_deliveries(
    session: AsyncSession, outbox_ids: Sequence[int], status: OutboxStatus
) -> None:
    """Carry an outbox outcome over to the broadcast deliveries made from those rows."""
    if not outbox_ids or status not in _DELIVERY_FOR_OUTBOX:
        return
    await session.execute(
        update(BroadcastDelivery)
        .where(BroadcastDelivery.outbox_id.in_(list(outbox_ids)))
        .values(status=_DELIVERY_FOR_OUTBOX[status], updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def requeue_as_template(session: AsyncSession, channel: str, platform_message_id: str) -> int:
    """Send a message again as a template (WhatsApp reported 131047 after accepting it)."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.platform_message_id == platform_message_id,
            OutboxMessage.as_template.is_(False),
        )
        .values(
            status=OutboxStatus.QUEUED,
            as_template=True,
            next_attempt_at=utcnow(),
            platform_message_id=None,
            last_error="131047: outside the 24-hour window",
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def pending_for_address(
    session: AsyncSession, channel: str, address: str
) -> Sequence[OutboxMessage]:
    """Rows not yet sent to one chat, oldest first."""
    result = await session.execute(
        select(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.address == address,
            OutboxMessage.status.in_(PENDING_STATUSES),
        )
        .order_by(OutboxMessage.id)
    )
    return result.scalars().all()
