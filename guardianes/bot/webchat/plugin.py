"""The web chat plugin: always on; its routes serve the page and its API, sending confirms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Self

from fastapi import APIRouter, FastAPI

from guardianes.bot.webchat.channel import WebChatChannel
from guardianes.bot.webchat.routes import router as chat_router
from guardianes.config import Settings
from guardianes.services.delivery import Channel, ChannelName, DeliveryPolicy, FreeForm, PacerSpec
from guardianes.services.runtime import Runtime


class WebChatPlugin:
    """The chat page of this service: no platform, so no caps and nothing to stop."""

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

    async def start(self, runtime: Runtime, app: FastAPI | None) -> Channel:
        """The channel that wakes the page's long-polls."""
        return WebChatChannel()

    async def stop(self) -> None:
        """Nothing to stop."""
