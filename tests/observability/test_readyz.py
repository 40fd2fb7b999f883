"""Readiness: 200 only when the database and every enabled channel can serve, else 503 with why."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from guardianes.bot.telegram.names import STATE_ATTRIBUTE
from guardianes.config import Settings
from guardianes.services.runtime import Runtime
from guardianes.storage.db import head_revision
from tests.fakes.telegram_server import FakeTelegramServer
from tests.observability.conftest import running_app

OpsApp = tuple[FastAPI, httpx.AsyncClient]
UNREACHABLE_API = "http://127.0.0.1:9"  # the discard port: nothing answers there
READY_WITHIN_SECONDS = 10.0


def _with(settings: Settings, **values: object) -> Settings:
    return Settings.model_validate({**settings.model_dump(), **values})


async def test_the_web_chat_and_a_current_database_are_ready(ops_app: OpsApp) -> None:
    _, http = ops_app
    answer = await http.get("/readyz")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["webchat"] == {"ok": True, "detail": "registered"}
    assert body["reasons"] == []


async def test_a_database_behind_the_code_is_not_ready(ops_app: OpsApp) -> None:
    app, http = ops_app
    runtime: Runtime = app.state.runtime
    async with runtime.engine.begin() as conn:
        await conn.execute(text("DELETE FROM alembic_version"))

    answer = await http.get("/readyz")

    assert answer.status_code == 503
    assert answer.json()["reasons"] == [f"database: schema at None, code needs {head_revision()}"]


async def test_telegram_that_cannot_reach_its_api_is_not_ready(settings: Settings) -> None:
    telegram = _with(
        settings,
        telegram_bot_token="123456789:AAE-guardianes-fake-token_for-tests",
        telegram_api_base=UNREACHABLE_API,
    )
    async with running_app(telegram, demo=False) as (_, http):
        answer = await http.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["reasons"] == ["telegram: not polling"]


async def test_telegram_is_ready_once_polling(settings: Settings) -> None:
    fake = FakeTelegramServer()
    await fake.start()
    telegram = _with(settings, telegram_bot_token=fake.token, telegram_api_base=fake.base_url)
    try:
        async with running_app(telegram, demo=False) as (app, http):
            transport = getattr(app.state, STATE_ATTRIBUTE)
            await asyncio.wait_for(transport.ready.wait(), READY_WITHIN_SECONDS)
            answer = await http.get("/readyz")
    finally:
        await fake.stop()
    assert answer.status_code == 200
    assert answer.json()["checks"]["telegram"] == {"ok": True, "detail": "polling"}


async def test_whatsapp_without_its_app_secret_is_not_ready(settings: Settings) -> None:
    whatsapp = _with(
        settings,
        whatsapp_token="EAAG-token",
        whatsapp_phone_number_id="1234567890",
        whatsapp_api_base=UNREACHABLE_API,
    )
    async with running_app(whatsapp, demo=False) as (_, http):
        answer = await http.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["reasons"] == [
        "whatsapp: WHATSAPP_APP_SECRET unset: deliveries are refused"
    ]


async def test_whatsapp_with_its_secrets_is_ready(settings: Settings) -> None:
    whatsapp = _with(
        settings,
        whatsapp_token="EAAG-token",
        whatsapp_phone_number_id="1234567890",
        whatsapp_app_secret="app-secret",
        whatsapp_api_base=UNREACHABLE_API,
    )
    async with running_app(whatsapp, demo=False) as (_, http):
        answer = await http.get("/readyz")
    assert answer.status_code == 200
    assert answer.json()["checks"]["whatsapp"] == {"ok": True, "detail": "webhook configured"}
