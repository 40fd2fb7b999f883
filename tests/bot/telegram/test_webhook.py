"""`POST /webhooks/telegram`: the secret-token check, then storage before the answer."""

from __future__ import annotations

import httpx

from guardianes.conversations.messages import InboundKind
from tests.fakes.telegram_server import ALICE, FakeTelegramServer, Fault

from .conftest import JPEG_BYTES, WEBHOOK_SECRET, RecordingStore

PATH = "/webhooks/telegram"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def test_an_update_with_the_right_secret_is_stored(
    webhook_http: httpx.AsyncClient, fake: FakeTelegramServer, store: RecordingStore
):
    response = await webhook_http.post(
        PATH, json=fake.updates.text(ALICE, "hola"), headers={HEADER: WEBHOOK_SECRET}
    )
    assert response.status_code == 200
    assert [m.kind for m in store.messages] == [InboundKind.TEXT]


async def test_a_wrong_secret_is_refused_and_nothing_stored(webhook_http, fake, store):
    response = await webhook_http.post(
        PATH, json=fake.updates.text(ALICE, "hola"), headers={HEADER: WEBHOOK_SECRET + "x"}
    )
    assert response.status_code == 401
    assert store.messages == []


async def test_a_missing_secret_is_refused_and_nothing_stored(webhook_http, fake, store):
    response = await webhook_http.post(PATH, json=fake.updates.text(ALICE, "hola"))
    assert response.status_code == 401
    assert store.messages == []


async def test_a_body_that_is_not_an_update_is_a_bad_request(webhook_http, store):
    response = await webhook_http.post(PATH, content=b"not json", headers={HEADER: WEBHOOK_SECRET})
    assert response.status_code == 400
    response = await webhook_http.post(PATH, json={"nope": 1}, headers={HEADER: WEBHOOK_SECRET})
    assert response.status_code == 400
    assert store.messages == []


async def test_a_photo_that_cannot_be_downloaded_yet_asks_for_redelivery(
    webhook_http, fake: FakeTelegramServer, store
):
    fake.fail_next("getFile", 1, Fault.server_error())
    update = fake.updates.photo(ALICE, JPEG_BYTES)
    first = await webhook_http.post(PATH, json=update, headers={HEADER: WEBHOOK_SECRET})
    again = await webhook_http.post(PATH, json=update, headers={HEADER: WEBHOOK_SECRET})
    assert (first.status_code, again.status_code) == (503, 200)
    assert [m.kind for m in store.messages] == [InboundKind.PHOTO]


async def test_without_a_webhook_transport_the_route_is_not_found(transport, store):
    from fastapi import FastAPI

    from guardianes.bot.telegram.names import STATE_ATTRIBUTE
    from guardianes.bot.telegram.webhook import router

    app = FastAPI()
    app.include_router(router)
    setattr(app.state, STATE_ATTRIBUTE, transport)  # polling mode: no secret, no webhook
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    async with client:
        response = await client.post(PATH, json={}, headers={HEADER: ""})
    assert response.status_code == 404
