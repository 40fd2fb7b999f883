"""Which stored photo files something still refers to (for the orphan media sweep)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.domain.enums import InboundStatus
from guardianes.storage.models import ConversationState, InboundEvent, SubmissionMedia
from guardianes.storage.models_evidence import GuardianConfirmation

_BATCH = 500


def media_paths_in(value: Any) -> set[str]:
    """Paths of the stored photos a JSON document describes (dicts with sha256 and path)."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            path = item.get("path")
            if isinstance(path, str) and isinstance(item.get("sha256"), str):
                found.add(path)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


async def referenced_media_paths(session: AsyncSession) -> set[str]:
    """Files named by a submission, a "¿Ya quedó?" answer, a conversation in progress or an
    unprocessed message."""
    paths = set((await session.execute(select(SubmissionMedia.path))).scalars().all())
    confirmation_photos = await session.execute(
        select(GuardianConfirmation.media_path).where(GuardianConfirmation.media_path.is_not(None))
    )
    paths |= {path for path in confirmation_photos.scalars().all() if path is not None}
    states = await session.stream_scalars(
        select(ConversationState.state).execution_options(yield_per=_BATCH)
    )
    async for state in states:
        paths |= media_paths_in(state)
    payloads = await session.stream_scalars(
        select(InboundEvent.payload)
        .where(InboundEvent.status == InboundStatus.RECEIVED)
        .execution_options(yield_per=_BATCH)
    )
    async for payload in payloads:
        paths |= media_paths_in(payload)
    return paths
