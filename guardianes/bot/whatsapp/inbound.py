"""Verified webhook contents into the one inbound path: identities, photos, then storage.

Every message is stored (as an inbound event, deduplicated on its wamid) before the webhook
answers 200; processing happens after. Photos are downloaded and stored first, because
Meta's media URLs expire five minutes after the message.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from guardianes.bot.whatsapp.client import WhatsAppClient
from guardianes.bot.whatsapp.parse import (
    MediaFailedError,
    MediaFetcher,
    Notice,
    Sender,
    WebhookBatch,
    to_inbound,
)
from guardianes.bot.whatsapp.statuses import apply_statuses
from guardianes.config import Settings
from guardianes.conversations.messages import InboundKind, InboundMessage, StoredMedia
from guardianes.services.delivery import FailureKind, SendFailedError
from guardianes.services.intake import MediaDecision, whatsapp_user_id
from guardianes.services.media import MediaRejectedError, store_audio, store_media

logger = logging.getLogger(__name__)

# Stores one message for processing; False when it was seen before (`accept_inbound`).
InboundStore = Callable[[InboundMessage], Awaitable[bool]]
# Whether to download the photo of a message: (user id, platform ids) -> decision; a voice
# note's gate is also given `InboundKind.AUDIO`.
MediaGate = Callable[..., Awaitable[MediaDecision]]
# Keeps a notice: (external id, kind, detail) -> False when kept before.
NoticeSink = Callable[[str, str, str | None], Awaitable[bool]]
# A person's phone number changed: (old wa_id, new wa_id).
NumberChange = Callable[[str, str], Awaitable[bool]]
# A person's business-scoped user id changed: (old BSUID, new BSUID).
UserIdChange = Callable[[str, str], Awaitable[bool]]


async def resolve_user_id(sessions: async_sessionmaker[AsyncSession], sender: Sender) -> str:
    """The one stable user id of a person, whichever identifiers this payload carries."""
    return await whatsapp_user_id(sessions, wa_id=sender.wa_id, bsuid=sender.bsuid)


def media_fetcher(client: WhatsAppClient, settings: Settings) -> MediaFetcher:
    """Downloads a media id right away and stores it content-addressed."""

    async def fetch(media_id: str) -> StoredMedia:
        try:
            info, data = await client.fetch_media(media_id, max_bytes=settings.max_photo_bytes)
        except SendFailedError as error:
            retryable = error.kind in (FailureKind.RETRY, FailureKind.RATE_LIMITED)
            raise MediaFailedError(error.detail, retryable=retryable) from error
        audio = (info.mime_type or "").startswith("audio/")
        store = store_audio if audio else store_media
        try:
            return await store(settings.media_dir, data, max_bytes=settings.max_photo_bytes)
        except MediaRejectedError as error:
            raise MediaFailedError(f"{error.reason}: {error}", retryable=False) from error

    return fetch


@dataclass
class WhatsAppInbound:
    """The webhook's sink: applies statuses, keeps notices and stores each message, in order.

    Without a `gate` every photo is downloaded (tools and tests); the service passes one,
    so photos are fetched only when the conversation asks for them, and never twice.
    """

    sessions: async_sessionmaker[AsyncSession]
    fetch_media: MediaFetcher
    store: InboundStore
    gate: MediaGate | None = None
    note: NoticeSink | None = None
    number_changed: NumberChange | None = None
    user_id_changed: UserIdChange | None = None

    async def accept(self, batch: WebhookBatch) -> None:
        """Apply statuses, keep notices, then resolve, convert and store every message."""
        await apply_statuses(self.sessions, batch.statuses)
        for notice in batch.notices:
            await self._keep(notice)
        for incoming in batch.messages:
            user_id = await resolve_user_id(self.sessions, incoming.sender)
            download = True
            kind = incoming.message.type
            if kind in ("image", "audio") and self.gate is not None:
                ids = [incoming.message.id]
                decision = await (
                    self.gate(user_id, ids, InboundKind.AUDIO)
                    if kind == "audio"
                    else self.gate(user_id, ids)
                )
                if decision is MediaDecision.DUPLICATE:
                    logger.debug("duplicate WhatsApp photo %s ignored", incoming.message.id)
                    continue
                download = decision is MediaDecision.FETCH
            inbound = await to_inbound(
                incoming, user_id=user_id, fetch_media=self.fetch_media, download=download
            )
            if not await self.store(inbound):
                logger.debug(
                    "WhatsApp message %s not stored (seen or over the limit)", inbound.external_id
                )

    async def _keep(self, notice: Notice) -> None:
        if self.note is not None and not await self.note(
            notice.external_id, notice.kind.value, notice.detail
        ):
            return  # kept before: a redelivery changes nothing
        if notice.old_wa_id and notice.new_wa_id and self.number_changed is not None:
            await self.number_changed(notice.old_wa_id, notice.new_wa_id)
        if notice.old_user_id and notice.new_user_id and self.user_id_changed is not None:
            await self.user_id_changed(notice.old_user_id, notice.new_user_id)
