"""«mis datos» on the web chat: the export is a download only this browser can fetch."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI

from guardianes.services.runtime import Runtime
from tests.privacy_helpers import JPEG, file_card
from tests.web.conftest import PostChat, chat_browser

DEADLINE_SECONDS = 10.0


@dataclass
class Browser:
    """The page's side of the chat: posts, then reads bot messages until one it waits for."""

    client: httpx.AsyncClient
    post: PostChat
    last_id: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)

    async def read_until(self, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """Long-poll until a message matching `wanted` arrives; returns it."""
        async with asyncio.timeout(DEADLINE_SECONDS):
            while True:
                for message in self.messages:
                    if wanted(message):
                        return message
                response = await self.client.get(
                    "/chat/api/messages", params={"after": self.last_id, "wait": 2}
                )
                body = response.json()
                self.messages.extend(body["messages"])
                self.last_id = body["last_id"]

    async def text(self, text: str) -> None:
        """Type a message."""
        self.messages.clear()
        await self.post("text", text=text)

    async def press(self, label: str) -> None:
        """Press the button of a bot message labelled `label` (waiting for it to arrive)."""
        message = await self.read_until(
            lambda m: any(c["label"] == label for c in m["prompt"]["choices"])
        )
        [payload] = [c["payload"] for c in message["prompt"]["choices"] if c["label"] == label]
        self.messages.clear()
        await self.post("choice", payload=payload, source_message_id=str(message["id"]))

    async def register(self) -> None:
        """Register as Ana López of Centro, up to the main menu."""
        await self.text("hola")
        await self.press("Español")
        await self.press("Sí, acepto")
        await self.read_until(lambda m: "¿Cómo te llamas?" in m["prompt"]["text"])
        await self.text("Ana López")
        await self.read_until(lambda m: m["prompt"]["kind"] == "location")
        await self.text("Centro")
        await self.read_until(
            lambda m: any(c["label"] == "Mis datos" for c in m["prompt"]["choices"])
        )


async def test_my_data_is_a_download_for_this_browser_only(
    post_chat: PostChat, client: httpx.AsyncClient, chat_app: FastAPI, chat_runtime: Runtime
) -> None:
    page = Browser(client, post_chat)
    await page.register()
    user_id = client.cookies["guardianes_chat"]
    await file_card(chat_runtime, "webchat", user_id)
    await page.text("mis datos")

    document = await page.read_until(lambda m: m["prompt"]["kind"] == "document")
    image = await page.read_until(lambda m: m["prompt"]["kind"] == "image")
    attachment = document["prompt"]["attachment"]
    assert "path" not in attachment
    downloaded = await client.get(attachment["url"])
    assert downloaded.status_code == 200
    assert downloaded.headers["cache-control"] == "private, no-store"
    assert json.loads(downloaded.content)["guardian"]["display_name"] == "Ana López"
    assert (await client.get(image["prompt"]["attachment"]["url"])).content == JPEG

    async with chat_browser(chat_app) as stranger:
        await stranger.post(
            "/chat/api/messages",
            data={"kind": "text", "text": "hola", "external_id": str(uuid.uuid4())},
        )
        assert (await stranger.get(attachment["url"])).status_code == 404
