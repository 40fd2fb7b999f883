"""Fixtures of the web chat tests: the app with its lifespan, an HTTP client, tiny images."""

from __future__ import annotations

import socket
import struct
import threading
import uuid
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Page, sync_playwright

from guardianes.app import create_app
from guardianes.bot.webchat.channel import WebChatChannel
from guardianes.config import Settings
from guardianes.services.runtime import Runtime
from tests.conftest import IN_CI

PostChat = Callable[..., Awaitable[httpx.Response]]


def chat_browser(app: FastAPI, **options: Any) -> httpx.AsyncClient:
    """A browser of the app's web chat, called in process; its own cookies unless given."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://chat.test", **options
    )


def make_png(width: int = 8, height: int = 8, rgb: tuple[int, int, int] = (30, 140, 70)) -> bytes:
    """A valid PNG of one colour, made without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def png_bytes() -> bytes:
    """A small PNG photo."""
    return make_png()


@pytest.fixture
async def chat_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The whole app on a fresh SQLite database with the sample data, lifespan running."""
    async with running_chat_app(settings) as app:
        yield app


@pytest.fixture
def chat_runtime(chat_app: FastAPI) -> Runtime:
    """The runtime the app's lifespan built."""
    runtime: Runtime = chat_app.state.runtime
    return runtime


@pytest.fixture
async def client(chat_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client: it keeps the chat cookie between requests."""
    async with chat_browser(chat_app) as client:
        yield client


@pytest.fixture
def post_chat(client: httpx.AsyncClient) -> PostChat:
    """Post one message as the page does (multipart form, a fresh UUID unless given)."""

    async def post(
        kind: str,
        *,
        external_id: str | None = None,
        photos: list[tuple[str, bytes, str]] | None = None,
        **fields: Any,
    ) -> httpx.Response:
        data = {"kind": kind, "external_id": external_id or str(uuid.uuid4()), **fields}
        files = [("photos", photo) for photo in photos or []]
        return await client.post(
            "/chat/api/messages",
            data={k: str(v) for k, v in data.items()},
            files=files or None,
        )

    return post


# ---------------------------------------------------------------- a live server and Chromium

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE_VIEWPORT = {"width": 390, "height": 844}
SERVER_START_SECONDS = 60


class _ReadyServer(uvicorn.Server):
    """A uvicorn server that says when it listens (no polling of the port)."""

    def __init__(self, app: FastAPI) -> None:
        super().__init__(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.app = app
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
            runtime: Runtime = self.app.state.runtime
            if not isinstance(runtime.channels.get("webchat"), WebChatChannel):
                runtime.channels["webchat"] = WebChatChannel()  # until the bootstrap registers it
                runtime.outbox_wakeup.set()
        finally:
            self.ready.set()


@dataclass(frozen=True)
class LiveServer:
    """The app served on loopback for a real browser."""

    url: str
    settings: Settings

    @property
    def database(self) -> Path:
        """The SQLite file behind the server."""
        return Path(self.settings.database_url.split("///", 1)[1])


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    """The app with the sample data on 127.0.0.1 at a free port, in a background thread.

    Its tile server refuses at once: the chat's location picker shows its plain background.
    """
    offline = settings.model_copy(update={"map_tiles_url": UNREACHABLE_TILES})
    with serve(create_app(offline, demo=True), offline) as server:
        yield server


@contextmanager
def serve(app: FastAPI, settings: Settings) -> Iterator[LiveServer]:
    """Serve the app on 127.0.0.1 at a free port in a background thread until the block ends."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = _ReadyServer(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    if not server.ready.wait(SERVER_START_SECONDS) or not server.started:
        server.should_exit = True
        pytest.fail("the app did not start")
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", settings)
    finally:
        server.should_exit = True
        thread.join(SERVER_START_SECONDS)
        listener.close()


@pytest.fixture
def phone_page(live_server: LiveServer) -> Iterator[Page]:
    """A phone-sized page in headless Debian Chromium (required under CI=true)."""
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is required under CI=true (make browser installs it)")
        pytest.skip(f"{CHROMIUM} not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport=PHONE_VIEWPORT,  # type: ignore[arg-type]
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="es-MX",
        )
        context.set_default_timeout(20_000)
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()


# ---------------------------------------------------------------- the public map on real data

MAP_TELEGRAM_BOT = "GuardianesChihBot"
MAP_WHATSAPP_NUMBER = "+52 614 123 4567"
# A tile server that refuses at once (loopback, discard port): tests never reach the internet,
# and the page must fall back to its plain background.
UNREACHABLE_TILES = "http://127.0.0.1:9/{z}/{x}/{y}.png"


async def _import_chihuahua(settings: Settings, data: Path) -> None:
    from guardianes.importers.service import import_contracts, import_layers_csv
    from guardianes.storage.db import (
        create_engine,
        create_session_factory,
        unit_of_work,
        upgrade_database,
    )

    engine = create_engine(settings.database_url)
    try:
        await upgrade_database(engine)
        async with unit_of_work(create_session_factory(engine)) as session:
            await import_layers_csv(session, data / "layers.csv")
            await import_contracts(session, data / "contratos_municipio_2018_2020.csv")
    finally:
        await engine.dispose()


@pytest.fixture
def map_settings(settings: Settings) -> Settings:
    """Settings with "Report it" links on and tiles that cannot load."""
    return settings.model_copy(
        update={
            "map_tiles_url": UNREACHABLE_TILES,
            "telegram_bot_username": MAP_TELEGRAM_BOT,
            "whatsapp_public_number": MAP_WHATSAPP_NUMBER,
        }
    )


@pytest.fixture
def chihuahua_server(map_settings: Settings, chihuahua_data: Path) -> Iterator[LiveServer]:
    """The app on loopback with the real Chihuahua layers and contracts imported as published."""
    import asyncio

    asyncio.run(_import_chihuahua(map_settings, chihuahua_data))
    with serve(create_app(map_settings), map_settings) as server:
        yield server


def _browser_context(playwright: Any, **options: Any) -> Any:
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is required under CI=true (make browser installs it)")
        pytest.skip(f"{CHROMIUM} not installed")
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    context = browser.new_context(**options)
    context.set_default_timeout(20_000)
    return browser, context


@pytest.fixture
def map_phone(chihuahua_server: LiveServer) -> Iterator[Page]:
    """A phone in headless Chromium, allowed to share a location in Chihuahua."""
    with sync_playwright() as playwright:
        browser, context = _browser_context(
            playwright,
            viewport=PHONE_VIEWPORT,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="es-MX",
            geolocation={"latitude": 28.6353, "longitude": -106.0889},
            permissions=["geolocation"],
        )
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


@pytest.fixture
def map_desktop(chihuahua_server: LiveServer) -> Iterator[Page]:
    """A desktop window in headless Chromium."""
    with sync_playwright() as playwright:
        browser, context = _browser_context(
            playwright, viewport={"width": 1280, "height": 800}, locale="es-MX"
        )
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


@asynccontextmanager
async def app_with_forms(settings: Settings, forms_dir: Path) -> AsyncIterator[FastAPI]:
    """The whole app, running, with `forms_dir` as staff forms and a fast reader allowed."""
    # One fast reader answers some 170 questions a minute: far above a person's limits.
    update = {
        "forms_dir": forms_dir,
        "rate_limit_person": "10000/minute",
        "rate_limit_address": "10000/minute",
    }
    async with running_chat_app(settings.model_copy(update=update)) as app:
        yield app


@asynccontextmanager
async def running_chat_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The whole app with the sample data, its lifespan running and the web chat on."""
    app = create_app(settings, demo=True)
    async with app.router.lifespan_context(app):
        runtime: Runtime = app.state.runtime
        if not isinstance(runtime.channels.get("webchat"), WebChatChannel):
            # The bootstrap registers the channel; this keeps the tests independent of it.
            runtime.channels["webchat"] = WebChatChannel()
            runtime.outbox_wakeup.set()
        yield app
