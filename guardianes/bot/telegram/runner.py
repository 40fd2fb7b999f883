"""Running the Telegram bot: the `Bot` on the configured API server, polling or webhook.

aiogram is used as a transport only: one `Dispatcher` (FSM disabled) whose single handler
is `TelegramInbound.handle`; long polling and the webhook route both end in
`Dispatcher.feed_update`. Conversation state lives in our database, never in aiogram.

`TelegramTransport.start()` registers the bot's commands, then either sets the webhook
(with its secret token) when `TELEGRAM_WEBHOOK_URL` is set, or deletes any webhook and
polls getUpdates. Polling confirms an update (the next getUpdates offset) only after it
was stored, so a crash or a passing photo-download failure means it is fetched again; the
inbound store's UNIQUE(channel, external_id) turns the repeat into a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import ClientDecodeError, TelegramAPIError, TelegramRetryAfter
from aiogram.types import BotCommand, Update
from pydantic import ValidationError

from guardianes.bot.telegram.channel import TelegramChannel
from guardianes.bot.telegram.inbound import (
    DEFAULT_ALBUM_WINDOW,
    InboundStore,
    KeyboardCloser,
    MediaGate,
    NoticeSink,
    TelegramInbound,
)
from guardianes.bot.telegram.media import photo_fetcher
from guardianes.bot.telegram.names import MediaFailedError
from guardianes.bot.telegram.parse import external_id
from guardianes.config import Settings
from guardianes.locales import DEFAULT_LOCALE, SUPPORTED_LOCALES, translator

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]
# /staff stays unlisted; /misdatos and /borrarmisdatos are the ARCO rights (the notice names them).
COMMANDS = ("start", "menu", "help", "cancel", "back", "skip", "misdatos", "borrarmisdatos")
POLL_TIMEOUT_SECONDS = 25
MAX_UPDATE_ATTEMPTS = 5  # then a poisoned update is dropped rather than wedging the bot
MIN_RETRY_DELAY = 1.0
MAX_RETRY_DELAY = 30.0
MAX_ID = 2**63 - 1


def build_bot(settings: Settings) -> Bot:
    """A `Bot` talking to `settings.telegram_api_base` (Telegram, a local server, a fake)."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is required")
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
    return Bot(settings.telegram_bot_token.get_secret_value(), session=session)


def bot_commands(locale: str) -> list[BotCommand]:
    """The command menu in one language."""
    t = translator(locale)
    return [BotCommand(command=c, description=t(f"telegram.command.{c}")) for c in COMMANDS]


async def set_commands(bot: Bot) -> None:
    """The command menu per language, Spanish for everyone else."""
    await bot.set_my_commands(bot_commands(DEFAULT_LOCALE))
    for locale in SUPPORTED_LOCALES:
        await bot.set_my_commands(bot_commands(locale), language_code=locale)


def build_dispatcher(inbound: TelegramInbound) -> Dispatcher:
    """A dispatcher whose only job is handing every update to `inbound`."""
    dispatcher = Dispatcher(disable_fsm=True, name="guardianes")

    async def on_event(_event: Any, event_update: Update) -> None:
        await inbound.handle(event_update)

    dispatcher.message.register(on_event)
    dispatcher.callback_query.register(on_event)
    return dispatcher


class TelegramTransport:
    """The bot's inbound side (polling or webhook) and its outbound channel."""

    def __init__(
        self,
        settings: Settings,
        store: InboundStore,
        *,
        bot: Bot | None = None,
        keyboards: KeyboardCloser | None = None,
        album_window: float = DEFAULT_ALBUM_WINDOW,
        poll_timeout: int = POLL_TIMEOUT_SECONDS,
        retry_delay: float = MIN_RETRY_DELAY,
        gate: MediaGate | None = None,
        note: NoticeSink | None = None,
    ) -> None:
        self.bot = bot or build_bot(settings)
        self.channel = TelegramChannel(self.bot, settings.media_dir)
        self.note = note
        self.inbound = TelegramInbound(
            self.bot,
            store,
            photo_fetcher(self.bot, settings.media_dir, settings.max_photo_bytes),
            keyboards=keyboards,
            album_window=album_window,
            gate=gate,
            note=note,
        )
        self.dispatcher = build_dispatcher(self.inbound)
        self.webhook_url = settings.telegram_webhook_url
        configured = settings.telegram_webhook_secret
        # Without a configured secret (development only) a random one still keeps
        # strangers out of the webhook; production must configure it (several workers).
        self.webhook_secret: str | None = None
        if self.webhook_url:
            self.webhook_secret = (
                configured.get_secret_value() if configured else secrets.token_urlsafe(32)
            )
        self.poll_timeout = poll_timeout
        self.retry_delay = retry_delay
        self.ready = asyncio.Event()  # set once the webhook is registered or polling began
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def mode(self) -> str:
        """ "webhook" or "polling"."""
        return "webhook" if self.webhook_url else "polling"

    @property
    def is_ready(self) -> bool:
        """The webhook is registered, or polling began and is still running."""
        if not self.ready.is_set():
            return False
        return self.mode == "webhook" or (self._task is not None and not self._task.done())

    async def start(self) -> None:
        """Register commands and the webhook, or start polling, in the background."""
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name=f"telegram {self.mode}")

    async def stop(self) -> None:
        """Stop polling, emit pending albums, close the HTTP session."""
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.inbound.close()
        await self.bot.session.close()

    # -------------------------------------------------------------- inbound

    async def feed_update(self, update: Update) -> None:
        """Handle one update (the single entry point of polling, webhook and tests)."""
        if update.message is None and update.callback_query is None:
            # Edits, channel posts, updates of kinds we did not ask for: noted, not answered.
            await self.inbound.note_unanswered(update)
            return
        await self.dispatcher.feed_update(self.bot, update)

    async def feed_webhook(self, data: dict[str, Any]) -> None:
        """Handle one update posted to the webhook.

        An update aiogram cannot validate (a field from an older or newer Bot API) is
        logged with its id and the first field at fault, kept as an "unreadable" notice,
        and otherwise dropped: Telegram must get its 200, or it redelivers it for a day.
        """
        try:
            update = Update.model_validate(data, context={"bot": self.bot})
        except (ValidationError, RecursionError) as error:
            await self._unreadable(data, error)
            return
        await self.feed_update(update)

    async def _unreadable(self, data: dict[str, Any], error: Exception) -> None:
        update_id = data.get("update_id")
        field = "(structure)"
        if isinstance(error, ValidationError) and error.errors():
            field = ".".join(str(part) for part in error.errors()[0]["loc"])
        logger.warning("Telegram update %r could not be read: field %s", update_id, field)
        if self.note is not None and isinstance(update_id, int) and 0 <= update_id <= MAX_ID:
            await self.note(external_id(update_id), "unreadable", f"field {field}"[:500])

    def secret_matches(self, header: str | None) -> bool:
        """True when the webhook header carries our secret token (constant time)."""
        if self.webhook_secret is None or header is None:
            return False
        return hmac.compare_digest(header.encode(), self.webhook_secret.encode())

    # -------------------------------------------------------------- background

    async def _pause(self, seconds: float) -> bool:
        """Wait, unless stopping; False when stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        return not self._stopping.is_set()

    async def _retrying(self, what: str, call: Callable[[], Awaitable[Any]]) -> bool:
        """Call until it succeeds (backing off), or until stopping; False when stopping."""
        delay = self.retry_delay
        while not self._stopping.is_set():
            try:
                await call()
                return True
            except TelegramRetryAfter as error:
                delay = float(error.retry_after)
            except Exception as error:
                logger.warning("telegram %s failed: %s", what, error)
            if not await self._pause(delay):
                return False
            delay = min(MAX_RETRY_DELAY, delay * 2)
        return False

    async def _run(self) -> None:
        try:
            await set_commands(self.bot)
        except TelegramAPIError as error:
            logger.warning("telegram setMyCommands failed (menu only): %s", error)
        if self.webhook_url:
            registered = await self._retrying(
                "setWebhook",
                partial(
                    self.bot.set_webhook,
                    url=self.webhook_url,
                    secret_token=self.webhook_secret,
                    allowed_updates=ALLOWED_UPDATES,
                ),
            )
            if registered:
                logger.info("telegram webhook set to %s", self.webhook_url)
                self.ready.set()
            return
        # getUpdates is refused while a webhook is set (e.g. left by an earlier deploy).
        if await self._retrying("deleteWebhook", self.bot.delete_webhook):
            await self._poll()

    async def _poll(self) -> None:
        offset: int | None = None
        attempts: dict[int, int] = {}
        delay = self.retry_delay
        self.ready.set()
        logger.info("telegram long polling started")
        while not self._stopping.is_set():
            try:
                batch: list[Update | dict[str, Any]] = list(
                    await self.bot.get_updates(
                        offset=offset,
                        timeout=self.poll_timeout,
                        allowed_updates=ALLOWED_UPDATES,
                        request_timeout=self.poll_timeout + 10,
                    )
                )
            except ClientDecodeError as error:
                # One update aiogram cannot validate fails the whole getUpdates answer:
                # take the answer apart and read each update on its own.
                raw = _raw_updates(error)
                if raw is None:
                    logger.warning("telegram getUpdates answer unreadable: %s", error)
                    await self._pause(delay)
                    delay = min(MAX_RETRY_DELAY, delay * 2)
                    continue
                batch = list(raw)
            except TelegramRetryAfter as error:
                await self._pause(float(error.retry_after))
                continue
            except Exception as error:
                logger.warning("telegram getUpdates failed: %s", error)
                await self._pause(delay)
                delay = min(MAX_RETRY_DELAY, delay * 2)
                continue
            delay = self.retry_delay
            next_offset, confirmed = await self._handle_batch(batch, attempts)
            if next_offset is not None:
                offset = max(offset or 0, next_offset)
            if not confirmed:
                await self._pause(delay)  # then fetch again from the first unconfirmed update

    async def _handle_batch(
        self, batch: list[Update | dict[str, Any]], attempts: dict[int, int]
    ) -> tuple[int | None, bool]:
        """Handle one getUpdates answer: each person's updates in order, people at once.

        Returns the next offset and whether every update was confirmed. One person's
        updates wait for each other (their order is their conversation's order); other
        people's do not wait behind them, so one slow download or store does not hold a
        whole batch. When an update is not confirmed, the offset stops at it: the updates
        after it that were stored come again and are recognised as duplicates.
        """
        lanes: dict[str, list[Update | dict[str, Any]]] = {}
        for item in batch:
            lanes.setdefault(_sender_key(item), []).append(item)

        async def run_lane(items: list[Update | dict[str, Any]]) -> int | None:
            for item in items:
                if await self._handle_item(item, attempts) is None:
                    update_id = _update_id(item)
                    return update_id if update_id is not None else -1
            return None

        stuck = [u for u in await asyncio.gather(*map(run_lane, lanes.values())) if u is not None]
        ids = [u for u in map(_update_id, batch) if u is not None]
        if stuck:
            first = min(stuck)
            return (first if first >= 0 else None), False
        return (max(ids) + 1 if ids else None), True

    async def _handle_item(
        self, item: Update | dict[str, Any], attempts: dict[int, int]
    ) -> int | None:
        """Handle one polled update (validated or raw); the next offset, or None to retry."""
        if isinstance(item, Update):
            return item.update_id + 1 if await self._handle_polled(item, attempts) else None
        update_id = item.get("update_id")
        if not isinstance(update_id, int):
            return None
        try:
            update = Update.model_validate(item, context={"bot": self.bot})
        except ValidationError as error:
            await self._unreadable(item, error)
            return update_id + 1
        return update_id + 1 if await self._handle_polled(update, attempts) else None

    async def _handle_polled(self, update: Update, attempts: dict[int, int]) -> bool:
        """Handle one polled update; False when it should be fetched and tried again."""
        try:
            await self.feed_update(update)
        except MediaFailedError as error:
            tried = attempts.get(update.update_id, 0) + 1
            attempts[update.update_id] = tried
            if tried < MAX_UPDATE_ATTEMPTS:
                logger.warning("telegram update %s will be retried: %s", update.update_id, error)
                return False
            logger.error("telegram update %s dropped after %d tries", update.update_id, tried)
        except Exception:
            tried = attempts.get(update.update_id, 0) + 1
            attempts[update.update_id] = tried
            if tried < MAX_UPDATE_ATTEMPTS:
                logger.exception("telegram update %s failed; will retry", update.update_id)
                return False
            logger.exception("telegram update %s dropped after %d tries", update.update_id, tried)
        attempts.pop(update.update_id, None)
        return True


def _update_id(item: Update | dict[str, Any]) -> int | None:
    if isinstance(item, Update):
        return item.update_id
    update_id = item.get("update_id")
    return update_id if isinstance(update_id, int) else None


def _sender_key(item: Update | dict[str, Any]) -> str:
    """Whose update this is: updates of one sender are handled in order."""
    if isinstance(item, Update):
        event = item.message or item.callback_query
        user = event.from_user if event is not None else None
        if user is not None:
            return f"user:{user.id}"
        return f"update:{item.update_id}"
    for field in ("message", "callback_query"):
        event = item.get(field)
        sender = event.get("from") if isinstance(event, dict) else None
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return f"user:{sender['id']}"
    return f"update:{item.get('update_id')}"


def _raw_updates(error: ClientDecodeError) -> list[dict[str, Any]] | None:
    """The updates of a getUpdates answer that failed validation as a whole, if readable."""
    data = error.data
    if not isinstance(data, dict) or data.get("ok") is not True:
        return None
    result = data.get("result")
    if not isinstance(result, list) or not all(isinstance(item, dict) for item in result):
        return None
    return result
