"""The web chat API: posts reach the bot once, replies come back, bad photos are refused."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
from sqlalchemy import func, select

from guardianes.services.runtime import Runtime
from guardianes.storage.models import InboundEvent
from tests.web.conftest import PostChat, chat_browser

REPLY_WAIT = 10  # seconds a long-poll may wait for the bot's first reply


async def _messages(
    client: httpx.AsyncClient, after: int = 0, wait: float = REPLY_WAIT
) -> dict[str, Any]:
    response = await client.get("/chat/api/messages", params={"after": after, "wait": wait})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def _inbound_count(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count(InboundEvent.id))) or 0)


async def test_posting_a_message_brings_a_reply(post_chat: PostChat, client) -> None:
    response = await post_chat("command", command="start")
    assert response.status_code == 200
    assert response.json() == {"accepted": True, "duplicate": False}
    body = await _messages(client)
    assert body["messages"], "the bot answered nothing"
    assert body["messages"][0]["prompt"]["text"]
    assert body["last_id"] == body["messages"][-1]["id"]


async def test_text_reply_appears_after_the_last_seen_id(post_chat: PostChat, client) -> None:
    await post_chat("command", command="start")
    first = await _messages(client)
    await post_chat("text", text="hola")
    later = await _messages(client, after=first["last_id"])
    assert later["messages"]
    assert all(m["id"] > first["last_id"] for m in later["messages"])


async def test_a_retried_post_is_processed_once(
    post_chat: PostChat, client, chat_runtime: Runtime
) -> None:
    external_id = str(uuid.uuid4())
    first = await post_chat("text", text="hola", external_id=external_id)
    second = await post_chat("text", text="hola", external_id=external_id)
    assert first.json()["duplicate"] is False
    assert second.json()["duplicate"] is True
    assert await _inbound_count(chat_runtime) == 1


async def test_two_browsers_may_use_the_same_post_id(
    post_chat: PostChat, chat_app, chat_runtime: Runtime
) -> None:
    external_id = str(uuid.uuid4())
    await post_chat("text", text="hola", external_id=external_id)
    async with chat_browser(chat_app) as other:
        response = await other.post(
            "/chat/api/messages", data={"kind": "text", "text": "hola", "external_id": external_id}
        )
    assert response.json()["duplicate"] is False
    assert await _inbound_count(chat_runtime) == 2


async def test_a_non_image_upload_is_refused_with_its_reason(post_chat: PostChat) -> None:
    response = await post_chat("photo", photos=[("notes.txt", b"just some text", "image/png")])
    assert response.status_code == 415
    detail = response.json()["detail"]
    assert detail["reason"] == "web.media.not_an_image"
    assert "foto" in detail["message"]


async def test_a_too_large_upload_is_refused(
    post_chat: PostChat, chat_runtime: Runtime, png_bytes: bytes
) -> None:
    limit = chat_runtime.settings.max_photo_bytes
    huge = png_bytes + b"\x00" * limit
    response = await post_chat("photo", photos=[("big.png", huge, "image/png")])
    assert response.status_code == 413
    assert response.json()["detail"]["reason"] == "web.media.too_large"


async def test_a_refused_upload_reaches_no_bot(
    post_chat: PostChat, chat_runtime: Runtime, png_bytes: bytes
) -> None:
    photos = [("ok.png", png_bytes, "image/png"), ("bad.png", b"GIF", "image/png")]
    await post_chat("photo", photos=photos)
    assert await _inbound_count(chat_runtime) == 0


async def test_photos_of_someone_who_has_not_consented_are_not_stored(
    post_chat: PostChat, chat_runtime: Runtime, png_bytes: bytes
) -> None:
    response = await post_chat("photo", photos=[("a.png", png_bytes, "image/png")])
    assert response.status_code == 200
    assert list(chat_runtime.settings.media_dir.rglob("*.png")) == []


async def test_refusal_messages_follow_the_page_language(post_chat: PostChat) -> None:
    response = await post_chat("photo", lang="en", photos=[("a.txt", b"text", "text/plain")])
    assert response.json()["detail"]["message"].startswith("That file is not a photo")


async def test_a_location_outside_the_globe_is_refused(post_chat: PostChat) -> None:
    response = await post_chat("location", latitude=128.6, longitude=-106.0)
    assert response.status_code == 422
    assert response.json()["detail"]["reason"] == "web.error.bad_location"


async def test_a_post_id_that_is_not_a_uuid_is_refused(post_chat: PostChat) -> None:
    response = await post_chat("text", text="hola", external_id="1")
    assert response.status_code == 400


async def test_an_empty_long_poll_ends_at_its_deadline(client) -> None:
    started = time.monotonic()
    body = await _messages(client, wait=0.3)
    assert body == {"messages": [], "last_id": 0, "mine": [], "mine_last_id": 0}
    assert time.monotonic() - started < 5


async def test_a_waiting_long_poll_returns_as_soon_as_the_bot_answers(
    post_chat: PostChat, client
) -> None:
    await client.get("/chat")  # the page sets the chat cookie before it starts polling
    started = time.monotonic()
    waiting = asyncio.create_task(_messages(client, wait=20))
    await post_chat("command", command="start")
    body = await asyncio.wait_for(waiting, 15)
    assert body["messages"]
    assert time.monotonic() - started < 10


async def test_each_browser_reads_only_its_own_chat(post_chat: PostChat, chat_app) -> None:
    await post_chat("command", command="start")
    async with chat_browser(chat_app) as other:
        body = await _messages(other, wait=0.2)
    assert body["messages"] == []
