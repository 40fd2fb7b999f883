"""Inbound events: the idempotency record of every platform update."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.domain.enums import InboundStatus
from guardianes.storage.models import InboundEvent
from guardianes.storage.repositories._dialect import insert_for, is_postgres
from guardianes.storage.types import utcnow

MAX_EXTERNAL_ID = 200  # the column's length: longer platform ids are refused at the edge

# Statements every message runs are built once (building one costs more than running it on
# SQLite), and they write through the table, not the mapped class: ORM-enabled DML checks
# the session's objects and costs three times as much. SQLAlchemy caches their compiled form.
_EVENTS = cast(Table, InboundEvent.__table__)
_MARK_PROCESSED = (
    update(_EVENTS)
    .where(_EVENTS.c.id == bindparam("key_id"))
    .values(
        status=bindparam("new_status", type_=InboundEvent.status.type),
        payload=None,
        conversation_key=None,
        processed_at=bindparam("new_processed_at", type_=InboundEvent.processed_at.type),
        next_attempt_at=None,
        error=bindparam("new_error"),
        attempts=func.coalesce(bindparam("new_attempts"), _EVENTS.c.attempts),
    )
)
_OLDEST_UNPROCESSED = (
    select(InboundEvent)
    .where(
        InboundEvent.conversation_key == bindparam("key"),
        InboundEvent.status == InboundStatus.RECEIVED,
    )
    .order_by(InboundEvent.id)
    .limit(bindparam("count"))
)
_OLDEST_UNPROCESSED_LOCKED = _OLDEST_UNPROCESSED.with_for_update()


@cache
def _record_event_statement(dialect: str) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id, in the dialect's own form."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(_EVENTS)
        .values(
            channel=bindparam("new_channel"),
            external_id=bindparam("new_external_id"),
            payload=bindparam("new_payload", type_=InboundEvent.payload.type),
            conversation_key=bindparam("new_conversation_key"),
            status=InboundStatus.RECEIVED,
            received_at=bindparam("new_received_at", type_=InboundEvent.received_at.type),
        )
        .on_conflict_do_nothing(index_elements=["channel", "external_id"])
        .returning(_EVENTS.c.id)
    )


async def record_event(
    session: AsyncSession,
    *,
    channel: str,
    external_id: str,
    conversation_key: str,
    payload: dict[str, Any],
) -> int | None:
    """Store a new event and return its id, or None when it was seen before."""
    dialect = "postgresql" if is_postgres(session) else "sqlite"
    result = await session.execute(
        _record_event_statement(dialect),
        {
            "new_channel": channel,
            "new_external_id": external_id,
            "new_payload": payload,
            "new_conversation_key": conversation_key,
            "new_received_at": utcnow(),
        },
    )
    return result.scalar_one_or_none()


async def get_event(session: AsyncSession, event_id: int) -> InboundEvent | None:
    """One event by id."""
    return await session.get(InboundEvent, event_id)


async def mark_processed(
    session: AsyncSession, event_id: int, *, error: str | None = None, attempts: int | None = None
) -> None:
    """Close an event; its payload is dropped so no message text is kept beyond processing."""
    await session.execute(
        _MARK_PROCESSED,
        {
            "key_id": event_id,
            "new_status": InboundStatus.FAILED if error else InboundStatus.PROCESSED,
            "new_processed_at": utcnow(),
            "new_error": error,
            "new_attempts": attempts,
        },
    )


async def schedule_retry(
    session: AsyncSession, event_id: int, *, attempts: int, at: datetime, error: str
) -> None:
    """Leave an event RECEIVED, to be tried again at `at`, noting the passing failure."""
    await session.execute(
        update(InboundEvent)
        .where(InboundEvent.id == event_id, InboundEvent.status == InboundStatus.RECEIVED)
        .values(attempts=attempts, next_attempt_at=at, error=error)
    )


async def record_notice(
    session: AsyncSession, *, channel: str, external_id: str, kind: str, detail: str | None = None
) -> bool:
    """Keep a NOTED event (no payload, never answered); False when it was seen before."""
    now = utcnow()
    statement = (
        insert_for(session, InboundEvent)
        .values(
            channel=channel,
            external_id=external_id,
            payload=None,
            conversation_key=None,
            status=InboundStatus.NOTED,
            kind=kind,
            received_at=now,
            processed_at=now,
            error=detail,
        )
        .on_conflict_do_nothing(index_elements=["channel", "external_id"])
        .returning(InboundEvent.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def known_external_ids(
    session: AsyncSession, channel: str, external_ids: Iterable[str]
) -> set[str]:
    """Which of these platform ids were already received (to skip work on redeliveries)."""
    wanted = list(dict.fromkeys(external_ids))
    if not wanted:
        return set()
    result = await session.execute(
        select(InboundEvent.external_id).where(
            InboundEvent.channel == channel, InboundEvent.external_id.in_(wanted)
        )
    )
    return {str(value) for value in result.scalars().all()}


async def pending_count(session: AsyncSession, conversation_key: str) -> int:
    """Unprocessed events of one conversation (its state may still change before a new one)."""
    result = await session.execute(
        select(func.count())
        .select_from(InboundEvent)
        .where(
            InboundEvent.conversation_key == conversation_key,
            InboundEvent.status == InboundStatus.RECEIVED,
        )
    )
    return int(result.scalar_one())


async def due_conversation_keys(
    session: AsyncSession, *, now: datetime, stuck_before: datetime, limit: int = 1000
) -> list[str]:
    """Conversations whose oldest unprocessed event is due: its retry time has come, or it
    was never tried and is older than `stuck_before` (its process died or lost it)."""
    due = or_(
        InboundEvent.next_attempt_at <= now,
        and_(InboundEvent.next_attempt_at.is_(None), InboundEvent.received_at <= stuck_before),
    )
    result = await session.execute(
        select(InboundEvent.conversation_key, func.min(InboundEvent.id))
        .where(InboundEvent.status == InboundStatus.RECEIVED, due)
        .group_by(InboundEvent.conversation_key)
        .order_by(func.min(InboundEvent.id))
        .limit(limit)
    )
    return [str(key) for key, _ in result.all() if key]


async def status_counts(session: AsyncSession) -> dict[tuple[str, str], int]:
    """Events per (status, kind), for metrics and the operator."""
    result = await session.execute(
        select(InboundEvent.status, InboundEvent.kind, func.count()).group_by(
            InboundEvent.status, InboundEvent.kind
        )
    )
    return {(str(status), str(kind)): int(count) for status, kind, count in result.all()}


async def retry_totals(session: AsyncSession) -> tuple[int, int]:
    """(events waiting for a retry, attempts made beyond the first over all events)."""
    waiting = await session.execute(
        select(func.count())
        .select_from(InboundEvent)
        .where(
            InboundEvent.status == InboundStatus.RECEIVED, InboundEvent.next_attempt_at.is_not(None)
        )
    )
    retries = await session.execute(
        select(func.coalesce(func.sum(InboundEvent.attempts), 0)).where(InboundEvent.attempts > 0)
    )
    return int(waiting.scalar_one()), int(retries.scalar_one())


async def next_unprocessed_for(session: AsyncSession, conversation_key: str) -> InboundEvent | None:
    """The oldest unprocessed event of one conversation, locked on PostgreSQL."""
    return (await _oldest_unprocessed(session, conversation_key, 1))[0]


async def next_unprocessed_and_more(
    session: AsyncSession, conversation_key: str
) -> tuple[InboundEvent | None, bool]:
    """The oldest unprocessed event of one conversation, and whether another one follows it."""
    event, following = await _oldest_unprocessed(session, conversation_key, 2)
    return event, following is not None


async def _oldest_unprocessed(
    session: AsyncSession, conversation_key: str, count: int
) -> list[InboundEvent | None]:
    """The `count` oldest unprocessed events (padded with None), locked on PostgreSQL."""
    statement = _OLDEST_UNPROCESSED_LOCKED if is_postgres(session) else _OLDEST_UNPROCESSED
    result = await session.execute(statement, {"key": conversation_key, "count": count})
    events: list[InboundEvent | None] = list(result.scalars().all())
    return events + [None] * (count - len(events))


async def unprocessed_conversation_keys(session: AsyncSession, limit: int = 1000) -> list[str]:
    """Conversations with events left unprocessed (by a crash), oldest first."""
    result = await session.execute(
        select(InboundEvent.conversation_key, func.min(InboundEvent.id))
        .where(InboundEvent.status == InboundStatus.RECEIVED)
        .group_by(InboundEvent.conversation_key)
        .order_by(func.min(InboundEvent.id))
        .limit(limit)
    )
    return [str(key) for key, _ in result.all() if key]


async def lock_conversation(session: AsyncSession, conversation_key: str) -> None:
    """Serialize one conversation across processes for this transaction (PostgreSQL only)."""
    if is_postgres(session):
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": conversation_key},
        )
