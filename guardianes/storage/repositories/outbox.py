"""The outbox: messages waiting to be sent, claimed by any number of sender processes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, func, insert, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from guardianes.domain.enums import DeliveryStatus, GuardianStatus, OutboxKind, OutboxStatus
from guardianes.storage.models import BroadcastDelivery, Guardian, OutboxMessage
from guardianes.storage.repositories._dialect import is_postgres
from guardianes.storage.types import UTCDateTime, utcnow

# Rows not yet confirmed sent; an earlier one of these blocks later rows of the same chat.
PENDING_STATUSES = (OutboxStatus.QUEUED, OutboxStatus.SENDING)
DONE_STATUSES = (OutboxStatus.SENT, OutboxStatus.DELIVERED, OutboxStatus.READ)
# Messages the bot starts on its own, many at once: the bulk lane, behind replies.
BULK_KINDS: tuple[str, ...] = (OutboxKind.BROADCAST, OutboxKind.VISIT, OutboxKind.REMINDER)
# Everything else: answers to someone who wrote, and the keyboard edits that go with them.
URGENT_KINDS: tuple[str, ...] = tuple(k.value for k in OutboxKind if k.value not in BULK_KINDS)


class Lane(StrEnum):
    """Which rows a claim looks at: replies (and their keyboard edits) first, bulk after."""

    URGENT = "urgent"
    BULK = "bulk"


def lane_of(kind: str) -> Lane:
    """The lane of an outbox row's kind."""
    return Lane.BULK if kind in BULK_KINDS else Lane.URGENT


def _in_lane(lane: Lane | None, table: Any = OutboxMessage) -> Any:
    if lane is Lane.URGENT:
        # A positive list, so the (kind, status, next_attempt_at) index finds the few
        # replies among thousands of queued broadcast rows without reading them.
        return table.kind.in_(URGENT_KINDS)
    if lane is Lane.BULK:
        return table.kind.in_(BULK_KINDS)
    return true()


@dataclass(frozen=True, slots=True)
class NewOutboxRow:
    """Values of one message to queue."""

    channel: str
    address: str
    payload: dict[str, Any]
    guardian_id: int | None = None
    kind: str = OutboxKind.REPLY
    locale: str = "es"
    as_template: bool = False
    edit_message_id: str | None = None


def _queued(row: NewOutboxRow, now: datetime) -> dict[str, Any]:
    """Every outbox row starts like this: queued, due now, never attempted."""
    return {
        "channel": row.channel,
        "address": row.address,
        "guardian_id": row.guardian_id,
        "kind": row.kind,
        "locale": row.locale,
        "payload": row.payload,
        "as_template": row.as_template,
        "edit_message_id": row.edit_message_id,
        "status": OutboxStatus.QUEUED,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


async def enqueue(
    session: AsyncSession,
    *,
    channel: str,
    address: str,
    payload: dict[str, Any],
    guardian_id: int | None = None,
    kind: str = OutboxKind.REPLY,
    locale: str = "es",
    as_template: bool = False,
    edit_message_id: str | None = None,
) -> OutboxMessage:
    """Add one message to send; it goes out after the surrounding transaction commits."""
    new = NewOutboxRow(
        channel=channel,
        address=address,
        payload=payload,
        guardian_id=guardian_id,
        kind=kind,
        locale=locale,
        as_template=as_template,
        edit_message_id=edit_message_id,
    )
    row = OutboxMessage(**_queued(new, utcnow()))
    session.add(row)
    await session.flush()
    return row


async def queue_rows(session: AsyncSession, rows: Sequence[NewOutboxRow], now: datetime) -> int:
    """Queue a turn's replies in one statement, without reading ids back; returns how many."""
    if rows:
        table = cast(Table, OutboxMessage.__table__)
        await session.execute(insert(table), [_queued(row, now) for row in rows])
    return len(rows)


async def add_outbox_rows(
    session: AsyncSession, rows: Sequence[NewOutboxRow], now: datetime
) -> list[int]:
    """Queue many messages in one round trip (a broadcast batch); their ids in the order given."""
    if not rows:
        return []
    result = await session.execute(
        insert(OutboxMessage).returning(OutboxMessage.id, sort_by_parameter_order=True),
        [_queued(row, now) for row in rows],
    )
    return [int(row_id) for row_id in result.scalars().all()]


# The claim's instant, a bound parameter: the claim statement is built once, not per claim.
CLAIM_AT = "claim_at"


@lru_cache(maxsize=32)
def _due_heads(channels: tuple[str, ...], lane: Lane | None = None) -> Any:
    """Rows due at `CLAIM_AT` that are the oldest unsent row of their chat (per-chat order).

    Built once per channels and lane (cached): the senders claim after every send, and
    building this correlated statement cost about as much CPU as running it.

    In the urgent lane only earlier urgent rows count: a reply overtakes the broadcast row
    queued for the same person, which would otherwise hold it until the broadcast reached
    them. A bulk row still waits for every earlier row of its chat.

    The head test is a correlated `min(id)` over the chat's unsent rows: an index probe on
    (channel, address, id) per candidate whatever the planner's statistics say. (As a NOT
    EXISTS anti-join, PostgreSQL planned a fresh, not yet analysed table as a quadratic
    nested loop: 0.8 s per claim with 2,000 rows queued by a broadcast.)
    """
    earlier = aliased(OutboxMessage)
    oldest_unsent = (
        select(func.min(earlier.id))
        .where(
            earlier.channel == OutboxMessage.channel,
            earlier.address == OutboxMessage.address,
            earlier.status.in_(PENDING_STATUSES),
            _in_lane(lane if lane is Lane.URGENT else None, earlier),
        )
        .scalar_subquery()
    )
    now = bindparam(CLAIM_AT, type_=UTCDateTime())
    ready = (OutboxMessage.status == OutboxStatus.QUEUED) & (OutboxMessage.next_attempt_at <= now)
    expired = (OutboxMessage.status == OutboxStatus.SENDING) & (OutboxMessage.claimed_until < now)
    return (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.channel.in_(channels),
            _in_lane(lane),
            ready | expired,
            OutboxMessage.id == oldest_unsent,
        )
        .order_by(OutboxMessage.id)
    )


async def claim_due(
    session: AsyncSession,
    *,
    worker: str,
    channels: Sequence[str],
    limit: int,
    lease: timedelta,
    now: datetime | None = None,
    lane: Lane | None = None,
) -> list[OutboxMessage]:
    """Claim up to `limit` rows due at `now` for this worker; no two workers get the same row."""
    moment = now or utcnow()
    candidates = _due_heads(tuple(channels), lane).limit(limit)
    if is_postgres(session):
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list((await session.execute(candidates, {CLAIM_AT: moment})).scalars().all())
    if not ids:
        return []
    # The conditional update is the claim on SQLite (no SKIP LOCKED) and a no-op safety net
    # on PostgreSQL, where the rows are already locked by this transaction. Each row is
    # checked on its own, so one statement claims the batch in one round trip.
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(ids),
            (OutboxMessage.status == OutboxStatus.QUEUED)
            | (
                (OutboxMessage.status == OutboxStatus.SENDING)
                & (OutboxMessage.claimed_until < moment)
            ),
        )
        .values(
            status=OutboxStatus.SENDING,
            claimed_by=worker,
            claimed_until=moment + lease,
            attempts=OutboxMessage.attempts + 1,
        )
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    claimed = list(result.scalars().all())
    if not claimed:
        return []
    rows = await session.execute(
        select(OutboxMessage)
        .where(OutboxMessage.id.in_(claimed))
        .order_by(OutboxMessage.id)
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars().all())


async def next_due_at(
    session: AsyncSession, channels: Sequence[str], lane: Lane | None = None
) -> datetime | None:
    """When the next row becomes claimable (queued and due, or its claim expired); None if none."""
    queued = select(func.min(OutboxMessage.next_attempt_at)).where(
        OutboxMessage.channel.in_(channels),
        OutboxMessage.status == OutboxStatus.QUEUED,
        _in_lane(lane),
    )
    leased = select(func.min(OutboxMessage.claimed_until)).where(
        OutboxMessage.channel.in_(channels),
        OutboxMessage.status == OutboxStatus.SENDING,
        _in_lane(lane),
    )
    moments = [
        (await session.execute(statement)).scalar_one_or_none() for statement in (queued, leased)
    ]
    present = [m for m in moments if m is not None]
    return min(present) if present else None


async def rows_of_inactive_guardians(
    session: AsyncSession, outbox_ids: Sequence[int], kinds: Sequence[str]
) -> list[int]:
    """Those of `outbox_ids` of the given kinds whose guardian is no longer ACTIVE."""
    if not outbox_ids:
        return []
    result = await session.execute(
        select(OutboxMessage.id)
        .join(Guardian, Guardian.id == OutboxMessage.guardian_id)
        .where(
            OutboxMessage.id.in_(list(outbox_ids)),
            OutboxMessage.kind.in_(list(kinds)),
            Guardian.status != GuardianStatus.ACTIVE,
        )
    )
    return list(result.scalars().all())


async def mark_sent_many(
    session: AsyncSession,
    sent: Sequence[tuple[int, str | None]],
    *,
    now: datetime | None = None,
) -> list[int]:
    """Record several confirmed sends, (row id, platform message id) pairs, in one statement.

    Returns the ids actually marked: a row whose claim was lost meanwhile is left alone.
    """
    if not sent:
        return []
    moment = now or utcnow()
    platform_ids = dict(sent)
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(list(platform_ids)),
            OutboxMessage.status == OutboxStatus.SENDING,
        )
        .values(
            status=OutboxStatus.SENT,
            platform_message_id=case(platform_ids, value=OutboxMessage.id),
            sent_at=moment,
            status_at=moment,
            claimed_until=None,
            last_error=None,
        )
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    return list(result.scalars().all())


async def extend_claim(
    session: AsyncSession, outbox_id: int, *, worker: str, until: datetime
) -> bool:
    """Keep this worker's claim on a row until `until`; False when the claim was lost."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == outbox_id,
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_by == worker,
        )
        .values(claimed_until=until)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class MessageState:
    """What a message the bot sent shows now, as the last row that reached it recorded."""

    kind: str
    payload: dict[str, Any]
    locale: str


async def message_state(
    session: AsyncSession, channel: str, address: str, platform_message_id: str
) -> MessageState | None:
    """The latest confirmed send or edit of one platform message; None if we know of none."""
    row = (
        await session.execute(
            select(OutboxMessage.kind, OutboxMessage.payload, OutboxMessage.locale)
            .where(
                OutboxMessage.channel == channel,
                OutboxMessage.address == address,
                OutboxMessage.platform_message_id == platform_message_id,
                OutboxMessage.status.in_(DONE_STATUSES),
            )
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    return MessageState(kind=row.kind, payload=row.payload, locale=row.locale)


async def has_row_editing(
    session: AsyncSession, channel: str, address: str, kind: str, edit_message_id: str
) -> bool:
    """True when a row of `kind` editing that message exists already (sent or not)."""
    found = await session.scalar(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.address == address,
            OutboxMessage.kind == kind,
            OutboxMessage.edit_message_id == edit_message_id,
            OutboxMessage.status.not_in((OutboxStatus.FAILED, OutboxStatus.UNREACHABLE)),
        )
        .limit(1)
    )
    return found is not None


async def release_claims(session: AsyncSession, outbox_ids: Sequence[int], *, worker: str) -> None:
    """Give back rows this worker claimed but never sent: claimable again at once."""
    await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(list(outbox_ids)),
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_by == worker,
        )
        # The claim counted an attempt; nothing was attempted.
        .values(
            status=OutboxStatus.QUEUED,
            claimed_until=None,
            attempts=OutboxMessage.attempts - 1,
        )
        .execution_options(synchronize_session=False)
    )


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
    session: AsyncSession,
    outbox_id: int,
    status: OutboxStatus,
    error: str,
    *,
    now: datetime | None = None,
) -> None:
    """End a row that will not be sent (FAILED or UNREACHABLE)."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id)
        .values(
            status=status, last_error=error[:2000], claimed_until=None, status_at=now or utcnow()
        )
        .execution_options(synchronize_session=False)
    )


async def close_pending_for_address(
    session: AsyncSession,
    channel: str,
    address: str,
    status: OutboxStatus,
    error: str,
    *,
    now: datetime | None = None,
) -> list[int]:
    """End every queued row of one chat (the person blocked the bot); returns their ids."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.address == address,
            OutboxMessage.status == OutboxStatus.QUEUED,
        )
        .values(status=status, last_error=error[:2000], status_at=now or utcnow())
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
    session: AsyncSession,
    outbox_ids: Sequence[int],
    status: OutboxStatus,
    *,
    now: datetime | None = None,
) -> None:
    """Carry an outbox outcome over to the broadcast deliveries made from those rows."""
    if not outbox_ids or status not in _DELIVERY_FOR_OUTBOX:
        return
    await session.execute(
        update(BroadcastDelivery)
        .where(BroadcastDelivery.outbox_id.in_(list(outbox_ids)))
        .values(status=_DELIVERY_FOR_OUTBOX[status], updated_at=now or utcnow())
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
