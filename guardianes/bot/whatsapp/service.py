"""Starting WhatsApp in the running service.

`start_whatsapp(runtime, app)` is the channel starter the lifespan calls: it registers the
`WhatsAppChannel` for the outbox and the webhook's handler on `app.state`, and returns the
function that closes the HTTP client on shutdown.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from fastapi import FastAPI

from guardianes.bot.whatsapp.channel import WhatsAppChannel
from guardianes.bot.whatsapp.client import WhatsAppClient
from guardianes.bot.whatsapp.inbound import WhatsAppInbound, media_fetcher
from guardianes.bot.whatsapp.parse import CHANNEL
from guardianes.bot.whatsapp.webhook import STATE_ATTRIBUTE, WhatsAppWebhook
from guardianes.config import Settings
from guardianes.services.inbound import accept_inbound
from guardianes.services.intake import (
    media_decision,
    note_event,
    whatsapp_number_changed,
    whatsapp_user_id_changed,
)
from guardianes.services.runtime import Runtime


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


async def start_whatsapp(
    runtime: Runtime, app: FastAPI | None
) -> Callable[[], Awaitable[None]] | None:
    """Register the WhatsApp channel and webhook when configured; returns the stopper."""
    settings = runtime.settings
    if not settings.whatsapp_enabled:
        return None
    client = build_client(settings)
    channel = WhatsAppChannel(client, settings)
    runtime.channels[channel.name] = channel
    if app is not None:
        setattr(app.state, STATE_ATTRIBUTE, build_webhook(runtime, client))
    return client.aclose
