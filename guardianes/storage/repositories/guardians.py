"""Guardians and their conversation states."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from guardianes.domain.enums import GuardianStatus
from guardianes.storage.models import Colonia, ConversationState, Guardian, QuizAttempt


async def find_guardian(session: AsyncSession, channel: str, user_id: str) -> Guardian | None:
    """The guardian behind a channel identity, with their colonia loaded (one query)."""
    result = await session.execute(
        select(Guardian)
        .options(joinedload(Guardian.colonia))
        .where(Guardian.channel == channel, Guardian.channel_user_id == user_id)
    )
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
    status = case(
        (Guardian.status == GuardianStatus.UNREACHABLE, GuardianStatus.ACTIVE.value),
        else_=Guardian.status,
    )
    await session.execute(
        update(Guardian)
        .where(Guardian.id == guardian_id)
        .values(last_inbound_at=when, status=status)
        .execution_options(synchronize_session=False)
    )


async def quiz_phases_done(session: AsyncSession, guardian_id: int) -> set[str]:
    """The quiz phases (pre/post) this guardian already completed."""
    result = await session.execute(
        select(QuizAttempt.phase).where(QuizAttempt.guardian_id == guardian_id).distinct()
    )
    return set(result.scalars().all())


async def load_state(session: AsyncSession, channel: str, user_id: str) -> ConversationState | None:
    """The stored conversation state of a channel identity."""
    result = await session.execute(
        select(ConversationState).where(
            ConversationState.channel == channel, ConversationState.channel_user_id == user_id
        )
    )
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
    else:
        existing.state = state
        existing.guardian_id = guardian_id
    await session.flush()


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
