"""The web chat's own history: what a guardian sent, so a reload or a second tab shows it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.storage.models import OutboxMessage
from guardianes.storage.models_webchat import WebChatOwnMessage
from guardianes.storage.repositories._dialect import insert_for


async def newest_reply_id(session: AsyncSession, *, channel: str, address: str) -> int:
    """The newest message queued to one chat (0 when none)."""
    value = await session.scalar(
        select(func.max(OutboxMessage.id)).where(
            OutboxMessage.channel == channel, OutboxMessage.address == address
        )
    )
    return int(value or 0)


async def add_own_message(session: AsyncSession, row: WebChatOwnMessage) -> None:
    """Keep one sent message; a retried post (same page id) is kept once."""
    values = {
        column.key: getattr(row, column.key)
        for column in WebChatOwnMessage.__table__.columns
        if column.key != "id" and getattr(row, column.key) is not None
    }
    await session.execute(
        insert_for(session, WebChatOwnMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["user_id", "client_id"])
    )


async def own_messages(
    session: AsyncSession, *, user_id: str, after_id: int, limit: int
) -> Sequence[WebChatOwnMessage]:
    """One browser's sent messages after `after_id`, oldest first."""
    rows = await session.scalars(
        select(WebChatOwnMessage)
        .where(WebChatOwnMessage.user_id == user_id, WebChatOwnMessage.id > after_id)
        .order_by(WebChatOwnMessage.id)
        .limit(limit)
    )
    return rows.all()


async def forget_own_messages(session: AsyncSession, *, user_id: str) -> int:
    """Delete everything one browser's guardian sent (erasure)."""
    result = await session.execute(
        delete(WebChatOwnMessage).where(WebChatOwnMessage.user_id == user_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)
