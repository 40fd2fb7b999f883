"""The Cloud API webhook: subscription check (GET) and signed deliveries (POST).

A POST is checked against `X-Hub-Signature-256` (HMAC-SHA256 of the raw body with the app
secret) before anything is read. Each message is then stored as an inbound event and the
answer is 200; the conversation is processed in the background. A message that could not be
stored yet (a photo download failed for a passing reason) is answered 503 so Meta delivers it
again; messages of the same post already stored are then recognised as duplicates.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import Protocol

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from guardianes.bot.whatsapp.parse import (
    MalformedWebhookError,
    MediaFailedError,
    WebhookBatch,
    read_webhook,
)

logger = logging.getLogger(__name__)

PATH = "/webhooks/whatsapp"
SIGNATURE_HEADER = "X-Hub-Signature-256"
SIGNATURE_PREFIX = "sha256="
STATE_ATTRIBUTE = "whatsapp_webhook"


class WebhookSink(Protocol):
    """Where verified webhook contents go: the inbound pipeline and the outbox."""

    async def accept(self, batch: WebhookBatch) -> None:
        """Store every message and apply every status; raise `MediaFailedError` to be retried."""
        ...


def signature_matches(app_secret: str, body: bytes, header: str | None) -> bool:
    """True when `header` is the `sha256=` HMAC of the raw body under the app secret."""
    if not header or not header.startswith(SIGNATURE_PREFIX):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len(SIGNATURE_PREFIX) :].strip().lower())


@dataclass
class WhatsAppWebhook:
    """The webhook's secrets and where its verified contents go (built in the lifespan)."""

    verify_token: str | None
    app_secret: str | None
    phone_number_id: str | None
    sink: WebhookSink

    def challenge_answer(
        self, mode: str | None, token: str | None, challenge: str | None
    ) -> str | None:
        """The challenge to echo when Meta's subscription check is genuine, else None."""
        if mode != "subscribe" or not self.verify_token or token is None:
            return None
        if not hmac.compare_digest(token.encode(), self.verify_token.encode()):
            return None
        return challenge or ""

    async def receive(self, body: bytes, signature: str | None) -> int:
        """Handle one POST; returns the HTTP status to answer."""
        if not self.app_secret:
            logger.error("WhatsApp webhook refused: WHATSAPP_APP_SECRET is not configured")
            return 401
        if not signature_matches(self.app_secret, body, signature):
            return 401
        try:
            batch = read_webhook(body, self.phone_number_id)
        except MalformedWebhookError as error:
            logger.warning("malformed WhatsApp webhook: %s", error)
            return 400
        try:
            await self.sink.accept(batch)
        except MediaFailedError as error:
            logger.warning("WhatsApp media not available yet, asking Meta to redeliver: %s", error)
            return 503
        return 200


router = APIRouter(tags=["webhooks"])


def _webhook(request: Request) -> WhatsAppWebhook | None:
    webhook: WhatsAppWebhook | None = getattr(request.app.state, STATE_ATTRIBUTE, None)
    return webhook


@router.get(PATH, response_class=PlainTextResponse)
async def verify_subscription(request: Request) -> Response:
    """Meta's subscription check: echo `hub.challenge` when `hub.verify_token` matches."""
    webhook = _webhook(request)
    if webhook is None:
        return Response(status_code=404)
    params = request.query_params
    answer = webhook.challenge_answer(
        params.get("hub.mode"), params.get("hub.verify_token"), params.get("hub.challenge")
    )
    if answer is None:
        return PlainTextResponse("forbidden", status_code=403)
    return PlainTextResponse(answer)


@router.post(PATH)
async def receive_update(request: Request) -> Response:
    """A signed delivery of messages and statuses."""
    webhook = _webhook(request)
    if webhook is None:
        return Response(status_code=404)
    body = await request.body()  # the raw bytes: the signature covers them exactly
    status = await webhook.receive(body, request.headers.get(SIGNATURE_HEADER))
    return Response(status_code=status)
