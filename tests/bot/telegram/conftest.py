"""Fixtures of the Telegram adapter tests: the fake Bot API on loopback, aiogram pointed at it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiogram import Bot
from aiogram.types import Update
from fastapi import FastAPI

from guardianes.bot.telegram.names import STATE_ATTRIBUTE
from guardianes.bot.telegram.runner import TelegramTransport, build_bot
from guardianes.bot.telegram.webhook import router
from guardianes.config import Settings
from guardianes.conversations.messages import InboundMessage
from guardianes.scheduler.outbox import OutboxSender
from guardianes.services.inbound import accept_inbound
from guardianes.services.intake import close_keyboard
from guardianes.services.runtime import Runtime
from tests.fakes.telegram_server import ALICE, Call, FakeTelegramServer, TgUser, UpdateFactory

# The smallest JPEG header the media store recognises, plus some bytes.
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x01" * 64
WEBHOOK_SECRET = "s3cret_Token-for-tests"
WEBHOOK_URL = "https://guardianes.example.org/webhooks/telegram"
ALBUM_WINDOW = 0.05  # short quiet time: tests await the album's storage, never sleep


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegramServer]:
    """A fake Bot API listening on 127.0.0.1."""
    server = FakeTelegramServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def updates(fake: FakeTelegramServer) -> UpdateFactory:
    """Builds updates numbered like the fake's chats."""
    return fake.updates


def make_settings(tmp_path: Path, fake: FakeTelegramServer, **overrides: Any) -> Settings:
    """Settings with Telegram pointed at the fake server."""
    values: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
        "media_dir": tmp_path / "media",
        "forms_dir": None,
        "scheduler_enabled": False,
        "telegram_bot_token": fake.token,
        "telegram_api_base": fake.base_url,
        "telegram_webhook_url": None,
        "telegram_webhook_secret": None,
        "whatsapp_token": None,
        "whatsapp_phone_number_id": None,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(tmp_path: Path, fake: FakeTelegramServer) -> Settings:
    """Settings for long polling against the fake server (also the runtime's settings)."""
    return make_settings(tmp_path, fake)


@pytest.fixture
def tg_settings(settings: Settings) -> Settings:
    """Settings for long polling against the fake server."""
    return settings


@pytest.fixture
async def bot(tg_settings: Settings) -> AsyncIterator[Bot]:
    """An aiogram Bot whose API server is the fake."""
    bot = build_bot(tg_settings)
    yield bot
    await bot.session.close()


@pytest.fixture
def as_update(bot: Bot) -> Callable[[dict[str, Any]], Update]:
    """Turns an update payload into aiogram's `Update`, bound to the test bot."""

    def convert(data: dict[str, Any]) -> Update:
        return Update.model_validate(data, context={"bot": bot})

    return convert


@dataclass
class RecordingStore:
    """An inbound store that keeps messages and, like the real one, refuses repeats."""

    messages: list[InboundMessage] = field(default_factory=list)
    fail_with: Exception | None = None
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def __call__(self, inbound: InboundMessage) -> bool:
        """Store unless the external id was seen."""
        if self.fail_with is not None:
            raise self.fail_with
        async with self._changed:
            if any(m.external_id == inbound.external_id for m in self.messages):
                return False
            self.messages.append(inbound)
            self._changed.notify_all()
        return True

    async def wait_for(self, count: int, within: float = 5.0) -> list[InboundMessage]:
        """Wait until `count` messages were stored; returns them all."""
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.messages) >= count), within
            )
            return list(self.messages)


@dataclass
class RecordingKeyboards:
    """A keyboard closer that notes which (chat, message) keyboards were to be closed."""

    closed: list[tuple[str, str]] = field(default_factory=list)

    async def __call__(self, chat_id: str, message_id: str) -> None:
        """Note one request."""
        self.closed.append((chat_id, message_id))


@pytest.fixture
def keyboards() -> RecordingKeyboards:
    """Where the transport under test asks for pressed keyboards to be closed."""
    return RecordingKeyboards()


@pytest.fixture
def store() -> RecordingStore:
    """Where the transport under test stores inbound messages."""
    return RecordingStore()


@pytest.fixture
async def transport(
    tg_settings: Settings, store: RecordingStore, keyboards: RecordingKeyboards
) -> AsyncIterator[TelegramTransport]:
    """A transport on the fake server, not started: tests feed updates directly."""
    transport = TelegramTransport(
        tg_settings,
        store,
        keyboards=keyboards,
        album_window=ALBUM_WINDOW,
        poll_timeout=1,
        retry_delay=0.01,
    )
    yield transport
    await transport.stop()


@pytest.fixture
async def polling(transport: TelegramTransport) -> TelegramTransport:
    """The transport long-polling the fake server."""
    await transport.start()
    await asyncio.wait_for(transport.ready.wait(), 5)
    return transport


@pytest.fixture
async def webhook_transport(
    tmp_path: Path, fake: FakeTelegramServer, store: RecordingStore
) -> AsyncIterator[TelegramTransport]:
    """A transport in webhook mode with a configured secret."""
    settings = make_settings(
        tmp_path,
        fake,
        telegram_webhook_url=WEBHOOK_URL,
        telegram_webhook_secret=WEBHOOK_SECRET,
    )
    transport = TelegramTransport(settings, store, album_window=ALBUM_WINDOW, retry_delay=0.01)
    yield transport
    await transport.stop()


@pytest.fixture
async def webhook_http(
    webhook_transport: TelegramTransport,
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of an app mounting only the Telegram webhook router."""
    app = FastAPI()
    app.include_router(router)
    setattr(app.state, STATE_ATTRIBUTE, webhook_transport)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@dataclass
class Live:
    """One person chatting with the running bot; each step runs until everything is sent."""

    fake: FakeTelegramServer
    runtime: Runtime
    transport: TelegramTransport
    sender: OutboxSender
    user: TgUser = ALICE

    async def send(self, *updates: dict[str, Any] | list[dict[str, Any]]) -> list[Call]:
        """Deliver updates, let the pipeline and the outbox finish; returns the new messages."""
        before = len(self.fake.sent(self.user.id))
        await self.fake.push(*updates)
        await self.fake.wait_until_consumed()
        await self.transport.inbound.albums.flush_all()
        await self.runtime.drain()
        await self.sender.run_until_idle()
        return self.fake.sent(self.user.id)[before:]

    async def redeliver(self, update: dict[str, Any]) -> list[Call]:
        """Deliver an update again, as a webhook retry or a restart before confirming does."""
        before = len(self.fake.sent(self.user.id))
        await self.transport.feed_webhook(update)
        await self.runtime.drain()
        await self.sender.run_until_idle()
        return self.fake.sent(self.user.id)[before:]

    async def text(self, text: str) -> list[Call]:
        """Type a message."""
        return await self.send(self.fake.updates.text(self.user, text))

    async def press(self, label: str) -> list[Call]:
        """Press a button of the latest keyboard."""
        return await self.send(self.fake.press(self.user, label))

    async def location(self, latitude: float, longitude: float) -> list[Call]:
        """Share a location."""
        return await self.send(self.fake.updates.location(self.user, latitude, longitude))

    async def photo(self, data: bytes) -> list[Call]:
        """Send one photo."""
        return await self.send(self.fake.updates.photo(self.user, data))

    async def register(self) -> None:
        """Sign up in Spanish, in the sample colonia Centro."""
        await self.text("hola")
        await self.press("Español")
        await self.press("Sí, acepto")
        await self.text("Alicia")
        await self.text("Centro")


@pytest.fixture
async def live(demo_runtime: Runtime, fake: FakeTelegramServer) -> AsyncIterator[Live]:
    """The bot polling the fake server, storing into a runtime with the sample data."""
    transport = TelegramTransport(
        demo_runtime.settings,
        partial(accept_inbound, demo_runtime),
        keyboards=partial(close_keyboard, demo_runtime, "telegram"),
        album_window=ALBUM_WINDOW,
        poll_timeout=1,
        retry_delay=0.01,
    )
    demo_runtime.channels[transport.channel.name] = transport.channel
    await transport.start()
    await asyncio.wait_for(transport.ready.wait(), 5)
    yield Live(fake, demo_runtime, transport, OutboxSender(demo_runtime, pacers={}))
    await transport.stop()
