"""Real Telegram updates (published by wagtail-live and kutana) replayed through the transport.

Updates go through `TelegramTransport.feed_webhook` (what the webhook route calls) or the
webhook route itself, into the real inbound store and engine; files come from the fake Bot
API on loopback.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select

from guardianes.bot.telegram.names import STATE_ATTRIBUTE
from guardianes.bot.telegram.parse import CHANNEL
from guardianes.bot.telegram.runner import TelegramTransport
from guardianes.bot.telegram.webhook import SECRET_HEADER, router
from guardianes.domain.enums import InboundStatus
from guardianes.services.inbound import accept_inbound
from guardianes.services.intake import media_decision, note_event
from guardianes.services.runtime import Runtime
from guardianes.storage.models import InboundEvent, OutboxMessage
from guardianes.storage.repositories import guardians as guardians_repo
from tests.chat_driver import ChatDriver
from tests.fakes.telegram_server import FakeTelegramServer
from tests.services.conftest import register
from tests.web.conftest import make_png

from .conftest import ALBUM_WINDOW, WEBHOOK_SECRET, WEBHOOK_URL

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "telegram"
TESTER = "100"  # the private chat of wagtail-live's updates
# `feed` closes albums itself; the window only has to outlast the gap between two parts fed
# in a row, which on a loaded machine (tests in parallel) can exceed the usual 0.05 s.
FED_ALBUM_WINDOW = 5.0


def update(file: str, name: str) -> dict[str, Any]:
    """One named update of a fixture file (a fresh copy)."""
    document = json.loads((FIXTURES / file).read_text(encoding="utf-8"))
    assert document["_source"]["repository"].startswith("https://github.com/")
    return copy.deepcopy(document["payloads"][name])


@pytest.fixture
async def transport(
    demo_runtime: Runtime, fake: FakeTelegramServer
) -> AsyncIterator[TelegramTransport]:
    """The transport in webhook mode, wired to the runtime as the service wires it."""
    settings = demo_runtime.settings.model_copy(
        update={
            "telegram_webhook_url": WEBHOOK_URL,
            "telegram_webhook_secret": SecretStr(WEBHOOK_SECRET),
        }
    )
    value = TelegramTransport(
        settings,
        partial(accept_inbound, demo_runtime),
        album_window=FED_ALBUM_WINDOW,
        gate=partial(media_decision, demo_runtime, CHANNEL),
        note=partial(note_event, demo_runtime, CHANNEL),
    )
    demo_runtime.channels[value.channel.name] = value.channel
    yield value
    await value.stop()


@pytest.fixture
async def feed(transport: TelegramTransport, demo_runtime: Runtime) -> Any:
    """Feed updates and wait until their albums are stored and processed."""

    async def send(*updates: dict[str, Any]) -> None:
        for data in updates:
            await transport.feed_webhook(data)
        await transport.inbound.albums.flush_all()
        await demo_runtime.drain()

    return send


@pytest.fixture
async def webhook(transport: TelegramTransport) -> AsyncIterator[httpx.AsyncClient]:
    """The webhook route in front of the transport."""
    app = FastAPI()
    app.include_router(router)
    setattr(app.state, STATE_ATTRIBUTE, transport)
    client_transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=client_transport,
        base_url="http://telegram.test",
        headers={SECRET_HEADER: WEBHOOK_SECRET},
    ) as client:
        yield client


async def events(runtime: Runtime) -> list[InboundEvent]:
    async with runtime.sessions() as session:
        return list(
            (await session.execute(select(InboundEvent).order_by(InboundEvent.id))).scalars()
        )


async def replies(runtime: Runtime) -> list[OutboxMessage]:
    async with runtime.sessions() as session:
        return list(
            (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars()
        )


async def test_a_private_text_message_is_stored_and_answered(
    feed: Any, demo_runtime: Runtime
) -> None:
    await feed(update("wagtail_live_updates.json", "message"))

    [event] = await events(demo_runtime)
    assert (event.external_id, event.status) == ("tg:1", InboundStatus.PROCESSED)
    assert {row.address for row in await replies(demo_runtime)} == {TESTER}


@pytest.mark.parametrize(
    ("file", "name", "kind"),
    [
        ("wagtail_live_updates.json", "edited_message", "edit"),
        ("wagtail_live_updates.json", "channel_post", "other"),
        ("kutana_updates.json", "not_message", "other"),
    ],
)
async def test_edits_and_channel_posts_are_noted_not_answered(
    feed: Any, demo_runtime: Runtime, file: str, name: str, kind: str
) -> None:
    await feed(update(file, name))

    [event] = await events(demo_runtime)
    assert (event.status, event.kind) == (InboundStatus.NOTED, kind)
    assert await replies(demo_runtime) == []


async def test_a_group_message_gets_no_answer(feed: Any, demo_runtime: Runtime) -> None:
    await feed(update("kutana_updates.json", "group_message"))

    assert await replies(demo_runtime) == []


async def test_an_update_aiogram_cannot_validate_is_logged_with_its_id_and_answered_200(
    webhook: httpx.AsyncClient, demo_runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        response = await webhook.post(
            "/webhooks/telegram", json=update("kutana_updates.json", "image_without_file_unique_id")
        )

    assert response.status_code == 200
    assert "210473608" in caplog.text and "file_unique_id" in caplog.text
    [event] = await events(demo_runtime)
    assert (event.external_id, event.status, event.kind) == (
        "tg:210473608",
        InboundStatus.NOTED,
        "unreadable",
    )


async def test_a_press_on_a_keyboard_not_ours_is_answered_once(
    feed: Any, fake: FakeTelegramServer
) -> None:
    await feed(update("kutana_updates.json", "callback_query_1"))

    assert len(fake.calls("answerCallbackQuery")) == 1


async def test_an_album_nobody_asked_for_is_not_downloaded(
    feed: Any, demo_runtime: Runtime, fake: FakeTelegramServer
) -> None:
    await feed(
        update("wagtail_live_updates.json", "media_message_1"),
        update("wagtail_live_updates.json", "media_message_2"),
    )

    assert fake.downloads == []
    assert [e.external_id for e in await events(demo_runtime) if e.kind == "message"] == ["tg:7"]


async def _at_the_photo_question(runtime: Runtime) -> None:
    chat = ChatDriver(runtime, user_id=TESTER, channel="telegram")
    await register(chat)
    await chat.press("Llenar una tarjeta")
    await chat.press("parques")
    await chat.location(28.6355, -106.089)
    await chat.press("Sí, es ese")
    for label in ("Sí", "Bien", "Nada", "No", "Bien", "Bien", "Bien", "Bien"):
        await chat.press(label)
    await chat.press("Omitir")


async def _pending(runtime: Runtime) -> list[dict[str, Any]]:
    async with runtime.sessions() as session:
        stored = await guardians_repo.load_state(session, "telegram", TESTER)
    assert stored is not None
    pending: list[dict[str, Any]] = stored.state["form"]["pending"]
    return pending


@pytest.fixture
def album_files(fake: FakeTelegramServer) -> None:
    """The largest size of each album photo, as the fake Bot API's files."""
    fake.updates.add_file(make_png(rgb=(1, 2, 3)), file_id="eAADIAQ")
    fake.updates.add_file(make_png(rgb=(4, 5, 6)), file_id="CAAN5AAMgBA")


async def test_an_album_the_question_asks_for_keeps_its_caption_with_both_photos(
    feed: Any, demo_runtime: Runtime, fake: FakeTelegramServer, album_files: None
) -> None:
    await _at_the_photo_question(demo_runtime)

    await feed(
        update("wagtail_live_updates.json", "media_message_1"),
        update("wagtail_live_updates.json", "media_message_2"),
    )

    assert sorted(fake.downloads) == ["CAAN5AAMgBA", "eAADIAQ"]
    pending = await _pending(demo_runtime)
    assert [photo["caption"] for photo in pending] == ["This is a media image."] * 2


async def test_an_album_part_redelivered_late_is_processed_once_and_not_downloaded_again(
    feed: Any, demo_runtime: Runtime, fake: FakeTelegramServer, album_files: None
) -> None:
    await _at_the_photo_question(demo_runtime)
    await feed(
        update("wagtail_live_updates.json", "media_message_1"),
        update("wagtail_live_updates.json", "media_message_2"),
    )
    downloads = len(fake.downloads)

    await feed(update("wagtail_live_updates.json", "media_message_2"))

    assert len(fake.downloads) == downloads
    assert len(await _pending(demo_runtime)) == 2
    kinds = {
        e.external_id: e.kind
        for e in await events(demo_runtime)
        if e.external_id in {"tg:7", "tg:8"}
    }
    assert kinds == {"tg:7": "message", "tg:8": "album_part"}


async def test_a_single_photo_keeps_its_caption(
    feed: Any, demo_runtime: Runtime, fake: FakeTelegramServer
) -> None:
    fake.updates.add_file(make_png(), file_id="eAADIAQ")
    await _at_the_photo_question(demo_runtime)

    await feed(update("wagtail_live_updates.json", "image_message"))

    assert [photo["caption"] for photo in await _pending(demo_runtime)] == [
        "This is an image message."
    ]


async def test_polling_reads_around_an_update_aiogram_cannot_validate(
    demo_runtime: Runtime, fake: FakeTelegramServer, caplog: pytest.LogCaptureFixture
) -> None:
    polling = TelegramTransport(
        demo_runtime.settings,
        partial(accept_inbound, demo_runtime),
        album_window=ALBUM_WINDOW,
        poll_timeout=1,
        retry_delay=0.01,
        note=partial(note_event, demo_runtime, CHANNEL),
    )
    await polling.start()
    try:
        await polling.ready.wait()
        with caplog.at_level(logging.WARNING):
            await fake.push(
                update("kutana_updates.json", "image_without_file_unique_id"),
                update("kutana_updates.json", "message"),
            )
            await fake.wait_until_consumed()
        await demo_runtime.drain()
    finally:
        await polling.stop()

    found = {event.external_id: event.kind for event in await events(demo_runtime)}
    assert found == {"tg:210473608": "unreadable", "tg:210473607": "message"}
    assert "210473608" in caplog.text
