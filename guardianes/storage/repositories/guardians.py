"""Guardians and their conversation states."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from guardianes.domain.enums import GuardianStatus
from guardianes.storage.models import Colonia, ConversationState, Guardian

# The statements every message runs are built once: building one costs more than running
# it on SQLite (bench/NOTES.md), and SQLAlchemy caches their compiled form either way.
_FIND_GUARDIAN = (
    select(Guardian)
    .options(joinedload(Guardian.colonia))
    .where(Guardian.channel == bindparam("channel"), Guardian.channel_user_id == bindparam("user"))
)
# Writes go through the tables: ORM-enabled DML checks the session's objects, three times
# the cost of the statement itself.
_GUARDIANS = cast(Table, Guardian.__table__)
_STATES = cast(Table, ConversationState.__table__)
_TOUCH_LAST_INBOUND = (
    update(_GUARDIANS)
    .where(_GUARDIANS.c.id == bindparam("key_id"))
    .values(
        last_inbound_at=bindparam("new_last_inbound_at", type_=_GUARDIANS.c.last_inbound_at.type),
        status=case(
            (_GUARDIANS.c.status == GuardianStatus.UNREACHABLE, GuardianStatus.ACTIVE.value),
            else_=_GUARDIANS.c.status,
        ),
    )
)
_UPDATE_STATE = (
    update(_STATES)
    .where(
        _STATES.c.channel == bindparam("key_channel"),
        _STATES.c.channel_user_id == bindparam("key_user"),
    )
    .values(
        state=bindparam("new_state", type_=_STATES.c.state.type),
        guardian_id=bindparam("new_guardian_id"),
    )  # updated_at: the column's onupdate
)
_LOAD_STATE = select(ConversationState).where(
    ConversationState.channel == bindparam("channel"),
    ConversationState.channel_user_id == bindparam("user"),
)


async def find_guardian(session: AsyncSession, channel: str, user_id: str) -> Guardian | None:
    """The guardian behind a channel identity, with their colonia loaded (one query)."""
    result = await session.execute(_FIND_GUARDIAN, {"channel": channel, "user": user_id})
    return result.scalar_one_or_none()


async def get_guardian(session: AsyncSession, guardian_id: int) -> Guardian | None:
    """One guardian by id, with their colonia loaded."""
    result = await session.execute(
        select(Guardian).options(joinedload(Guardian.colonia)).where(Guardian.id == guardian_id)
    )
    return result.scalar_one_or_none()


async def add_guardian(session: AsyncSession, guardian: Guardian) -> Guardian:
    """Insert a guardian and assign its id."""
    session.add(guardian)
    await session.flush()
    return guardian


async def set_guardian_status(
    session: AsyncSession, guardian_id: int, status: GuardianStatus
) -> None:
    """Change a guardian's status (e.g. UNREACHABLE after they blocked the bot)."""
    await session.execute(update(Guardian).where(Guardian.id == guardian_id).values(status=status))


async def touch_last_inbound(session: AsyncSession, guardian_id: int, when: datetime) -> None:
    """Remember when the guardian last wrote (opens WhatsApp's 24-hour window).

    Writing again makes an UNREACHABLE guardian reachable; a guardian staff deactivated or
    blocked stays so.
    """
    await session.execute(_TOUCH_LAST_INBOUND, {"key_id": guardian_id, "new_last_inbound_at": when})


async def load_state(session: AsyncSession, channel: str, user_id: str) -> ConversationState | None:
    """The stored conversation state of a channel identity."""
    result = await session.execute(_LOAD_STATE, {"channel": channel, "user": user_id})
    return result.scalar_one_or_none()


async def save_state(
    session: AsyncSession,
    *,
    channel: str,
    user_id: str,
    state: dict[str, Any] | None,
    guardian_id: int | None,
    existing: ConversationState | None,
) -> None:
    """Write the state after a message; None deletes it (nothing kept)."""
    if state is None:
        if existing is not None:
            # By key, not by object: an erasure in this transaction may have deleted it.
            await delete_state(session, channel, user_id)
        return
    if existing is None:
        session.add(
            ConversationState(
                channel=channel, channel_user_id=user_id, state=state, guardian_id=guardian_id
            )
        )
        await session.flush()
        return
    await session.execute(
        _UPDATE_STATE,
        {
            "key_channel": channel,
            "key_user": user_id,
            "new_state": state,
            "new_guardian_id": guardian_id,
        },
    )
    # The loaded object follows, so a later read in this session is not stale.
    set_committed_value(existing, "state", state)
    set_committed_value(existing, "guardian_id", guardian_id)


async def delete_state(session: AsyncSession, channel: str, user_id: str) -> None:
    """Forget a conversation."""
    await session.execute(
        delete(ConversationState).where(
            ConversationState.channel == channel, ConversationState.channel_user_id == user_id
        )
    )


async def list_colonias(session: AsyncSession) -> Sequence[Colonia]:
    """Every colonia, by name."""
    result = await session.execute(select(Colonia).order_by(Colonia.name))
    return result.scalars().all()


async def count_guardians(session: AsyncSession) -> int:
    """How many guardians are registered."""
    return int((await session.execute(select(func.count(Guardian.id)))).scalar_one())


async def set_address(session: AsyncSession, channel: str, user_id: str, address: str) -> None:
    """Where the platform now delivers replies to a channel identity."""
    await session.execute(
        update(Guardian)
        .where(Guardian.channel == channel, Guardian.channel_user_id == user_id)
        .values(address=address)
    )
