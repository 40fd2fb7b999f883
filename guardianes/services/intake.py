"""What channels ask before doing work for a message: fetch its photo? record a notice?

Photos (and voice notes) are downloaded and stored only for a guardian who consented
(registered) and whose current question asks for them, and never twice for one platform
message. Everything else a platform reports that needs no answer (reactions, edits,
deletions, a number change, platform errors) is kept as a NOTED inbound event so it can
be counted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from guardianes.conversations.filling import expects_audio, expects_photo
from guardianes.conversations.messages import InboundKind
from guardianes.domain.enums import GuardianStatus
from guardianes.services.inbound import conversation_key
from guardianes.services.outbox import queue_keyboard_close
from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.repositories import guardians as guardians_repo
from guardianes.storage.repositories import inbound as inbound_repo
from guardianes.storage.repositories import whatsapp_identities as identities_repo

logger = logging.getLogger(__name__)


class MediaDecision(StrEnum):
    """What to do with the photo of an incoming message."""

    FETCH = "fetch"  # download and store it: the current question asks for photos
    DECLINE = "decline"  # do not download it; the person is told no photo is needed now
    DUPLICATE = "duplicate"  # this message was received before: no work at all


async def media_decision(
    runtime: Runtime,
    channel: str,
    user_id: str,
    external_ids: Sequence[str],
    kind: InboundKind = InboundKind.PHOTO,
) -> MediaDecision:
    """Whether to download the photo (or voice note) of a message with these platform ids."""
    async with unit_of_work(runtime.sessions) as session:
        if await inbound_repo.known_external_ids(session, channel, external_ids):
            return MediaDecision.DUPLICATE
        guardian = await guardians_repo.find_guardian(session, channel, user_id)
        if guardian is None or guardian.status != GuardianStatus.ACTIVE:
            return MediaDecision.DECLINE  # nothing stored for who has not consented
        stored = await guardians_repo.load_state(session, channel, user_id)
        state = stored.state if stored else None
        if kind is InboundKind.AUDIO:
            # A voice note is kept only when the current question is answered with one.
            audio = expects_audio(state, runtime.catalog)
            return MediaDecision.FETCH if audio else MediaDecision.DECLINE
        if expects_photo(state, runtime.catalog):
            return MediaDecision.FETCH
        # Messages still waiting may move the conversation to a photo question (an answer
        # sent just before the photo): then the photo is kept; the sweep removes it if not.
        pending = await inbound_repo.pending_count(session, conversation_key(channel, user_id))
        return MediaDecision.FETCH if pending else MediaDecision.DECLINE


async def note_event(
    runtime: Runtime, channel: str, external_id: str, kind: str, detail: str | None = None
) -> bool:
    """Keep a platform event that needs no answer; False when it was noted before."""
    async with unit_of_work(runtime.sessions) as session:
        return await inbound_repo.record_notice(
            session,
            channel=channel,
            external_id=external_id[: inbound_repo.MAX_EXTERNAL_ID],
            kind=kind,
            detail=detail[:2000] if detail else None,
        )


async def whatsapp_number_changed(runtime: Runtime, old_wa_id: str, new_wa_id: str) -> bool:
    """Point a person's identity and replies at their new phone number; False if unknown."""
    async with unit_of_work(runtime.sessions) as session:
        user_id = await identities_repo.change_number(session, old_wa_id, new_wa_id)
        if user_id is None:
            return False
        await guardians_repo.set_address(session, "whatsapp", user_id, new_wa_id)
    logger.info("WhatsApp user %s changed number", user_id)
    return True


async def whatsapp_user_id_changed(runtime: Runtime, old_bsuid: str, new_bsuid: str) -> bool:
    """Link a person's new business-scoped user id to them; False if the old one is unknown."""
    async with unit_of_work(runtime.sessions) as session:
        user_id = await identities_repo.change_bsuid(session, old_bsuid, new_bsuid)
    if user_id is not None:
        logger.info("WhatsApp user %s has a new business-scoped id", user_id)
    return user_id is not None


async def close_keyboard(runtime: Runtime, channel: str, address: str, message_id: str) -> None:
    """Queue closing a pressed keyboard: paced as an outbox row, never twice for one message."""
    async with unit_of_work(runtime.sessions) as session:
        queued = await queue_keyboard_close(
            session, channel=channel, address=address, message_id=message_id
        )
    if queued is not None:
        runtime.outbox_wakeup.set()


async def has_conversation(runtime: Runtime, channel: str, user_id: str) -> bool:
    """True when this person already talked to the bot on this channel."""
    async with unit_of_work(runtime.sessions) as session:
        state = await guardians_repo.load_state(session, channel, user_id)
    return state is not None


async def whatsapp_user_id(
    sessions: async_sessionmaker[AsyncSession], *, wa_id: str | None, bsuid: str | None
) -> str:
    """The one stable user id of a WhatsApp person, whichever identifiers a payload carries."""
    async with unit_of_work(sessions) as session:
        return await identities_repo.resolve_user_id(session, wa_id=wa_id, bsuid=bsuid)
