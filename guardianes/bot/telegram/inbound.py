"""Updates into the one inbound path: photos downloaded, albums merged, presses answered.

`TelegramInbound.handle(update)` is what the dispatcher calls for every update, whether it
came from long polling or the webhook. It stores each message as an inbound event (through
`store`, i.e. `accept_inbound`) before returning, and closes the keyboard of a question once
it is answered so old buttons cannot be pressed twice (through `keyboards`, which queues the
edit in the outbox: edits are paced like sends).

A button press is answered first, on receipt, whatever happens next: Telegram shows a
spinner until then and accepts an answer only once and only for a short time, so the
answer never waits for storage or for the reply's turn in the outbox. The ids answered
recently are remembered, so a redelivered or retried update is not answered twice.

Telegram sends an album as one update per photo, with nothing marking the last one. Parts
are collected per `media_group_id` and emitted as one PHOTO message once no part arrived for
`album_window` seconds, or at once when the same person sends anything else (so a "done"
typed right after an album is never processed before the album's photos).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Update

from guardianes.bot.telegram.parse import (
    Incoming,
    PhotoFetcher,
    callback_query_id,
    external_id,
    fetch_photo,
    merge_album,
    read_update,
    to_inbound,
)
from guardianes.conversations.messages import InboundKind, InboundMessage, StoredMedia
from guardianes.services.intake import MediaDecision

logger = logging.getLogger(__name__)

# Stores one message for processing; False when it was seen before (`accept_inbound`).
InboundStore = Callable[[InboundMessage], Awaitable[bool]]
# Whether to download the photo of a message: (user id, platform ids) -> decision; a voice
# note's gate is also given `InboundKind.AUDIO`.
MediaGate = Callable[..., Awaitable[MediaDecision]]
# Keeps an update that needs no answer: (external id, kind, detail) -> False when kept before.
NoticeSink = Callable[[str, str, str | None], Awaitable[bool]]
# Queues removing the keyboard of (chat id, message id) once the press was stored.
KeyboardCloser = Callable[[str, str], Awaitable[None]]
DEFAULT_ALBUM_WINDOW = 1.5  # seconds without a new part after which an album is complete
# Callback query ids remembered as answered; Telegram redelivers within minutes, not hours.
ANSWERED_MEMORY = 10_000


@dataclass
class _Album:
    parts: dict[int, tuple[Incoming, StoredMedia | None]] = field(default_factory=dict)
    timer: asyncio.Task[None] | None = None


class AlbumCollector:
    """Holds album parts per (person, media_group_id) until the album is complete."""

    def __init__(self, emit: InboundStore, *, window: float = DEFAULT_ALBUM_WINDOW) -> None:
        self._emit = emit
        self.window = window
        self._albums: dict[tuple[str, str], _Album] = {}
        self._lock = asyncio.Lock()

    @property
    def pending(self) -> int:
        """Albums still collecting parts."""
        return len(self._albums)

    async def add(self, incoming: Incoming, stored: StoredMedia | None) -> None:
        """Keep one part; (re)start the album's quiet-time timer."""
        assert incoming.media_group_id is not None
        user = incoming.inbound.user_id
        # Another album of the same person started: the earlier one is complete.
        for key in [k for k in self._albums if k[0] == user and k[1] != incoming.media_group_id]:
            await self._flush(key)
        key = (user, incoming.media_group_id)
        album = self._albums.setdefault(key, _Album())
        album.parts.setdefault(incoming.message_id, (incoming, stored))  # redelivery: once
        if album.timer is not None:
            album.timer.cancel()
        album.timer = asyncio.create_task(self._flush_later(key), name=f"album {key[1]}")

    async def flush_user(self, user_id: str) -> None:
        """Emit the person's pending albums now (they sent something else)."""
        for key in [k for k in self._albums if k[0] == user_id]:
            await self._flush(key)

    async def flush_all(self) -> None:
        """Emit every pending album (shutdown, tests)."""
        for key in list(self._albums):
            await self._flush(key)

    async def _flush_later(self, key: tuple[str, str]) -> None:
        await asyncio.sleep(self.window)
        try:
            await self._flush(key, from_timer=True)
        except Exception:
            logger.exception("storing album %s failed", key[1])

    async def _flush(self, key: tuple[str, str], *, from_timer: bool = False) -> None:
        async with self._lock:
            album = self._albums.pop(key, None)
        if album is None:
            return
        if album.timer is not None and not from_timer:
            album.timer.cancel()
        inbound = merge_album(list(album.parts.values()))
        if not await self._emit(inbound):
            logger.debug("duplicate Telegram album %s ignored", inbound.external_id)


class TelegramInbound:
    """The dispatcher's one handler: every update, from polling or the webhook."""

    def __init__(
        self,
        bot: Bot,
        store: InboundStore,
        fetch: PhotoFetcher,
        *,
        keyboards: KeyboardCloser | None = None,
        album_window: float = DEFAULT_ALBUM_WINDOW,
        gate: MediaGate | None = None,
        note: NoticeSink | None = None,
    ) -> None:
        self.bot = bot
        self.store = store
        self.fetch = fetch
        self.gate = gate
        self.note = note
        # Without a closer (adapter tests with no database) pressed keyboards stay open;
        # the engine ignores stale presses either way.
        self.keyboards = keyboards
        self.albums = AlbumCollector(store, window=album_window)
        self._answered: OrderedDict[str, None] = OrderedDict()

    async def handle(self, update: Update) -> None:
        """Answer a button press at once, then store what the update says."""
        query_id = callback_query_id(update)
        if query_id is not None:
            await self._answer(query_id)
        incoming = read_update(update)
        if incoming is None:
            await self.note_unanswered(update)
            return
        if incoming.photo is not None and self.gate is not None:
            ids = [external_id(incoming.update_id)]
            if incoming.inbound.kind is InboundKind.AUDIO:
                decision = await self.gate(incoming.inbound.user_id, ids, InboundKind.AUDIO)
            else:
                decision = await self.gate(incoming.inbound.user_id, ids)
            if decision is MediaDecision.DUPLICATE:
                logger.debug("Telegram update %s seen before", incoming.update_id)
                return  # received before (an album part redelivered late): no download
            if decision is MediaDecision.DECLINE:
                incoming = replace(incoming, declined=True)
        if incoming.media_group_id is not None:
            await self.albums.add(incoming, await fetch_photo(incoming, self.fetch))
            return
        await self.albums.flush_user(incoming.inbound.user_id)
        inbound = await to_inbound(incoming, self.fetch)
        stored = await self.store(inbound)
        if stored and incoming.closes_keyboard and self.keyboards is not None:
            await self.keyboards(incoming.chat_id, str(incoming.message_id))

    async def note_unanswered(self, update: Update) -> None:
        """Keep an edit (or other update that needs no answer) so it can be counted."""
        if self.note is None:
            return
        kind = "edit" if update.edited_message is not None else "other"
        try:
            detail = update.event_type
        except Exception:  # aiogram raises for an update of a type it does not know
            detail = "unknown"
        await self.note(external_id(update.update_id), kind, detail)

    async def _answer(self, query_id: str) -> None:
        """Answer a press once: a second answer (or a late one) is a 400 from Telegram."""
        if query_id in self._answered:
            return
        self._answered[query_id] = None
        if len(self._answered) > ANSWERED_MEMORY:
            self._answered.popitem(last=False)
        try:
            await self.bot.answer_callback_query(query_id)
        except TelegramAPIError as error:
            # Too old already (the update waited in Telegram's queue): nothing to retry.
            logger.info("answering callback %s failed: %s", query_id, error)

    async def close(self) -> None:
        """Emit pending albums so a clean shutdown loses no photos."""
        with contextlib.suppress(Exception):
            await self.albums.flush_all()
