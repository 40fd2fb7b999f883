"""The WhatsApp plugin: the Cloud API webhook in, the Cloud API out, its 24-hour window.

`WhatsAppPlugin.start(runtime, app)` registers the webhook's handler on `app.state` (the
route is mounted by the app) and hands the outbox the `WhatsAppChannel`; `stop` closes the
HTTP client. Free-form messages reach a person only within 24 hours of their last message;
outside that window the bot may only send an approved template (`WindowPolicy`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import ClassVar, Self

from fastapi import APIRouter, FastAPI

from guardianes.bot.whatsapp.channel import WhatsAppChannel
from guardianes.bot.whatsapp.client import WhatsAppClient
from guardianes.bot.whatsapp.inbound import WhatsAppInbound, media_fetcher
from guardianes.bot.whatsapp.parse import CHANNEL
from guardianes.bot.whatsapp.webhook import STATE_ATTRIBUTE, WhatsAppWebhook
from guardianes.bot.whatsapp.webhook import router as webhook_router
from guardianes.config import Settings
from guardianes.services.delivery import Channel, DeliveryPolicy, PacerSpec
from guardianes.services.inbound import accept_inbound
from guardianes.services.intake import (
    media_decision,
    note_event,
    whatsapp_number_changed,
    whatsapp_user_id_changed,
)
from guardianes.services.runtime import Runtime

logger = logging.getLogger(__name__)

WINDOW = timedelta(hours=24)


class WindowPolicy:
    """WhatsApp takes free-form messages only within 24 h of the person's last message."""

    def needs_template(self, last_inbound_at: datetime | None, now: datetime) -> bool:
        """True when the person never wrote, or last wrote 24 hours ago or more."""
        return last_inbound_at is None or now - last_inbound_at >= WINDOW


def build_client(settings: Settings) -> WhatsAppClient:
    """The Cloud API client for the configured number."""
    if settings.whatsapp_token is None or settings.whatsapp_phone_number_id is None:
        raise ValueError("WHATSAPP_TOKEN and WHATSAPP_PHONE_NUMBER_ID are required")
    return WhatsAppClient(
        api_base=settings.whatsapp_api_base,
        token=settings.whatsapp_token.get_secret_value(),
        phone_number_id=settings.whatsapp_phone_number_id,
    )


def build_webhook(runtime: Runtime, client: WhatsAppClient) -> WhatsAppWebhook:
    """The webhook handler for `app.state`, storing into this runtime's inbound path."""
    settings = runtime.settings
    verify_token = settings.whatsapp_verify_token
    app_secret = settings.whatsapp_app_secret
    return WhatsAppWebhook(
        verify_token=verify_token.get_secret_value() if verify_token else None,
        app_secret=app_secret.get_secret_value() if app_secret else None,
        phone_number_id=settings.whatsapp_phone_number_id,
        sink=WhatsAppInbound(
            sessions=runtime.sessions,
            fetch_media=media_fetcher(client, settings),
            store=partial(accept_inbound, runtime),
            gate=partial(media_decision, runtime, CHANNEL),
            note=partial(note_event, runtime, CHANNEL),
            number_changed=partial(whatsapp_number_changed, runtime),
            user_id_changed=partial(whatsapp_user_id_changed, runtime),
        ),
    )


class WhatsAppPlugin:
    """WhatsApp through the Cloud API, when a token and a phone number id are configured."""

    name: ClassVar[str] = CHANNEL
    routers: ClassVar[Sequence[APIRouter]] = (webhook_router,)
    policy: ClassVar[DeliveryPolicy] = WindowPolicy()

    def __init__(self, settings: Settings, client: WhatsAppClient | None = None) -> None:
        self.settings = settings
        self.client = client or build_client(settings)

    @classmethod
    def from_settings(cls, settings: Settings) -> Self | None:
        """The plugin, or None without WHATSAPP_TOKEN and WHATSAPP_PHONE_NUMBER_ID."""
        if not settings.whatsapp_enabled:
            logger.info(
                "WhatsApp is off: set WHATSAPP_TOKEN and WHATSAPP_PHONE_NUMBER_ID to run it"
            )
            return None
        return cls(settings)

    @classmethod
    def pacing(cls, settings: Settings) -> PacerSpec:
        """80 messages a second per number by default; one budget per number."""
        number = settings.whatsapp_phone_number_id or "none"
        return PacerSpec(f"{CHANNEL}:{number}", settings.whatsapp_rate_per_second)

    async def start(self, runtime: Runtime, app: FastAPI | None) -> Channel:
        """Put the webhook handler on `app.state`; the outbound channel."""
        if app is not None:
            setattr(app.state, STATE_ATTRIBUTE, build_webhook(runtime, self.client))
        return WhatsAppChannel(self.client, self.settings)

    async def stop(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()
