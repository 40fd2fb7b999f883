"""Logs: secrets never written, request and update ids on every line, JSON lines on request."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from guardianes.config import Settings
from guardianes.observability.logs import Redactor, build_handler, secret_values
from guardianes.services.runtime import Runtime
from guardianes.web.middleware import RequestIdMiddleware
from tests.chat_driver import ChatDriver
from tests.observability.conftest import serve_process

VERIFY_TOKEN = "verify-Me-7c1e0b2a94"
APP_SECRET = "app-secret-5f0a9d3e11"
WHATSAPP_TOKEN = "EAAG-whatsapp-token-0123456789"
TELEGRAM_TOKEN = "123456789:AAE-guardianes-fake-token_for-tests"

CaptureLogs = Callable[[Settings], io.StringIO]


def test_the_whatsapp_handshake_token_never_reaches_the_access_log(tmp_path: Path) -> None:
    environment = {
        "GUARDIANES_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
        "GUARDIANES_SCHEDULER_ENABLED": "false",
        "WHATSAPP_TOKEN": WHATSAPP_TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": "1234567890",
        "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_API_BASE": "http://127.0.0.1:9/v23.0",  # never called in this test
    }
    with serve_process(tmp_path, environment) as served:
        answer = httpx.get(
            f"{served.base_url}/webhooks/whatsapp",
            params={
                "hub.mode": "subscribe",
                "hub.verify_token": VERIFY_TOKEN,
                "hub.challenge": "1158201444",
            },
        )
        refused = httpx.get(
            f"{served.base_url}/api/v1/guardians",
            headers={"Authorization": f"Bearer {WHATSAPP_TOKEN}"},
        )
    assert answer.status_code == 200 and answer.text == "1158201444"
    assert refused.status_code == 401
    log = served.stderr
    assert "GET /webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=***" in log
    assert "hub.challenge=1158201444" in log
    for secret in (VERIFY_TOKEN, APP_SECRET, WHATSAPP_TOKEN):
        assert secret not in log


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("GET /x?token=abc123&page=2", "GET /x?token=***&page=2"),
        ("GET /x?page=2&client_secret=s3cr3t", "GET /x?page=2&client_secret=***"),
        ("GET /x?api_key=k-99 HTTP/1.1", "GET /x?api_key=*** HTTP/1.1"),
        ("GET /x?password=hunter22&user=ana", "GET /x?password=***&user=ana"),
        (
            "GET /x?hub.verify_token=v&hub.challenge=42",
            "GET /x?hub.verify_token=***&hub.challenge=42",
        ),
        ("Authorization: Bearer gdn_abc.def", "Authorization: ***"),
        ("sent with bearer gdn_abc.def to the API", "sent with bearer *** to the API"),
        (
            f"POST https://api.telegram.org/bot{TELEGRAM_TOKEN}/sendMessage",
            "POST https://api.telegram.org/bot***/sendMessage",
        ),
        ("GET /colonias?limit=10&offset=20", "GET /colonias?limit=10&offset=20"),
    ],
)
def test_the_redactor_masks_secrets_in_urls_and_headers(line: str, expected: str) -> None:
    assert Redactor()(line) == expected


def test_configured_secrets_are_masked_wherever_they_appear(
    settings: Settings, capture_logs: CaptureLogs
) -> None:
    configured = Settings.model_validate(
        {
            **settings.model_dump(),
            "whatsapp_app_secret": APP_SECRET,
            "database_url": "postgresql+asyncpg://guardianes:db-Passw0rd@db.internal/guardianes",
        }
    )
    buffer = capture_logs(configured)
    logger = logging.getLogger("guardianes.test")
    try:
        raise RuntimeError(f"connection with {APP_SECRET} refused for db-Passw0rd")
    except RuntimeError:
        logger.exception("the library said %s", APP_SECRET)
    output = buffer.getvalue()
    assert APP_SECRET not in output
    assert "db-Passw0rd" not in output
    assert "the library said ***" in output
    assert "RuntimeError: connection with *** refused for ***" in output


def test_settings_never_print_their_secrets(settings: Settings) -> None:
    configured = Settings.model_validate(
        {
            **settings.model_dump(),
            "whatsapp_verify_token": VERIFY_TOKEN,
            "whatsapp_app_secret": APP_SECRET,
            "telegram_bot_token": TELEGRAM_TOKEN,
            "metrics_token": "metrics-token-abcdef",
        }
    )
    printed = f"{configured} {configured!r} {configured.model_dump()}"
    for secret in (VERIFY_TOKEN, APP_SECRET, TELEGRAM_TOKEN, "metrics-token-abcdef"):
        assert secret not in printed
    assert set(secret_values(configured)) >= {VERIFY_TOKEN, APP_SECRET, TELEGRAM_TOKEN}


async def test_lines_logged_in_a_request_carry_its_id() -> None:
    buffer = io.StringIO()
    handler = build_handler("json", stream=buffer)
    logger = logging.getLogger("guardianes.test.request")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    app = FastAPI()
    app.add_middleware(RequestIdMiddleware)

    @app.get("/work")
    async def work() -> dict[str, str]:
        logger.info("working")
        return {}

    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client:
            given = await client.get("/work", headers={"X-Request-ID": "from-proxy-1"})
            made = await client.get("/work", headers={"X-Request-ID": "bad id with spaces"})
    finally:
        logger.removeHandler(handler)
    entries = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert given.headers["X-Request-ID"] == "from-proxy-1"
    assert made.headers["X-Request-ID"] != "bad id with spaces"
    assert [e["request_id"] for e in entries] == ["from-proxy-1", made.headers["X-Request-ID"]]


async def test_lines_logged_while_processing_an_update_carry_its_id(demo_runtime: Runtime) -> None:
    buffer = io.StringIO()
    handler = build_handler("text", stream=buffer)
    logger = logging.getLogger("guardianes.services.inbound")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    chat = ChatDriver(demo_runtime, user_id="ids-1")
    try:
        await chat.text("hola")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    line = buffer.getvalue().strip()
    assert "[update=webchat:ids-1-" in line
    assert line.endswith("processing a text message")
