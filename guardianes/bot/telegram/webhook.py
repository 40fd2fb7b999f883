"""`POST /webhooks/telegram`: updates Telegram pushes when the bot runs in webhook mode.

The `X-Telegram-Bot-Api-Secret-Token` header must equal the secret given to setWebhook
(compared in constant time); otherwise the answer is 401 and nothing is read. A verified
update is stored as an inbound event before the 200, and processed in the background. When
a photo could not be downloaded for a passing reason the answer is 503: Telegram delivers
the update again later.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

from fastapi import APIRouter, Request, Response

from guardianes.bot.telegram.names import STATE_ATTRIBUTE, MediaFailedError

logger = logging.getLogger(__name__)

PATH = "/webhooks/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookTarget(Protocol):
    """What the route needs of the transport on `app.state.telegram_transport`."""

    webhook_secret: str | None

    def secret_matches(self, header: str | None) -> bool:
        """True when the header carries the webhook's secret."""
        ...

    async def feed_webhook(self, data: dict[str, Any]) -> None:
        """Store one update."""
        ...


router = APIRouter(tags=["webhooks"])


@router.post(PATH)
async def receive_update(request: Request) -> Response:
    """One update from Telegram."""
    target: WebhookTarget | None = getattr(request.app.state, STATE_ATTRIBUTE, None)
    if target is None or target.webhook_secret is None:
        return Response(status_code=404)  # Telegram off, or polling: no webhook here
    if not target.secret_matches(request.headers.get(SECRET_HEADER)):
        return Response(status_code=401)
    try:
        data = json.loads(await request.body())
    except RecursionError:
        return Response(status_code=400)  # JSON nested thousands deep
    except ValueError:
        return Response(status_code=400)
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        return Response(status_code=400)
    try:
        await target.feed_webhook(data)
    except MediaFailedError as error:
        logger.warning("Telegram photo not available yet, asking for redelivery: %s", error)
        return Response(status_code=503)
    return Response(status_code=200)
