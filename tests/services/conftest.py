"""Fixtures for service tests: a registered guardian talking through the real pipeline."""

from __future__ import annotations

import pytest

from guardianes.services.runtime import Runtime
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
