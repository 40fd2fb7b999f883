"""End to end: aiogram polling the fake Bot API → inbound pipeline → engine → outbox → Telegram."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from guardianes.bot.telegram.names import STATE_ATTRIBUTE
from guardianes.bot.telegram.plugin import TelegramPlugin
from guardianes.bot.telegram.runner import TelegramTransport
from guardianes.domain.enums import GuardianStatus, OutboxStatus
from guardianes.runtime.channels import start_channels
from guardianes.services.runtime import Runtime
from guardianes.storage.models import Guardian, InboundEvent, OutboxMessage, Submission
from tests.fakes.telegram_server import ALICE, Call, FakeTelegramServer, Fault

from .conftest import JPEG_BYTES, Live

PARK = (28.6330, -106.0850)  # inside "Parque Demo Lerdo" of the sample data


async def rows(runtime: Runtime, model: Any) -> list[Any]:
    async with runtime.sessions() as session:
        return list((await session.execute(select(model).order_by(model.id))).scalars())


async def fill_park_card_until_photos(live: Live) -> None:
    """Register, open the park card and answer every question before the photos."""
    await live.register()
    await live.press("Llenar")
    await live.press("Tarjeta de parques y áreas verdes")
    asked = await live.location(*PARK)
    assert "Parque Demo Lerdo" in asked[-1].params["text"]
    await live.press("Sí, es ese")
    for answer in ("No", "Mal", "Mucha", "Sí"):
        await live.press(answer)
    await live.text("3")
    for answer in ("Bien", "Regular", "Mal", "Bien"):
        await live.press(answer)
    await live.text("0")


async def finish_park_card(live: Live) -> list[Call]:
    """Close the photos, rate and comment."""
    await live.press("Listo")
    await live.press("2")
    return await live.text("Hay vidrios en el arenero")


async def submitted_files(live: Live, settings) -> list[bytes]:
    async with live.runtime.sessions() as session:
        query = select(Submission).options(selectinload(Submission.media))
        [submission] = (await session.execute(query)).scalars()
    return sorted((settings.media_dir / m.path).read_bytes() for m in submission.media)


async def test_a_guardian_registers_and_files_a_park_card_with_two_photos(live: Live, settings):
    await fill_park_card_until_photos(live)
    await live.photo(JPEG_BYTES + b"first")
    await live.photo(JPEG_BYTES + b"second")
    thanks = await finish_park_card(live)
    assert any("Guardamos tu tarjeta" in c.params["text"] for c in thanks)
    assert await submitted_files(live, settings) == [JPEG_BYTES + b"first", JPEG_BYTES + b"second"]


async def test_an_album_keeps_every_photo_of_the_card(live: Live, settings):
    await fill_park_card_until_photos(live)
    replies = await live.send(
        live.fake.updates.album(ALICE, [JPEG_BYTES + b"1", JPEG_BYTES + b"2"])
    )
    assert len(replies) == 1  # one confirmation for the whole album
    await finish_park_card(live)
    assert await submitted_files(live, settings) == [JPEG_BYTES + b"1", JPEG_BYTES + b"2"]


async def test_pressed_questions_lose_their_buttons(live: Live):
    await live.text("hola")
    await live.press("Español")
    closes = [c for c in live.fake.calls("editMessageReplyMarkup") if c.ok]
    assert len(closes) == 1
    assert live.fake.last_keyboard_message(ALICE.id) is not None  # the next question's


async def test_the_same_update_twice_is_processed_once(live: Live):
    update = live.fake.updates.text(ALICE, "hola")
    first = await live.send(update)
    second = await live.redeliver(update)
    assert first
    assert second == []
    assert len(await rows(live.runtime, InboundEvent)) == 1


async def test_a_sticker_in_the_middle_of_a_card_is_answered_and_the_card_goes_on(live: Live):
    await live.register()
    await live.press("Llenar")
    await live.press("Tarjeta de parques y áreas verdes")
    answer = await live.send(live.fake.updates.sticker(ALICE))
    assert answer  # a polite reply
    asked = await live.location(*PARK)
    assert "Parque Demo Lerdo" in asked[-1].params["text"]


async def test_a_reply_refused_with_429_is_sent_after_retry_after(live: Live):
    live.fake.fail_next("sendMessage", 1, Fault.too_many_requests(1))
    sender = asyncio.create_task(live.sender.run_forever())
    try:
        await live.fake.push(live.fake.updates.text(ALICE, "hola"))
        calls = await live.fake.wait_for_calls("sendMessage", 2, within=10)
    finally:
        sender.cancel()
    assert [c.status for c in calls[:2]] == [429, 200]
    assert calls[0].params["text"] == calls[1].params["text"]


async def test_a_server_error_is_retried_until_sent(live: Live):
    live.fake.fail_next("sendMessage", 1, Fault.server_error())
    sender = asyncio.create_task(live.sender.run_forever())
    try:
        await live.fake.push(live.fake.updates.text(ALICE, "hola"))
        calls = await live.fake.wait_for_calls("sendMessage", 2, within=10)
    finally:
        sender.cancel()
    assert [c.status for c in calls[:2]] == [500, 200]


async def test_a_guardian_who_blocked_the_bot_becomes_unreachable(live: Live):
    await live.register()
    live.fake.fail_next("sendMessage", 1, Fault.blocked())
    await live.text("menu")
    [guardian] = await rows(live.runtime, Guardian)
    assert guardian.status == GuardianStatus.UNREACHABLE
    statuses = [r.status for r in await rows(live.runtime, OutboxMessage)]
    assert OutboxStatus.UNREACHABLE in statuses


async def test_the_lifespan_starter_registers_the_channel_and_polls(
    demo_runtime: Runtime, fake: FakeTelegramServer
):
    from fastapi import FastAPI

    app = FastAPI()
    stoppers = await start_channels(demo_runtime, app)
    try:
        assert "telegram" in demo_runtime.channels
        assert demo_runtime.pacing["telegram"] == TelegramPlugin.pacing(demo_runtime.settings)
        transport = getattr(app.state, STATE_ATTRIBUTE)
        assert isinstance(transport, TelegramTransport)
        await asyncio.wait_for(transport.ready.wait(), 5)
        assert transport.mode == "polling"
        assert [c.method for c in fake.calls()][-1] == "deleteWebhook"
    finally:
        for stop in reversed(stoppers):
            await stop()
