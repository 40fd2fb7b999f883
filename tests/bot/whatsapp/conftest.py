"""Fixtures of the WhatsApp adapter tests: a fake Graph API on loopback, a client, webhook posts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI

from guardianes.bot.whatsapp.client import WhatsAppClient
from guardianes.bot.whatsapp.parse import MediaFailedError, WebhookBatch
from guardianes.bot.whatsapp.webhook import STATE_ATTRIBUTE, WhatsAppWebhook, router
from guardianes.config import Settings
from guardianes.conversations.messages import StoredMedia
from tests.fakes.graph_server import FakeGraphServer, WebhookFactory

APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
PHONE_NUMBER_ID = "1234567890"
# The smallest JPEG header the media store recognises, plus some bytes.
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraphServer]:
    """A fake Graph API listening on 127.0.0.1."""
    server = FakeGraphServer(token="test-token", phone_number_id=PHONE_NUMBER_ID)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def wa_client(graph: FakeGraphServer) -> AsyncIterator[WhatsAppClient]:
    """A client pointed at the fake Graph API."""
    client = WhatsAppClient(
        api_base=graph.base_url, token=graph.token, phone_number_id=graph.phone_number_id
    )
    yield client
    await client.aclose()


@pytest.fixture
def webhooks() -> WebhookFactory:
    """Builds signed webhook posts shaped like Meta's."""
    return WebhookFactory(app_secret=APP_SECRET, phone_number_id=PHONE_NUMBER_ID)


@pytest.fixture
def wa_settings(tmp_path, graph: FakeGraphServer) -> Settings:
    """Settings with WhatsApp pointed at the fake Graph API."""
    return Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
        media_dir=tmp_path / "media",
        forms_dir=None,
        scheduler_enabled=False,
        telegram_bot_token=None,
        whatsapp_api_base=graph.base_url,
        whatsapp_token=graph.token,
        whatsapp_phone_number_id=PHONE_NUMBER_ID,
        whatsapp_verify_token=VERIFY_TOKEN,
        whatsapp_app_secret=APP_SECRET,
    )


@dataclass
class RecordingSink:
    """A webhook sink that keeps what it was given, optionally failing like a media outage."""

    batches: list[WebhookBatch] = field(default_factory=list)
    fail_with: Exception | None = None

    async def accept(self, batch: WebhookBatch) -> None:
        """Record the batch (or fail)."""
        if self.fail_with is not None:
            raise self.fail_with
        self.batches.append(batch)


@pytest.fixture
def sink() -> RecordingSink:
    """Where the webhook under test hands what it verified."""
    return RecordingSink()


@pytest.fixture
async def webhook_http(sink: RecordingSink) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of an app mounting only the WhatsApp webhook router."""
    app = FastAPI()
    app.include_router(router)
    setattr(
        app.state,
        STATE_ATTRIBUTE,
        WhatsAppWebhook(
            verify_token=VERIFY_TOKEN,
            app_secret=APP_SECRET,
            phone_number_id=PHONE_NUMBER_ID,
            sink=sink,
        ),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@dataclass
class FakeMediaStore:
    """A media fetcher that "stores" by returning a description, or fails as told."""

    fetched: list[str] = field(default_factory=list)
    failure: MediaFailedError | None = None

    async def __call__(self, media_id: str) -> StoredMedia:
        """Describe the media as stored."""
        if self.failure is not None:
            raise self.failure
        self.fetched.append(media_id)
        return StoredMedia(
            sha256=f"{len(self.fetched):064d}",
            mime_type="image/jpeg",
            size=10,
            path=f"{media_id}.jpg",
        )


@pytest.fixture
def media_store() -> FakeMediaStore:
    """A media fetcher for parse tests."""
    return FakeMediaStore()


@pytest.fixture
async def wa_runtime(session_factory, wa_settings: Settings, wa_client: WhatsAppClient):
    """A runtime on the test database whose only channel is WhatsApp on the fake Graph API."""
    from guardianes.bot.whatsapp.channel import WhatsAppChannel
    from guardianes.services.runtime import Runtime

    runtime = Runtime(
        settings=wa_settings,
        engine=session_factory.kw["bind"],
        sessions=session_factory,
        catalog=None,  # type: ignore[arg-type]
        forms=None,  # type: ignore[arg-type]
        gazetteer=None,  # type: ignore[arg-type]
        channels={"whatsapp": WhatsAppChannel(wa_client, wa_settings)},
    )
    yield runtime


@pytest.fixture
async def pipeline_http(session_factory, wa_settings: Settings, wa_client: WhatsAppClient):
    """An app whose WhatsApp webhook stores into the test database as inbound events.

    The store records events exactly as the inbound service does (UNIQUE channel+external_id),
    without running the engine.
    """
    from guardianes.bot.whatsapp.inbound import WhatsAppInbound, media_fetcher
    from guardianes.conversations.messages import InboundMessage
    from guardianes.storage.db import unit_of_work
    from guardianes.storage.repositories import inbound as inbound_repo

    async def store(inbound: InboundMessage) -> bool:
        async with unit_of_work(session_factory) as session:
            event_id = await inbound_repo.record_event(
                session,
                channel=inbound.channel,
                external_id=inbound.external_id,
                conversation_key=f"{inbound.channel}:{inbound.user_id}",
                payload=inbound.to_json(),
            )
        return event_id is not None

    app = FastAPI()
    app.include_router(router)
    setattr(
        app.state,
        STATE_ATTRIBUTE,
        WhatsAppWebhook(
            verify_token=VERIFY_TOKEN,
            app_secret=APP_SECRET,
            phone_number_id=PHONE_NUMBER_ID,
            sink=WhatsAppInbound(
                sessions=session_factory,
                fetch_media=media_fetcher(wa_client, wa_settings),
                store=store,
            ),
        ),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
