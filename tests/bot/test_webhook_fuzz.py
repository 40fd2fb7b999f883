"""Both webhooks take random, truncated and absurdly nested bodies with a 4xx, never a 5xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guardianes.bot.telegram.names import STATE_ATTRIBUTE as TELEGRAM_STATE
from guardianes.bot.telegram.runner import TelegramTransport
from guardianes.bot.telegram.webhook import SECRET_HEADER
from guardianes.bot.telegram.webhook import router as telegram_router
from guardianes.bot.whatsapp.parse import WebhookBatch
from guardianes.bot.whatsapp.webhook import STATE_ATTRIBUTE as WHATSAPP_STATE
from guardianes.bot.whatsapp.webhook import WhatsAppWebhook
from guardianes.bot.whatsapp.webhook import router as whatsapp_router
from guardianes.config import Settings
from guardianes.conversations.messages import InboundMessage
from tests.fakes.graph_server import sign

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SECRET = "fuzz-app-secret"
TG_SECRET = "fuzz_secret"
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _real_bodies(folder: str) -> list[bytes]:
    bodies = []
    for path in sorted((FIXTURES / folder).glob("*.json")):
        for payload in json.loads(path.read_text(encoding="utf-8"))["payloads"].values():
            bodies.append(json.dumps(payload).encode())
    return bodies


WHATSAPP_BODIES = _real_bodies("whatsapp")
TELEGRAM_BODIES = _real_bodies("telegram")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


class _Sink:
    """Accepts whatever the parser lets through."""

    async def accept(self, batch: WebhookBatch) -> None:
        """Nothing to do: the parser is what is under test."""


@pytest.fixture
def whatsapp() -> Iterator[TestClient]:
    """An app with only the WhatsApp webhook."""
    app = FastAPI()
    app.include_router(whatsapp_router)
    setattr(
        app.state,
        WHATSAPP_STATE,
        WhatsAppWebhook(verify_token=None, app_secret=SECRET, phone_number_id=None, sink=_Sink()),
    )
    with TestClient(app) as client:
        yield client


@pytest.fixture
def telegram(tmp_path: Path) -> Iterator[TestClient]:
    """An app with only the Telegram webhook, in front of the real transport."""

    async def store(_inbound: InboundMessage) -> bool:
        return True

    settings_ = Settings(
        _env_file=None,  # type: ignore[call-arg]
        media_dir=tmp_path / "media",
        telegram_bot_token="123456:fuzz-token",  # type: ignore[arg-type]
        telegram_api_base="http://127.0.0.1:9",
        telegram_webhook_url="https://example.org/webhooks/telegram",
        telegram_webhook_secret=TG_SECRET,  # type: ignore[arg-type]
    )
    app = FastAPI()
    app.include_router(telegram_router)
    setattr(app.state, TELEGRAM_STATE, TelegramTransport(settings_, store))
    with TestClient(app) as client:
        yield client


def _whatsapp_post(client: TestClient, body: bytes) -> int:
    response = client.post(
        "/webhooks/whatsapp", content=body, headers={"X-Hub-Signature-256": sign(SECRET, body)}
    )
    return response.status_code


def _telegram_post(client: TestClient, body: bytes) -> int:
    response = client.post(
        "/webhooks/telegram",
        content=body,
        headers={SECRET_HEADER: TG_SECRET, "Content-Type": "application/json"},
    )
    return response.status_code


@FUZZ
@given(body=st.binary(max_size=2000))
def test_whatsapp_random_bytes_are_never_a_server_error(whatsapp: TestClient, body: bytes) -> None:
    assert _whatsapp_post(whatsapp, body) < 500


@FUZZ
@given(value=json_values)
def test_whatsapp_random_json_is_never_a_server_error(whatsapp: TestClient, value: Any) -> None:
    assert _whatsapp_post(whatsapp, json.dumps(value).encode()) < 500


@FUZZ
@given(data=st.data())
def test_whatsapp_truncated_real_bodies_are_never_a_server_error(
    whatsapp: TestClient, data: st.DataObject
) -> None:
    body = data.draw(st.sampled_from(WHATSAPP_BODIES))
    cut = data.draw(st.integers(min_value=0, max_value=len(body) - 1))  # truncated
    assert _whatsapp_post(whatsapp, body[:cut]) < 500


@FUZZ
@given(body=st.binary(max_size=2000))
def test_telegram_random_bytes_are_never_a_server_error(telegram: TestClient, body: bytes) -> None:
    assert _telegram_post(telegram, body) < 500


@FUZZ
@given(value=json_values, update_id=st.integers(min_value=-(2**70), max_value=2**70))
def test_telegram_random_updates_are_never_a_server_error(
    telegram: TestClient, value: Any, update_id: int
) -> None:
    body = {"update_id": update_id, "message": value}
    assert _telegram_post(telegram, json.dumps(body).encode()) < 500


@FUZZ
@given(data=st.data())
def test_telegram_truncated_real_updates_are_never_a_server_error(
    telegram: TestClient, data: st.DataObject
) -> None:
    body = data.draw(st.sampled_from(TELEGRAM_BODIES))
    cut = data.draw(st.integers(min_value=0, max_value=len(body) - 1))  # truncated
    assert _telegram_post(telegram, body[:cut]) < 500


@pytest.mark.parametrize("opening", [b"[", b'{"a":'])
def test_json_nested_100000_deep_is_a_400_on_both_webhooks(
    whatsapp: TestClient, telegram: TestClient, opening: bytes
) -> None:
    closing = b"]" if opening == b"[" else b"}"
    body = opening * 100_000 + b"1" + closing * 100_000

    assert _whatsapp_post(whatsapp, body) == 400
    assert _telegram_post(telegram, body) == 400
