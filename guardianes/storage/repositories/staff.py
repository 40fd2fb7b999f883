"""Staff API tokens, and the guardian queries staff use to manage people."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.domain.enums import GuardianRole
from guardianes.storage.models import Guardian, StaffToken
from guardianes.storage.repositories.pagination import PageRows, paginate

# ---------------------------------------------------------------- tokens


async def add_token(session: AsyncSession, *, name: str, role: str, token_hash: str) -> StaffToken:
    """Store a new token by its hash."""
    token = StaffToken(name=name, role=role, token_hash=token_hash)
    session.add(token)
    await session.flush()
    return token


async def find_active_token(session: AsyncSession, token_hash: str) -> StaffToken | None:
    """The unrevoked token with this hash."""
    result = await session.execute(
        select(StaffToken).where(
            StaffToken.token_hash == token_hash, StaffToken.revoked_at.is_(None)
        )
    )
    return result.scalar_one_or_none()


async def touch_token(
    session: AsyncSession, token_id: int, when: datetime, *, not_since: datetime
) -> None:
    """Remember when a token was last used, unless that was recorded after `not_since`."""
    await session.execute(
        update(StaffToken)
        .where(
            StaffToken.id == token_id,
            or_(StaffToken.last_used_at.is_(None), StaffToken.last_used_at < not_since),
        )
        .values(last_used_at=when)
        .execution_options(synchronize_session=False)
    )


async def list_tokens(session: AsyncSession) -> Sequence[StaffToken]:
    """Every token, newest first."""
    result = await session.execute(select(StaffToken).order_by(StaffToken.id.desc()))
    return result.scalars().all()


async def tokens_page(session: AsyncSession, *, limit: int, offset: int) -> PageRows[StaffToken]:
    """One page of tokens, newest first."""
    statement = select(StaffToken).order_by(StaffToken.id.desc())
    return await paginate(session, statement, limit=limit, offset=offset)


async def get_token(session: AsyncSession, token_id: int) -> StaffToken | None:
    """One token."""
    return await session.get(StaffToken, token_id)


# ---------------------------------------------------------------- guardians


async def list_guardians(
    session: AsyncSession,
    *,
    colonia_id: int | None,
    role: str | None,
    channel: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> PageRows[Guardian]:
    """Guardians matching the filters, oldest first."""
    statement = select(Guardian).order_by(Guardian.id)
    if colonia_id is not None:
        statement = statement.where(Guardian.colonia_id == colonia_id)
    if role is not None:
        statement = statement.where(Guardian.role == role)
    if channel is not None:
        statement = statement.where(Guardian.channel == channel)
    if status is not None:
        statement = statement.where(Guardian.status == status)
    return await paginate(session, statement, limit=limit, offset=offset)


async def get_guardian(session: AsyncSession, guardian_id: int) -> Guardian | None:
    """One guardian."""
    return await session.get(Guardian, guardian_id)


async def demote_leads_of_colonia(
    session: AsyncSession, colonia_id: int, *, keep_guardian_id: int
) -> int:
    """Make every other lead of a colonia a plain guardian (one lead per colonia)."""
    result = await session.execute(
        update(Guardian)
        .where(
            Guardian.colonia_id == colonia_id,
            Guardian.role == GuardianRole.LEAD,
            Guardian.id != keep_guardian_id,
        )
        .values(role=GuardianRole.GUARDIAN)
        .execution_options(synchronize_session="fetch")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
