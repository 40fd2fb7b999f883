"""The published XLSForms, dropped in GUARDIANES_FORMS_DIR, run end to end in the web chat.

Everything goes through the web chat's HTTP API as the page sends it (multipart posts,
long-polled replies): registration, the card menu, then every question answered by
`bench.xlsform_driver` until the card is stored in the database.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from bench.xlsform_driver import LOCATION, PUBLIC_FORMS_DIR, next_action, public_forms
from guardianes.config import Settings
from guardianes.conversations.messages import Prompt
from guardianes.conversations.xlsform import load_form
from guardianes.domain.enums import OutboxStatus
from guardianes.services.runtime import Runtime
from guardianes.storage.models import ConversationState, OutboxMessage, Submission
from tests.web.conftest import app_with_forms, chat_browser, make_png

DEADLINE_SECONDS = 20.0
MAX_MESSAGES = 400
RUNNABLE = [p for p in public_forms() if not p.name.startswith("invalid_")]


@pytest.fixture
async def forms_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The whole app with the published forms as staff forms, read where they are."""
    async with app_with_forms(settings, PUBLIC_FORMS_DIR) as app:
        yield app


class Page:
    """The chat page: posts like the browser does and long-polls the bot's messages."""

    def __init__(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        self.client = client
        self.runtime = runtime
        self.last_id = 0
        self.messages: list[dict[str, Any]] = []

    async def post(self, kind: str, files: list[Any] | None = None, **fields: Any) -> None:
        data = {"kind": kind, "external_id": str(uuid.uuid4()), **fields}
        response = await self.client.post(
            "/chat/api/messages", data={k: str(v) for k, v in data.items()}, files=files
        )
        assert response.status_code == 200, response.text
        self.messages.clear()

    async def prompt(self) -> dict[str, Any]:
        """The last bot message once the bot is done (no turn running, nothing left to send)."""
        async with asyncio.timeout(DEADLINE_SECONDS):
            while True:
                done = bool(self.messages) and await self._settled()
                wait = 0 if done else 0.1 if self.messages else 5
                response = await self.client.get(
                    "/chat/api/messages", params={"after": self.last_id, "wait": wait}
                )
                body = response.json()
                self.messages.extend(body["messages"])
                self.last_id = body["last_id"]
                if done:
                    return self.messages[-1]

    async def _settled(self) -> bool:
        # Asked, not guessed from a quiet poll: on a loaded machine (tests run in parallel)
        # a turn may still be running or its last reply still be queued after a pause.
        await self.runtime.idle.wait()
        async with self.runtime.sessions() as session:
            unsent = await session.scalar(
                select(func.count(OutboxMessage.id)).where(
                    OutboxMessage.channel == "webchat",
                    OutboxMessage.status.in_((OutboxStatus.QUEUED, OutboxStatus.SENDING)),
                )
            )
        return not unsent

    async def press(self, label: str) -> None:
        message = await self.prompt()
        choices = message["prompt"]["choices"]
        [payload] = [c["payload"] for c in choices if c["label"] == label] or [None]
        assert payload is not None, (label, [c["label"] for c in choices])
        await self.post("choice", payload=payload, source_message_id=str(message["id"]))


async def _state(runtime: Runtime, user_id: str) -> dict[str, Any]:
    async with runtime.sessions() as session:
        state = await session.scalar(
            select(ConversationState.state).where(
                ConversationState.channel == "webchat",
                ConversationState.channel_user_id == user_id,
            )
        )
    return dict(state or {})


async def _cards(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count(Submission.id))) or 0)


async def fill_in_webchat(app: FastAPI, path: Path) -> int:
    """Register, pick the card, answer until it is stored; the number of messages sent."""
    runtime: Runtime = app.state.runtime
    form = load_form(path)
    photo = make_png()
    async with chat_browser(app) as client:
        page = Page(client, runtime)
        await page.post("text", text="hola")
        await page.press("Español")
        await page.press("Sí, acepto")
        await page.post("text", text="Ana López")
        await page.post("text", text="Centro")
        await page.press("Llenar una tarjeta")
        await page.press(form.localized_title("es"))
        asked: dict[tuple[int, int], int] = {}
        cards_before = await _cards(runtime)
        user_id = client.cookies["guardianes_chat"]
        for sent in range(MAX_MESSAGES):
            if await _cards(runtime) > cards_before:
                return sent
            state = await _state(runtime, user_id)
            assert state.get("step") == "form", state.get("step")
            fs = state["form"]
            key = (fs["pos"], len(fs["answers"].get(form.questions[fs["pos"]].name) or []))
            attempt = asked.get(key, 0)
            asked[key] = attempt + 1
            message = await page.prompt()
            action = next_action(form, fs, Prompt.from_json(message["prompt"]), attempt)
            source = {"source_message_id": str(message["id"])}
            if action.kind == "press":
                await page.post("choice", payload=action.value, **source)
            elif action.kind == "text":
                await page.post("text", text=action.value)
            elif action.kind == "location":
                await page.post("location", latitude=LOCATION[0], longitude=LOCATION[1])
            elif action.kind == "photo":
                await page.post("photo", files=[("photos", ("foto.png", photo, "image/png"))])
            elif action.kind == "done":
                await page.post("text", text="listo")
            else:
                await page.post("text", text="omitir")
    raise AssertionError(f"{path.name} did not end within {MAX_MESSAGES} messages")


async def test_every_published_form_runs_in_the_web_chat(forms_app: FastAPI) -> None:
    # One app for all nine forms (each from a new browser): starting the app dominates.
    for path in RUNNABLE:
        assert await fill_in_webchat(forms_app, path) > 0, path.name
    assert await _cards(forms_app.state.runtime) == len(RUNNABLE)
