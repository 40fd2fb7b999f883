"""The transport's start-up, long polling and webhook registration against the fake server."""

from __future__ import annotations

import asyncio

from guardianes.bot.telegram.runner import ALLOWED_UPDATES, TelegramTransport
from guardianes.conversations.messages import InboundKind
from tests.fakes.telegram_server import ALICE, BOB, FakeTelegramServer, Fault

from .conftest import JPEG_BYTES, WEBHOOK_SECRET, WEBHOOK_URL, RecordingStore


async def test_commands_are_registered_in_spanish_and_english(
    polling: TelegramTransport, fake: FakeTelegramServer
):
    await fake.wait_for_calls("setMyCommands", 3)
    assert set(fake.commands) == {"", "es", "en"}
    english = {c["command"]: c["description"] for c in fake.commands["en"]}
    spanish = {c["command"]: c["description"] for c in fake.commands["es"]}
    assert english["cancel"] == "Cancel what I am doing"
    assert spanish["cancel"] == "Cancelar lo que estoy haciendo"
    assert fake.commands[""] == fake.commands["es"]


async def test_polling_stores_updates_and_confirms_them(
    polling, fake: FakeTelegramServer, store: RecordingStore
):
    await fake.push(fake.updates.text(ALICE, "hola"), fake.updates.command(ALICE, "menu"))
    messages = await store.wait_for(2)
    assert [m.kind for m in messages] == [InboundKind.TEXT, InboundKind.COMMAND]
    await fake.wait_until_consumed()
    assert fake.calls("getUpdates")[0].params["allowed_updates"] == ALLOWED_UPDATES


async def test_polling_deletes_a_leftover_webhook_first(
    transport: TelegramTransport, fake: FakeTelegramServer, store: RecordingStore
):
    fake.webhook = {"url": "https://old.example.org/hook"}  # getUpdates answers 409 meanwhile
    await transport.start()
    await fake.push(fake.updates.text(ALICE, "hola"))
    await store.wait_for(1)
    assert fake.webhook is None
    assert all(c.ok for c in fake.calls("getUpdates"))


async def test_an_update_whose_photo_failed_is_fetched_again(
    polling, fake: FakeTelegramServer, store: RecordingStore
):
    fake.fail_next("getFile", 1, Fault.server_error())
    await fake.push(fake.updates.photo(ALICE, JPEG_BYTES), fake.updates.text(ALICE, "listo"))
    messages = await store.wait_for(2)
    assert [m.kind for m in messages] == [InboundKind.PHOTO, InboundKind.TEXT]
    assert len(fake.calls("getFile")) == 2


async def test_an_update_delivered_twice_is_stored_once(
    polling, fake: FakeTelegramServer, store: RecordingStore
):
    update = fake.updates.text(ALICE, "hola")
    await fake.push(update)
    await store.wait_for(1)
    await fake.push(update, fake.updates.text(ALICE, "siguiente"))
    messages = await store.wait_for(2)
    assert [m.text for m in messages] == ["hola", "siguiente"]


async def test_polling_survives_a_getupdates_outage(
    polling, fake: FakeTelegramServer, store: RecordingStore
):
    fake.fail_next("getUpdates", 2, Fault.server_error())
    await fake.push(fake.updates.text(ALICE, "hola"))
    [message] = await store.wait_for(1)
    assert message.text == "hola"


async def test_edits_and_group_messages_are_never_stored(
    polling, fake: FakeTelegramServer, store: RecordingStore
):
    await fake.push(
        fake.updates.edited_text(ALICE, "corregido", message_id=1),
        fake.updates.group_text(ALICE, "hola grupo"),
        fake.updates.text(ALICE, "hola bot"),
    )
    messages = await store.wait_for(1)
    await fake.wait_until_consumed()
    assert [m.text for m in messages] == ["hola bot"]


async def test_webhook_mode_registers_the_webhook_with_its_secret(
    webhook_transport: TelegramTransport, fake: FakeTelegramServer
):
    await webhook_transport.start()
    await asyncio.wait_for(webhook_transport.ready.wait(), 5)
    assert fake.webhook is not None
    assert fake.webhook["url"] == WEBHOOK_URL
    assert fake.webhook["secret_token"] == WEBHOOK_SECRET
    assert fake.webhook["allowed_updates"] == ALLOWED_UPDATES
    assert fake.calls("getUpdates") == []


async def test_a_webhook_without_configured_secret_gets_a_random_one(tmp_path, fake, store):
    from .conftest import make_settings

    settings = make_settings(tmp_path, fake, telegram_webhook_url=WEBHOOK_URL)
    transport = TelegramTransport(settings, store)
    try:
        await transport.start()
        await asyncio.wait_for(transport.ready.wait(), 5)
    finally:
        await transport.stop()
    assert transport.webhook_secret
    assert fake.webhook is not None
    assert fake.webhook["secret_token"] == transport.webhook_secret


async def test_one_persons_failed_photo_does_not_hold_another_persons_message(
    polling, fake: FakeTelegramServer, store: RecordingStore
):
    fake.fail_next("getFile", 1, Fault.server_error())
    await fake.push(
        fake.updates.photo(ALICE, JPEG_BYTES),
        fake.updates.text(ALICE, "listo"),
        fake.updates.text(BOB, "hello"),
    )
    messages = await store.wait_for(3)
    assert [m.text for m in messages if m.user_id == str(BOB.id)] == ["hello"]
    alice = [m.kind for m in messages if m.user_id == str(ALICE.id)]
    assert alice == [InboundKind.PHOTO, InboundKind.TEXT]  # her order held through the retry
    assert messages[0].user_id == str(BOB.id)  # he did not wait for her retry
