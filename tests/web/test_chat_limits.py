"""The web chat stores photos only when asked, and limits floods per browser and address."""

from __future__ import annotations

import uuid

import httpx
import pytest

from guardianes.bot.webchat.routes import COOKIE_NAME
from guardianes.bot.webchat.service import PostKind
from guardianes.config import Settings
from guardianes.services.runtime import Runtime
from tests.chat_driver import ChatDriver
from tests.services.conftest import register, to_park_photos
from tests.web.conftest import PostChat, chat_browser, make_png


async def _cookie(client: httpx.AsyncClient) -> str:
    await client.get("/chat/api/messages")
    return str(client.cookies[COOKIE_NAME])


async def _at_the_photo_question(runtime: Runtime, user_id: str) -> None:
    chat = ChatDriver(runtime, user_id=user_id, channel="webchat")
    await to_park_photos(chat)


async def test_photos_the_question_asks_for_are_stored(
    client: httpx.AsyncClient, post_chat: PostChat, chat_runtime: Runtime, png_bytes: bytes
) -> None:
    await _at_the_photo_question(chat_runtime, await _cookie(client))
    other = make_png(rgb=(200, 40, 40))

    response = await post_chat(
        "photo", photos=[("a.png", png_bytes, "image/png"), ("b.png", other, "image/png")]
    )

    assert response.status_code == 200
    assert len(list(chat_runtime.settings.media_dir.rglob("*.png"))) == 2


async def test_a_photo_at_a_question_that_asks_for_none_is_not_stored_and_explained(
    client: httpx.AsyncClient, post_chat: PostChat, chat_runtime: Runtime, png_bytes: bytes
) -> None:
    chat = ChatDriver(chat_runtime, user_id=await _cookie(client), channel="webchat")
    await register(chat)

    response = await post_chat("photo", photos=[("a.png", png_bytes, "image/png")])

    assert response.status_code == 200
    assert list(chat_runtime.settings.media_dir.rglob("*.png")) == []
    replies = await chat.new_replies()
    assert any("no necesito fotos" in reply.text for reply in replies)


async def test_a_flood_from_one_browser_is_slowed_politely_in_its_language(
    post_chat: PostChat,
) -> None:
    statuses = [
        (await post_chat(PostKind.TEXT.value, text=f"hola {n}", lang="en")).status_code
        for n in range(40)
    ]

    assert 200 in statuses and 429 in statuses
    refused = await post_chat("text", text="otra vez", lang="en")
    assert refused.status_code == 429
    assert refused.json()["detail"]["message"].startswith("One moment, please")


async def test_another_browser_is_not_slowed_by_a_flood(chat_app, post_chat: PostChat) -> None:
    for n in range(40):
        await post_chat("text", text=f"hola {n}")

    async with chat_browser(chat_app) as other:
        response = await other.post(
            "/chat/api/messages",
            data={"kind": "text", "text": "hola", "external_id": str(uuid.uuid4())},
        )

    assert response.status_code == 200


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Few new sessions per address, so the limit shows in a test."""
    return settings.model_copy(update={"rate_limit_chat_sessions": "3/hour"})


async def test_new_chat_sessions_are_limited_per_address(chat_app) -> None:
    statuses = []
    for _ in range(5):
        async with chat_browser(chat_app) as fresh:
            statuses.append((await fresh.get("/chat/api/messages")).status_code)

    assert statuses == [200, 200, 200, 429, 429]


async def test_a_message_id_beyond_64_bits_is_a_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/chat/api/messages", params={"after": 9223372036854775808})

    assert response.status_code == 422
