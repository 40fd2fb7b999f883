"""The Telegram plugin: long polling or the webhook in, the Bot API out (through aiogram)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, ClassVar, Self

from fastapi import APIRouter, FastAPI

from guardianes.bot.telegram.names import CHANNEL, STATE_ATTRIBUTE
from guardianes.bot.telegram.webhook import router as webhook_router
from guardianes.config import Settings
from guardianes.services.delivery import Channel, DeliveryPolicy, FreeForm, PacerSpec
from guardianes.services.inbound import accept_inbound
from guardianes.services.intake import close_keyboard, media_decision, note_event
from guardianes.services.runtime import Runtime

if TYPE_CHECKING:
    from guardianes.bot.telegram.runner import TelegramTransport

logger = logging.getLogger(__name__)


class TelegramPlugin:
    """Telegram through the Bot API (or a local server), when a bot token is configured."""

    name: ClassVar[str] = CHANNEL
    routers: ClassVar[Sequence[APIRouter]] = (webhook_router,)
    policy: ClassVar[DeliveryPolicy] = FreeForm()

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.transport: TelegramTransport | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Self | None:
        """The plugin, or None without TELEGRAM_BOT_TOKEN."""
        if not settings.telegram_enabled:
            logger.info("Telegram is off: set TELEGRAM_BOT_TOKEN to run it")
            return None
        return cls(settings)

    @classmethod
    def pacing(cls, settings: Settings) -> PacerSpec:
        """About 30 messages a second per bot and one a second per chat; one budget per bot."""
        token = settings.telegram_bot_token
        bot_id = token.get_secret_value().split(":", 1)[0] if token else "none"
        return PacerSpec(
            f"{CHANNEL}:{bot_id}",
            settings.telegram_rate_per_second,
            per_chat_rate=settings.telegram_rate_per_chat_per_second,
        )

    async def start(self, runtime: Runtime, app: FastAPI | None) -> Channel:
        """Start polling or register the webhook (its target on `app.state`)."""
        # aiogram (~130 MiB of pydantic types) loads only when Telegram is on.
        from guardianes.bot.telegram.runner import TelegramTransport

        transport = TelegramTransport(
            self.settings,
            partial(accept_inbound, runtime),
            keyboards=partial(close_keyboard, runtime, CHANNEL),
            gate=partial(media_decision, runtime, CHANNEL),
            note=partial(note_event, runtime, CHANNEL),
        )
        self.transport = transport
        if app is not None:
            setattr(app.state, STATE_ATTRIBUTE, transport)
        await transport.start()
        return transport.channel

    async def stop(self) -> None:
        """Stop polling, emit pending albums, close the HTTP session."""
        if self.transport is not None:
            await self.transport.stop()
            self.transport = None
