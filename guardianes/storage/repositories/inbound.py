"""Inbound events: the idempotency record of every platform update."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.storage.models import InboundEvent, InboundStatus
from guardianes.storage.repositories._dialect import insert_for, is_postgres
from guardianes.storage.types import utcnow


async def record_event(
    session: AsyncSession,
    *,
    channel: str,
    external_id: str,
    conversation_key: str,
    payload: dict[str, Any],
) -> int | None:
    """Store a new event and return its id, or None when it was seen before."""
    statement = (
        insert_for(session, InboundEvent)
        .values(
            channel=channel,
            external_id=external_id,
            payload=payload,
            conversation_key=conversation_key,
            status=InboundStatus.RECEIVED,
            received_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["channel", "external_id"])
        .returning(InboundEvent.id)
    )
    result = await session.execute(statement)
    return result.scalar_one_or_none()


async def get_event(session: AsyncSession, event_id: int) -> InboundEvent | None:
    """One event by id."""
    return await session.get(InboundEvent, event_id)


async def mark_processed(session: AsyncSession, event_id: int, *, error: str | None = None) -> None:
    """Close an event; its payload is dropped so no message text is kept beyond processing."""
    await session.execute(
        update(InboundEvent)
        .where(InboundEvent.id == event_id)
        .values(
            status=InboundStatus.FAILED if error else InboundStatus.PROCESSED,
            payload=None,
            conversation_key=None,
            processed_at=utcnow(),
            error=error,
        )
    )


async def next_unprocessed_for(session: AsyncSession, conversation_key: str) -> InboundEvent | None:
    """The oldest unprocessed event of one conversation, locked on PostgreSQL."""
    statement = (
        select(InboundEvent)
        .where(
            InboundEvent.conversation_key == conversation_key,
            InboundEvent.status == InboundStatus.RECEIVED,
        )
        .order_by(InboundEvent.id)
        .limit(1)
    )
    if is_postgres(session):
        statement = statement.with_for_update()
    return (await session.execute(statement)).scalar_one_or_none()


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
