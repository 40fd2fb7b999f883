"""One driver per channel plugin, each speaking to the bot the way that channel's people do.

Telegram polls the fake Bot API and WhatsApp posts signed webhooks to the plugin's route,
both through the real client code (aiogram, httpx) against the fakes in `tests.fakes`;
the web chat goes through its HTTP routes; the console through lines typed in a terminal.
Every driver returns the texts the person saw after each step.
"""

from __future__ import annotations

import io
import unicodedata
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
from fastapi import FastAPI
from rich.console import Console

from guardianes.bot.console import (
    ConsoleChannel,
    ConsolePlugin,
    ConsoleSession,
    numbered_options,
)
from guardianes.bot.telegram.plugin import TelegramPlugin
from guardianes.bot.webchat.plugin import WebChatPlugin
from guardianes.bot.whatsapp.plugin import WhatsAppPlugin
from guardianes.config import Settings
from guardianes.conversations.messages import InboundMessage
from guardianes.runtime.bootstrap import build_runtime, load_demo_data_once
from guardianes.scheduler.outbox import OutboxSender
from guardianes.services.runtime import Runtime
from tests.fakes.graph_server import CLASSIC, FakeGraphServer, RecordedSend, WebhookFactory
from tests.fakes.telegram_server import ALICE, FakeTelegramServer

CHANNELS = ("telegram", "whatsapp", "webchat", "console")
APP_SECRET = "contract-app-secret"
PHONE_NUMBER_ID = "1234567890"
WHATSAPP_PATH = "/webhooks/whatsapp"


def fold(text: str) -> str:
    """Lower case without accents, for matching button labels."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class ChannelDriver(Protocol):
    """One person on one channel; every step returns the texts they were shown."""

    name: str
    runtime: Runtime

    async def text(self, body: str) -> list[str]:
        """Type a text."""
        ...

    async def press(self, label: str) -> list[str]:
        """Answer the latest question with the option labelled like `label`."""
        ...

    async def location(self, latitude: float, longitude: float) -> list[str]:
        """Share a location."""
        ...

    async def photo(self, data: bytes) -> list[str]:
        """Send one photo."""
        ...

    async def unsupported(self) -> list[str]:
        """Send something the channel carries but the bot cannot read."""
        ...

    async def again(self) -> list[str]:
        """Deliver the last message once more, as a platform retry does."""
        ...


@dataclass
class Outbox:
    """Delivers the runtime's outbox rows after each step, unpaced."""

    runtime: Runtime
    sender: OutboxSender = field(init=False)

    def __post_init__(self) -> None:
        self.sender = OutboxSender(self.runtime, pacers={})

    async def settle(self) -> None:
        """Process what was received, then send every reply."""
        await self.runtime.drain()
        await self.sender.run_until_idle()


# ---------------------------------------------------------------- Telegram


@dataclass
class TelegramDriver:
    """Alice on Telegram: updates pushed to the fake Bot API, polled by the plugin."""

    runtime: Runtime
    fake: FakeTelegramServer
    plugin: TelegramPlugin
    outbox: Outbox
    name: str = "telegram"
    last: dict[str, Any] | None = None

    async def _send(self, update: dict[str, Any]) -> list[str]:
        before = len(self.fake.sent(ALICE.id))
        self.last = update
        await self.fake.push(update)
        await self.fake.wait_until_consumed()
        assert self.plugin.transport is not None
        await self.plugin.transport.inbound.albums.flush_all()
        await self.outbox.settle()
        return [_telegram_text(c.params) for c in self.fake.sent(ALICE.id)[before:]]

    async def text(self, body: str) -> list[str]:
        return await self._send(self.fake.updates.text(ALICE, body))

    async def press(self, label: str) -> list[str]:
        latest = self.fake.sent(ALICE.id)[-1]
        if "inline_keyboard" not in (latest.reply_markup or {}):
            # A typed question offers its skip as a word to type (or a reply keyboard's
            # button, which sends that text).
            return await self.text(label)
        return await self._send(self.fake.press(ALICE, label))

    async def location(self, latitude: float, longitude: float) -> list[str]:
        return await self._send(self.fake.updates.location(ALICE, latitude, longitude))

    async def photo(self, data: bytes) -> list[str]:
        return await self._send(self.fake.updates.photo(ALICE, data))

    async def unsupported(self) -> list[str]:
        return await self._send(self.fake.updates.sticker(ALICE))

    async def again(self) -> list[str]:
        assert self.last is not None
        before = len(self.fake.sent(ALICE.id))
        assert self.plugin.transport is not None
        await self.plugin.transport.feed_webhook(self.last)  # a redelivered update
        await self.outbox.settle()
        return [_telegram_text(c.params) for c in self.fake.sent(ALICE.id)[before:]]


def _telegram_text(params: dict[str, Any]) -> str:
    return str(params.get("text") or params.get("caption") or "")


# ---------------------------------------------------------------- WhatsApp


@dataclass
class WhatsAppDriver:
    """Ana on WhatsApp: signed webhooks to the plugin's route, replies to the fake Graph API."""

    runtime: Runtime
    graph: FakeGraphServer
    http: httpx.AsyncClient
    outbox: Outbox
    webhooks: WebhookFactory = field(default_factory=lambda: WebhookFactory(app_secret=APP_SECRET))
    name: str = "whatsapp"
    seen: list[RecordedSend] = field(default_factory=list)
    last: Any = None

    async def _post(self, signed: Any) -> list[str]:
        self.last = signed
        response = await self.http.post(WHATSAPP_PATH, content=signed.body, headers=signed.headers)
        assert response.status_code == 200
        before = len(self.graph.delivered)
        await self.outbox.settle()
        new = self.graph.delivered[before:]
        self.seen.extend(new)
        return [send.text for send in new]

    async def text(self, body: str) -> list[str]:
        return await self._post(self.webhooks.text(CLASSIC, body))

    async def press(self, label: str) -> list[str]:
        wanted = fold(label)
        for sent in reversed(self.seen):
            buttons = list(zip(sent.button_ids, sent.button_titles, strict=True))
            rows = [(row["id"], row["title"]) for row in sent.list_rows]
            for reply_id, title in buttons:
                if wanted in fold(title):
                    return await self._post(
                        self.webhooks.button_reply(
                            CLASSIC, reply_id, title, context_id=str(sent.message_id)
                        )
                    )
            for reply_id, title in rows:
                if wanted in fold(title):
                    return await self._post(
                        self.webhooks.list_reply(
                            CLASSIC, reply_id, title, context_id=str(sent.message_id)
                        )
                    )
            if buttons or rows:
                raise AssertionError(f"no option like {label!r} in {buttons or rows}")
        raise AssertionError("no interactive message received yet")

    async def location(self, latitude: float, longitude: float) -> list[str]:
        return await self._post(self.webhooks.location(CLASSIC, latitude, longitude))

    async def photo(self, data: bytes) -> list[str]:
        media_id = self.graph.add_media(data)
        return await self._post(self.webhooks.image(CLASSIC, media_id, data=data))

    async def unsupported(self) -> list[str]:
        return await self._post(self.webhooks.unsupported(CLASSIC, "sticker"))

    async def again(self) -> list[str]:
        return await self._post(self.last)


# ---------------------------------------------------------------- web chat


@dataclass
class WebChatDriver:
    """A browser on the chat page: posts to its API, reads what the outbox confirmed."""

    runtime: Runtime
    http: httpx.AsyncClient
    outbox: Outbox
    name: str = "webchat"
    after: int = 0
    prompts: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    last: tuple[dict[str, str], list[Any]] | None = None

    async def _post(self, fields: dict[str, str], files: list[Any] | None = None) -> list[str]:
        self.last = (fields, files or [])
        response = await self.http.post("/chat/api/messages", data=fields, files=files or None)
        if response.status_code != 200:
            return [response.json()["detail"]["message"]]
        await self.outbox.settle()
        read = await self.http.get("/chat/api/messages", params={"after": self.after})
        body = read.json()
        self.after = body["last_id"]
        new = [(m["id"], m["prompt"]) for m in body["messages"]]
        self.prompts.extend(new)
        return [prompt["text"] for _, prompt in new]

    @staticmethod
    def _id() -> str:
        return str(uuid.uuid4())

    async def text(self, body: str) -> list[str]:
        return await self._post({"external_id": self._id(), "kind": "text", "text": body})

    async def press(self, label: str) -> list[str]:
        wanted = fold(label)
        for message_id, prompt in reversed(self.prompts):
            options = [(c["payload"], c["label"]) for c in prompt.get("choices") or []]
            for key in ("done", "skip"):
                if prompt.get(f"{key}_payload"):
                    options.append((prompt[f"{key}_payload"], prompt.get(f"{key}_label") or ""))
            for payload, title in options:
                if wanted in fold(title):
                    fields = {
                        "external_id": self._id(),
                        "kind": "choice",
                        "payload": payload,
                        "source_message_id": str(message_id),
                    }
                    return await self._post(fields)
            if prompt.get("choices"):
                raise AssertionError(f"no option like {label!r} in {options}")
        raise AssertionError("no question with options yet")

    async def location(self, latitude: float, longitude: float) -> list[str]:
        fields = {
            "external_id": self._id(),
            "kind": "location",
            "latitude": str(latitude),
            "longitude": str(longitude),
        }
        return await self._post(fields)

    async def photo(self, data: bytes) -> list[str]:
        fields = {"external_id": self._id(), "kind": "photo"}
        return await self._post(fields, [("photos", ("foto.jpg", data, "image/jpeg"))])

    async def unsupported(self) -> list[str]:
        # The page can only carry a file that is not a picture; the chat says why not.
        fields = {"external_id": self._id(), "kind": "photo"}
        return await self._post(fields, [("photos", ("nota.txt", b"solo texto", "text/plain"))])

    async def again(self) -> list[str]:
        assert self.last is not None
        return await self._post(*self.last)


# ---------------------------------------------------------------- console


@dataclass
class ConsoleDriver:
    """Someone at the terminal of `guardianes chat`: numbered options, photos by path."""

    runtime: Runtime
    session: ConsoleSession
    screen: io.StringIO
    outbox: Outbox
    folder: Path
    name: str = "console"
    last: InboundMessage | None = None

    async def _line(self, line: str) -> list[str]:
        start = self.screen.tell()
        try:
            inbound = await self.session.parse(line)
        except ValueError as error:  # ConsoleInputError: printed to the person
            return [str(error)]
        assert inbound is not None
        self.last = inbound
        await self.session.submit(inbound, self.outbox.sender.run_until_idle)
        return self._printed(start)

    def _printed(self, start: int) -> list[str]:
        self.screen.seek(start)
        printed = self.screen.read()
        return [line for line in printed.splitlines() if line.strip()]

    async def text(self, body: str) -> list[str]:
        return await self._line(body)

    async def press(self, label: str) -> list[str]:
        active = self.session.channel.active
        options = numbered_options(active.prompt) if active is not None else []
        if not options:
            return await self._line(label)  # a typed question's skip is a word to type
        wanted = fold(label)
        for option in options:
            if wanted in fold(option.choice.label):
                return await self._line(str(option.number))
        raise AssertionError(f"no option like {label!r} in {options}")

    async def location(self, latitude: float, longitude: float) -> list[str]:
        return await self._line(f"{latitude}, {longitude}")

    async def photo(self, data: bytes) -> list[str]:
        path = self.folder / f"foto-{uuid.uuid4().hex[:8]}.jpg"
        path.write_bytes(data)
        return await self._line(str(path))

    async def unsupported(self) -> list[str]:
        # A terminal carries only lines: a named file that is not a picture is refused.
        path = self.folder / "nota.txt"
        path.write_text("solo texto")
        return await self._line(str(path))

    async def again(self) -> list[str]:
        assert self.last is not None
        start = self.screen.tell()
        await self.session.submit(self.last, self.outbox.sender.run_until_idle)
        return self._printed(start)


# ---------------------------------------------------------------- fixtures


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegramServer]:
    """A fake Bot API on loopback."""
    server = FakeTelegramServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def fake_graph() -> AsyncIterator[FakeGraphServer]:
    """A fake Graph API on loopback."""
    server = FakeGraphServer(token="contract-token", phone_number_id=PHONE_NUMBER_ID)
    await server.start()
    yield server
    await server.stop()


def _settings(tmp_path: Path, **platform: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
        "media_dir": tmp_path / "media",
        "forms_dir": None,
        "scheduler_enabled": False,
        "telegram_bot_token": None,
        "whatsapp_token": None,
        "whatsapp_phone_number_id": None,
    }
    values.update(platform)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(params=CHANNELS)
async def driver(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    fake_telegram: FakeTelegramServer,
    fake_graph: FakeGraphServer,
) -> AsyncIterator[ChannelDriver]:
    """A person on each channel in turn, talking to a runtime holding the sample data."""
    name: str = request.param
    fake, graph = fake_telegram, fake_graph
    settings = _settings(tmp_path)
    if name == "telegram":
        settings = _settings(
            tmp_path, telegram_bot_token=fake.token, telegram_api_base=fake.base_url
        )
    elif name == "whatsapp":
        settings = _settings(
            tmp_path,
            whatsapp_api_base=graph.base_url,
            whatsapp_token=graph.token,
            whatsapp_phone_number_id=PHONE_NUMBER_ID,
            whatsapp_verify_token="contract-verify",
            whatsapp_app_secret=APP_SECRET,
        )
    runtime = await build_runtime(settings)
    await load_demo_data_once(runtime)
    outbox = Outbox(runtime)
    app = FastAPI()
    app.state.runtime = runtime
    try:
        if name == "telegram":
            plugin = TelegramPlugin.from_settings(settings)
            assert plugin is not None
            runtime.channels[plugin.name] = await plugin.start(runtime, app)
            assert plugin.transport is not None
            await plugin.transport.ready.wait()
            yield TelegramDriver(runtime, fake, plugin, outbox)
            await plugin.stop()
        elif name == "whatsapp":
            wa = WhatsAppPlugin.from_settings(settings)
            assert wa is not None
            runtime.channels[wa.name] = await wa.start(runtime, app)
            for router in WhatsAppPlugin.routers:
                app.include_router(router)
            async with _client(app) as http:
                yield WhatsAppDriver(runtime, graph, http, outbox)
            await wa.stop()
        elif name == "webchat":
            chat = WebChatPlugin.from_settings(settings)
            assert chat is not None
            runtime.channels[chat.name] = await chat.start(runtime, app)
            for router in WebChatPlugin.routers:
                app.include_router(router)
            async with _client(app) as http:
                yield WebChatDriver(runtime, http, outbox)
        else:
            screen = io.StringIO()
            console = ConsolePlugin(Console(file=screen, width=200, color_system=None))
            channel = await console.start(runtime, None)
            assert isinstance(channel, ConsoleChannel)
            runtime.channels[console.name] = channel
            session = ConsoleSession(runtime, channel, user_id="ana")
            folder = tmp_path / "files"
            folder.mkdir()
            yield ConsoleDriver(runtime, session, screen, outbox, folder)
    finally:
        await runtime.close()


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")
