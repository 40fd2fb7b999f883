"""The web chat plugin: always on; its routes serve the page and its API, sending confirms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Self

from fastapi import APIRouter, FastAPI

from guardianes.bot.webchat.channel import NOTIFY_TOPIC, WebChatChannel
from guardianes.bot.webchat.routes import router as chat_router
from guardianes.config import Settings
from guardianes.services.delivery import Channel, ChannelName, DeliveryPolicy, FreeForm, PacerSpec
from guardianes.services.notify import Notifier, asyncpg_dsn, start_notifier
from guardianes.services.runtime import Runtime


class WebChatPlugin:
    """The chat page of this service: no platform, so no caps.

    On PostgreSQL (several workers) its sends are published with NOTIFY, so a long-poll
    held by any worker wakes; stopping the plugin closes that listener.
    """

    name: ClassVar[str] = ChannelName.WEBCHAT.value
    routers: ClassVar[Sequence[APIRouter]] = (chat_router,)
    policy: ClassVar[DeliveryPolicy] = FreeForm()

    @classmethod
    def from_settings(cls, settings: Settings) -> Self | None:
        """Always on: the page needs nothing configured."""
        return cls()

    @classmethod
    def pacing(cls, settings: Settings) -> PacerSpec | None:
        """None: the page reads what was sent, at its own pace."""
        return None

    def __init__(self) -> None:
        self._notifier: Notifier | None = None

    async def start(self, runtime: Runtime, app: FastAPI | None) -> Channel:
        """The channel that wakes the page's long-polls, in every worker on PostgreSQL."""
        if asyncpg_dsn(runtime.settings.database_url) is not None:
            self._notifier = await start_notifier(runtime.settings.database_url, NOTIFY_TOPIC)
        return WebChatChannel(self._notifier)

    async def stop(self) -> None:
        """Stop listening for other workers' sends."""
        if self._notifier is not None:
            await self._notifier.close()
            self._notifier = None
