"""Telegram in webhook mode through the whole app: lifespan registration, secret check, replies.

`create_app(settings)` runs its real lifespan against the fake Bot API on loopback; updates
are posted to the app's own `/webhooks/telegram` route and the app's outbox sender delivers
the replies to the fake.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from guardianes.app import create_app
from guardianes.bot.telegram.runner import ALLOWED_UPDATES
from guardianes.services.runtime import Runtime
from guardianes.storage.models import InboundEvent
from tests.bot.telegram.conftest import WEBHOOK_SECRET, WEBHOOK_URL, make_settings
from tests.fakes.telegram_server import ALICE, FakeTelegramServer

PATH = "/webhooks/telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class RunningApp:
    """The app with its lifespan running and an HTTP client on it."""

    app: FastAPI
    http: httpx.AsyncClient

    @property
    def runtime(self) -> Runtime:
        """The runtime the lifespan built."""
        runtime: Runtime = self.app.state.runtime
        return runtime

    async def post(self, update: dict[str, Any], secret: str | None) -> int:
        """POST one update as Telegram would (with the secret header when given)."""
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        response = await self.http.post(PATH, json=update, headers=headers)
        return response.status_code

    async def stored_events(self) -> int:
        """Inbound events in the database."""
        async with self.runtime.sessions() as session:
            total = await session.execute(select(func.count()).select_from(InboundEvent))
            return int(total.scalar_one())


@pytest.fixture
async def running(tmp_path: Path, fake: FakeTelegramServer) -> AsyncIterator[RunningApp]:
    """The whole app with Telegram in webhook mode on the fake Bot API."""
    settings = make_settings(
        tmp_path,
        fake,
        telegram_webhook_url=WEBHOOK_URL,
        telegram_webhook_secret=WEBHOOK_SECRET,
    )
    app = create_app(settings, demo=True)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield RunningApp(app, http)


async def test_the_lifespan_sets_the_webhook_with_its_secret(
    running: RunningApp, fake: FakeTelegramServer
) -> None:
    [call] = await fake.wait_for_calls("setWebhook", ok=True)
    assert call.params["url"] == WEBHOOK_URL
    assert call.params["secret_token"] == WEBHOOK_SECRET
    assert call.params["allowed_updates"] == ALLOWED_UPDATES


async def test_the_lifespan_sets_the_command_menu_in_spanish_and_english(
    running: RunningApp, fake: FakeTelegramServer
) -> None:
    await fake.wait_for_calls("setWebhook", ok=True)  # commands are registered before it
    assert {"es", "en"} <= set(fake.commands)
    spanish = {c["command"]: c["description"] for c in fake.commands["es"]}
    english = {c["command"]: c["description"] for c in fake.commands["en"]}
    assert spanish.keys() == english.keys()
    assert spanish != english


async def test_an_update_with_the_right_secret_is_processed_and_answered(
    running: RunningApp, fake: FakeTelegramServer
) -> None:
    assert await running.post(fake.updates.text(ALICE, "hola"), WEBHOOK_SECRET) == 200
    await running.runtime.drain()
    await fake.wait_for(lambda: any(call.button_texts() for call in fake.sent(ALICE.id)))
    language_question = next(call for call in fake.sent(ALICE.id) if call.button_texts())
    assert language_question.button_texts() == ["Español", "English"]
    assert await running.stored_events() == 1


async def test_an_update_with_a_wrong_secret_is_refused_and_nothing_stored(
    running: RunningApp, fake: FakeTelegramServer
) -> None:
    assert await running.post(fake.updates.text(ALICE, "hola"), "not-the-secret") == 401
    assert await running.stored_events() == 0


async def test_an_update_without_a_secret_is_refused_and_nothing_stored(
    running: RunningApp, fake: FakeTelegramServer
) -> None:
    assert await running.post(fake.updates.text(ALICE, "hola"), None) == 401
    assert await running.stored_events() == 0
