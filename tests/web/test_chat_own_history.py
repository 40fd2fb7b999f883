"""A guardian's own messages come back with the chat: after a reload and in a second tab."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from tests.web.conftest import PostChat, chat_browser
from tests.web.test_chat_privacy import Browser


async def _history(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/chat/api/messages", params={"after": 0, "wait": 0})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def _registered(client: httpx.AsyncClient, post_chat: PostChat) -> Browser:
    page = Browser(client, post_chat)
    await page.register()
    return page


async def test_what_a_guardian_sends_is_served_back_with_its_place_among_the_replies(
    post_chat: PostChat, client: httpx.AsyncClient
) -> None:
    await _registered(client, post_chat)
    replies_before = (await _history(client))["last_id"]
    client_id = str(uuid.uuid4())
    await post_chat("text", text="ayuda", external_id=client_id)
    body = await _history(client)
    (own,) = [m for m in body["mine"] if m["text"] == "ayuda"]
    assert own["client_id"] == client_id  # the page that posted it already shows it
    assert own["after_reply"] == replies_before
    assert body["mine_last_id"] == own["id"]


async def test_a_button_pressed_is_kept_with_the_message_it_answered(
    post_chat: PostChat, client: httpx.AsyncClient
) -> None:
    page = await _registered(client, post_chat)
    await page.press("Mis datos")
    (own,) = [m for m in (await _history(client))["mine"] if m["kind"] == "choice"]
    assert own["payload"] and own["source_message_id"]


async def test_nothing_is_kept_before_the_person_registers(
    post_chat: PostChat, client: httpx.AsyncClient
) -> None:
    await client.get("/chat")
    await post_chat("text", text="hola")
    assert (await _history(client))["mine"] == []


async def test_a_second_tab_with_the_same_cookie_sees_the_same_messages(
    post_chat: PostChat, client: httpx.AsyncClient, chat_app: FastAPI
) -> None:
    await _registered(client, post_chat)
    await post_chat("text", text="ayuda")
    async with chat_browser(chat_app, cookies=dict(client.cookies)) as other_tab:
        texts = [m["text"] for m in (await _history(other_tab))["mine"]]
    assert "ayuda" in texts


async def test_another_browser_never_sees_them(
    post_chat: PostChat, client: httpx.AsyncClient, chat_app: FastAPI
) -> None:
    await _registered(client, post_chat)
    async with chat_browser(chat_app) as stranger:
        await stranger.get("/chat")
        assert (await _history(stranger))["mine"] == []


async def test_after_deleting_their_data_the_history_is_empty(
    post_chat: PostChat, client: httpx.AsyncClient
) -> None:
    page = await _registered(client, post_chat)
    await post_chat("text", text="ayuda")
    await page.text("borrar mis datos")
    await page.press("Sí, borrar todo")
    await page.read_until(lambda m: m["prompt"]["kind"] == "done")
    assert (await _history(client))["mine"] == []
