"""Hostile WhatsApp payloads on SQLite and PostgreSQL: refused one by one, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from guardianes.storage.models import InboundEvent
from tests.fakes.graph_server import CLASSIC, WebhookFactory

WEBHOOK = "/webhooks/whatsapp"


async def _stored(session_factory) -> dict[str, InboundEvent]:
    async with session_factory() as session:
        rows = (await session.execute(select(InboundEvent))).scalars().all()
    return {row.external_id: row for row in rows}


@pytest.mark.parametrize(
    "timestamp", ["9" * 30, "١٧٠٠٠٠٠٠٠٠", 1e300, -5, "1.5e9", 17000000000000000000000]
)
async def test_implausible_timestamps_mean_now(
    pipeline_http: httpx.AsyncClient, webhooks: WebhookFactory, session_factory, timestamp
) -> None:
    entry = webhooks.message(CLASSIC, "text", {"body": "hola"}, message_id="wamid.time")
    entry["timestamp"] = timestamp

    response = await pipeline_http.post(
        WEBHOOK, content=(post := webhooks.messages(CLASSIC, entry)).body, headers=post.headers
    )

    assert response.status_code == 200
    received = datetime.fromisoformat(
        (await _stored(session_factory))["wamid.time"].payload["received_at"]
    )
    assert abs(received - datetime.now(UTC)) < timedelta(minutes=5)


async def test_a_numeric_timestamp_is_read(
    pipeline_http: httpx.AsyncClient, webhooks: WebhookFactory, session_factory
) -> None:
    entry = webhooks.message(CLASSIC, "text", {"body": "hola"}, message_id="wamid.number")
    entry["timestamp"] = 1697043223

    post = webhooks.messages(CLASSIC, entry)
    response = await pipeline_http.post(WEBHOOK, content=post.body, headers=post.headers)

    assert response.status_code == 200
    payload = (await _stored(session_factory))["wamid.number"].payload
    assert payload["received_at"].startswith("2023-10-11")


async def test_an_over_long_message_id_is_refused_alone(
    pipeline_http: httpx.AsyncClient, webhooks: WebhookFactory, session_factory
) -> None:
    long_id = "wamid." + "A" * 5000
    first = webhooks.message(CLASSIC, "text", {"body": "uno"}, message_id=long_id)
    second = webhooks.message(CLASSIC, "text", {"body": "dos"}, message_id="wamid.fine")

    post = webhooks.messages(CLASSIC, first, second)
    response = await pipeline_http.post(WEBHOOK, content=post.body, headers=post.headers)

    assert response.status_code == 200
    assert set(await _stored(session_factory)) == {"wamid.fine"}


async def test_an_over_long_sender_is_refused_alone(
    pipeline_http: httpx.AsyncClient, webhooks: WebhookFactory, session_factory
) -> None:
    first = webhooks.message(CLASSIC, "text", {"body": "uno"}, message_id="wamid.long-from")
    first["from"] = "5" * 500
    second = webhooks.message(CLASSIC, "text", {"body": "dos"}, message_id="wamid.ok")

    post = webhooks.messages(CLASSIC, first, second)
    response = await pipeline_http.post(WEBHOOK, content=post.body, headers=post.headers)

    assert response.status_code == 200
    assert set(await _stored(session_factory)) == {"wamid.ok"}
