"""The app's lifespan: which channels start, what it logs, health, and a refused outdated schema."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from guardianes.app import create_app
from guardianes.config import Settings
from guardianes.runtime.bootstrap import start_services
from guardianes.services.runtime import Runtime
from guardianes.storage.db import SchemaOutdatedError

BOOTSTRAP_LOGGER = "guardianes.runtime.bootstrap"


@pytest.fixture
async def started(settings: Settings, caplog: pytest.LogCaptureFixture) -> AsyncIterator[FastAPI]:
    """The app without any platform token, its lifespan running, start-up logs captured."""
    caplog.set_level(logging.INFO, logger="guardianes")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def http(started: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the started app."""
    transport = httpx.ASGITransport(app=started)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_without_platform_tokens_only_the_web_chat_runs(started: FastAPI) -> None:
    runtime: Runtime = started.state.runtime
    assert sorted(runtime.channels) == ["webchat"]


async def test_without_platform_tokens_telegram_and_whatsapp_are_logged_off(
    started: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    # The lifespan ran while the fixture was set up.
    records = caplog.get_records("setup")
    messages = [r.getMessage() for r in records if r.name.startswith("guardianes.")]
    assert any(m.startswith("Telegram is off") for m in messages)
    assert any(m.startswith("WhatsApp is off") for m in messages)
    started_with = [r.getMessage() for r in records if r.name == BOOTSTRAP_LOGGER]
    assert "channels running: webchat" in started_with


async def test_health_reports_a_current_schema_and_the_running_channels(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get("/healthz")
    assert response.status_code == 200
    health = response.json()
    assert health["schema_current"] is True
    assert health["channels"] == ["webchat"]


@pytest.mark.postgres
async def test_an_outdated_postgresql_schema_is_refused_at_start(
    settings: Settings, new_postgres_url: str
) -> None:
    outdated = settings.model_copy(update={"database_url": new_postgres_url})
    with pytest.raises(SchemaOutdatedError, match="guardianes db upgrade"):
        await start_services(outdated, None, demo=False)
