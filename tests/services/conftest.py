"""Fixtures for service tests: a registered guardian talking through the real pipeline."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from guardianes.bot.webchat.plugin import WebChatPlugin
from guardianes.config import Settings
from guardianes.services.runtime import Runtime
from guardianes.storage.db import create_engine, create_session_factory
from tests.chat_driver import ChatDriver


async def register(driver: ChatDriver, name: str = "Ana López", colonia: str = "Centro") -> None:
    """Walk registration: language, consent, name, colonia."""
    await driver.text("hola")
    await driver.press("Español")
    await driver.press("Sí, acepto")
    await driver.text(name)
    await driver.text(colonia)


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
