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
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.types import BotCommand, Update
from fastapi import FastAPI

from guardianes.bot.telegram.channel import TelegramChannel
from guardianes.bot.telegram.inbound import (
    DEFAULT_ALBUM_WINDOW,
    InboundStore,
    KeyboardCloser,
    TelegramInbound,
)
from guardianes.bot.telegram.media import photo_fetcher
from guardianes.bot.telegram.parse import MediaFailedError
from guardianes.config import Settings
from guardianes.locales import DEFAULT_LOCALE, SUPPORTED_LOCALES, translator
from guardianes.services.runtime import Runtime

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]
COMMANDS = ("start", "menu", "help", "cancel", "back", "skip")  # /staff stays unlisted
STATE_ATTRIBUTE = "telegram_transport"
CHANNEL_NAME = "telegram"
POLL_TIMEOUT_SECONDS = 25
MAX_UPDATE_ATTEMPTS = 5  # then a poisoned update is dropped rather than wedging the bot
MIN_RETRY_DELAY = 1.0
MAX_RETRY_DELAY = 30.0


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
    ) -> None:
        self.bot = bot or build_bot(settings)
        self.channel = TelegramChannel(self.bot)
        self.inbound = TelegramInbound(
            self.bot,
            store,
            photo_fetcher(self.bot, settings.media_dir, settings.max_photo_bytes),
            keyboards=keyboards,
            album_window=album_window,
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
        await self.dispatcher.feed_update(self.bot, update)

    async def feed_webhook(self, data: dict[str, Any]) -> None:
        """Handle one update posted to the webhook."""
        update = Update.model_validate(data, context={"bot": self.bot})
        await self.feed_update(update)

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
                updates = await self.bot.get_updates(
                    offset=offset,
                    timeout=self.poll_timeout,
                    allowed_updates=ALLOWED_UPDATES,
                    request_timeout=self.poll_timeout + 10,
                )
            except TelegramRetryAfter as error:
                await self._pause(float(error.retry_after))
                continue
            except Exception as error:
                logger.warning("telegram getUpdates failed: %s", error)
                await self._pause(delay)
                delay = min(MAX_RETRY_DELAY, delay * 2)
                continue
            delay = self.retry_delay
            for update in updates:
                if not await self._handle_polled(update, attempts):
                    break  # retry from this update after a pause: it is not confirmed
                offset = update.update_id + 1
            else:
                continue
            await self._pause(delay)

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


def keyboard_closer(runtime: Runtime) -> KeyboardCloser:
    """Closing a pressed keyboard as an outbox row: paced, and never twice for one message."""
    from guardianes.services.outbox import queue_keyboard_close
    from guardianes.storage.db import unit_of_work

    async def close(chat_id: str, message_id: str) -> None:
        async with unit_of_work(runtime.sessions) as session:
            queued = await queue_keyboard_close(
                session, channel=CHANNEL_NAME, address=chat_id, message_id=message_id
            )
        if queued is not None:
            runtime.outbox_wakeup.set()

    return close


async def start_telegram(
    runtime: Runtime, app: FastAPI | None
) -> Callable[[], Awaitable[None]] | None:
    """The lifespan's channel starter: register the channel, start the transport."""
    # Imported here so the adapter (and its tests) load without the conversation engine.
    from guardianes.services.inbound import accept_inbound

    settings = runtime.settings
    if not settings.telegram_enabled:
        return None
    transport = TelegramTransport(
        settings, partial(accept_inbound, runtime), keyboards=keyboard_closer(runtime)
    )
    runtime.channels[transport.channel.name] = transport.channel
    if app is not None:
        setattr(app.state, STATE_ATTRIBUTE, transport)
    await transport.start()
    return transport.stop
