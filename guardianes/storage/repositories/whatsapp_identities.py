"""Resolving WhatsApp identifiers (phone wa_id, business-scoped user id) to one stable user id."""

from __future__ import annotations

import logging

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.storage.models_whatsapp import WhatsAppIdentity
from guardianes.storage.repositories._dialect import insert_for

logger = logging.getLogger(__name__)


async def find_identity(
    session: AsyncSession, *, wa_id: str | None, bsuid: str | None
) -> list[WhatsAppIdentity]:
    """Rows holding either identifier (two rows when both were first seen apart)."""
    conditions = []
    if wa_id:
        conditions.append(WhatsAppIdentity.wa_id == wa_id)
    if bsuid:
        conditions.append(WhatsAppIdentity.bsuid == bsuid)
    if not conditions:
        return []
    result = await session.execute(
        select(WhatsAppIdentity).where(or_(*conditions)).order_by(WhatsAppIdentity.id)
    )
    return list(result.scalars().all())


async def resolve_user_id(session: AsyncSession, *, wa_id: str | None, bsuid: str | None) -> str:
    """The stable user id of the person behind these identifiers, linking any new one."""
    if not wa_id and not bsuid:
        raise ValueError("a WhatsApp sender needs a wa_id or a business-scoped user id")
    rows = await find_identity(session, wa_id=wa_id, bsuid=bsuid)
    if not rows:
        # Concurrent first messages of one person: the loser's insert does nothing.
        await session.execute(
            insert_for(session, WhatsAppIdentity)
            .values(user_id=wa_id or bsuid, wa_id=wa_id, bsuid=bsuid)
            .on_conflict_do_nothing()
        )
        rows = await find_identity(session, wa_id=wa_id, bsuid=bsuid)
        if not rows:
            raise RuntimeError("WhatsApp identity neither inserted nor found")
    kept = rows[0]
    if len(rows) > 1:
        # Seen once by phone only and once by BSUID only: one person, keep the oldest id.
        for other in rows[1:]:
            logger.warning(
                "merging WhatsApp identity %s into %s (same person)", other.user_id, kept.user_id
            )
            await session.execute(delete(WhatsAppIdentity).where(WhatsAppIdentity.id == other.id))
        await session.flush()
    # A new phone number (same BSUID) or a new BSUID (same phone) replaces the old link.
    if wa_id and kept.wa_id != wa_id:
        kept.wa_id = wa_id
    if bsuid and kept.bsuid != bsuid:
        kept.bsuid = bsuid
    await session.flush()
    return kept.user_id


async def change_number(session: AsyncSession, old_wa_id: str, new_wa_id: str) -> str | None:
    """Move a person's phone identifier to their new number; their stable user id or None."""
    rows = await find_identity(session, wa_id=old_wa_id, bsuid=None)
    if not rows:
        return None
    kept = rows[0]
    taken = await find_identity(session, wa_id=new_wa_id, bsuid=None)
    for other in taken:
        if other.id != kept.id:
            # The new number was seen before as a separate person: it now belongs to this one.
            other.wa_id = None
    await session.flush()
    kept.wa_id = new_wa_id
    await session.flush()
    return kept.user_id


async def change_bsuid(session: AsyncSession, old_bsuid: str, new_bsuid: str) -> str | None:
    """Move a person's business-scoped user id to the new one; their stable user id or None."""
    rows = await find_identity(session, wa_id=None, bsuid=old_bsuid)
    if not rows:
        return None
    kept = rows[0]
    for other in await find_identity(session, wa_id=None, bsuid=new_bsuid):
        if other.id != kept.id:
            other.bsuid = None
    await session.flush()
    kept.bsuid = new_bsuid
    await session.flush()
    return kept.user_id
