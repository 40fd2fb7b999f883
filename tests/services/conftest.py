"""Fixtures for service tests: a registered guardian talking through the real pipeline."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from guardianes.bot.webchat.plugin import WebChatPlugin
from guardianes.config import Settings
from guardianes.conversations.messages import StoredMedia
from guardianes.runtime.bootstrap import build_runtime, load_demo_data_once
from guardianes.services.media import store_media
from guardianes.services.runtime import Runtime
from guardianes.storage.db import create_engine, create_session_factory
from tests.chat_driver import ChatDriver
from tests.web.conftest import make_png


async def register(driver: ChatDriver, name: str = "Ana López", colonia: str = "Centro") -> None:
    """Walk registration: language, consent, name, colonia."""
    await driver.text("hola")
    await driver.press("Español")
    await driver.press("Sí, acepto")
    await driver.text(name)
    await driver.text(colonia)


async def to_park_photos(driver: ChatDriver) -> None:
    """Register, then answer the sample park's card up to its photo question."""
    await register(driver)
    await driver.press("Llenar una tarjeta")
    await driver.press("parques")
    await driver.location(28.6355, -106.089)
    await driver.press("Sí, es ese")
    for label in ("Sí", "Bien", "Nada", "No", "Bien", "Bien", "Bien", "Bien"):
        await driver.press(label)
    await driver.press("Omitir")  # lamps out inside the park


async def store_photo(runtime: Runtime) -> StoredMedia:
    """A small PNG stored in the runtime's media folder, as a channel stores a guardian's photo."""
    return await store_media(runtime.settings.media_dir, make_png(), max_bytes=10**6)


@pytest.fixture
async def any_runtime(
    settings: Settings, database_url: str, db_engine: AsyncEngine
) -> AsyncIterator[Runtime]:
    """A runtime with the sample data on the parametrized backend (SQLite and PostgreSQL)."""
    runtime = await build_runtime(settings.model_copy(update={"database_url": database_url}))
    await load_demo_data_once(runtime)
    yield runtime
    await runtime.close()


@pytest.fixture
def chat(demo_runtime: Runtime) -> ChatDriver:
    """A new person on the web chat of a runtime with the sample data."""
    return ChatDriver(demo_runtime)


@pytest.fixture
async def webchat_workers(
    postgres_url: str, tmp_path: Path
) -> AsyncIterator[Callable[[], Awaitable[Runtime]]]:
    """Start web chat workers on one PostgreSQL database, each with its own engine."""
    started: list[tuple[Runtime, WebChatPlugin]] = []

    async def start() -> Runtime:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, database_url=postgres_url, media_dir=tmp_path
        )
        engine = create_engine(postgres_url)
        runtime = Runtime(
            settings=settings,
            engine=engine,
            sessions=create_session_factory(engine),
            catalog=None,  # type: ignore[arg-type]
            forms=None,  # type: ignore[arg-type]
            gazetteer=None,  # type: ignore[arg-type]
        )
        plugin = WebChatPlugin()
        runtime.channels[plugin.name] = await plugin.start(runtime, None)
        started.append((runtime, plugin))
        return runtime

    yield start
    for runtime, plugin in started:
        await plugin.stop()
        await runtime.close()
