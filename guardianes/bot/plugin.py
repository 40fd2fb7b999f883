"""The `ChannelPlugin` protocol: everything one messaging channel brings to the service.

A plugin builds itself from settings (None when the channel is not configured), gives the
inbound routes the app mounts (they answer 404 while the channel is off) or starts its
poller, hands the outbox its `Channel` (render and send), says how fast it may send
(`pacing`) and what it allows for messages the bot starts (`policy`), and stops. The list
of plugins is `guardianes.bot.registry`; adding a channel is its folder plus one line there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Protocol, Self

from fastapi import APIRouter, FastAPI

from guardianes.config import Settings
from guardianes.services.delivery import Channel, DeliveryPolicy, PacerSpec
from guardianes.services.runtime import Runtime


class ChannelPlugin(Protocol):
    """One messaging channel: inbound, outbound, pacing, policy and lifetime."""

    name: ClassVar[str]
    # Inbound HTTP routes (webhooks, the web chat's API); mounted whether or not it runs.
    routers: ClassVar[Sequence[APIRouter]]
    # What the channel allows for messages the bot starts (templates outside a window...).
    policy: ClassVar[DeliveryPolicy]

    @classmethod
    def from_settings(cls, settings: Settings) -> Self | None:
        """The plugin for these settings; None when the channel is not configured."""
        ...

    @classmethod
    def pacing(cls, settings: Settings) -> PacerSpec | None:
        """The platform's send caps under these settings; None when it has none."""
        ...

    async def start(self, runtime: Runtime, app: FastAPI | None) -> Channel:
        """Start receiving (webhook target on `app.state`, or a poller); the outbound side."""
        ...

    async def stop(self) -> None:
        """Stop receiving and close connections."""
        ...
