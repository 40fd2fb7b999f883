"""The web chat's reads and writes, each in its own unit of work (the channel opens none)."""

from __future__ import annotations

from collections.abc import Sequence

from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import OutboxMessage, PublicSpace
from guardianes.storage.models_webchat import WebChatOwnMessage
from guardianes.storage.repositories import guardians as guardians_repo
from guardianes.storage.repositories import imports as imports_repo
from guardianes.storage.repositories import outbox as outbox_repo
from guardianes.storage.repositories import privacy as privacy_repo
from guardianes.storage.repositories import webchat_history


async def newest_reply_id(runtime: Runtime, channel: str, address: str) -> int:
    """The id of the newest message sent to this chat (0 when none)."""
    async with unit_of_work(runtime.sessions) as session:
        return await webchat_history.newest_reply_id(session, channel=channel, address=address)


async def keep_own_message(runtime: Runtime, channel: str, message: WebChatOwnMessage) -> bool:
    """Keep what a guardian sent for their page's history; False for who has not consented."""
    async with unit_of_work(runtime.sessions) as session:
        # Nothing is kept for someone who has not registered (consented) or just erased.
        if await guardians_repo.find_guardian(session, channel, message.user_id) is None:
            return False
        await webchat_history.add_own_message(session, message)
    return True


async def own_messages(
    runtime: Runtime, user_id: str, after_id: int, limit: int
) -> Sequence[WebChatOwnMessage]:
    """The guardian's own kept messages after `after_id`, oldest first."""
    async with unit_of_work(runtime.sessions) as session:
        return await webchat_history.own_messages(
            session, user_id=user_id, after_id=after_id, limit=limit
        )


async def sent_messages(
    runtime: Runtime, channel: str, address: str, after_id: int, limit: int
) -> Sequence[OutboxMessage]:
    """Outbox rows sent to one chat after `after_id`, oldest first."""
    async with unit_of_work(runtime.sessions) as session:
        return await outbox_repo.messages_for_address(
            session, channel, address, after_id, limit=limit
        )


async def attachment_message(
    runtime: Runtime, channel: str, address: str, message_id: int
) -> OutboxMessage | None:
    """The outbox row of a message with a file sent to this chat, if any."""
    async with unit_of_work(runtime.sessions) as session:
        return await privacy_repo.attachment_row(session, channel, address, message_id)


async def public_spaces(runtime: Runtime) -> Sequence[PublicSpace]:
    """Every public space, by id."""
    async with unit_of_work(runtime.sessions) as session:
        return await imports_repo.all_spaces(session)
