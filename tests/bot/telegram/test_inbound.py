"""Updates fed to the transport: photos downloaded and stored, albums merged, presses answered."""

from __future__ import annotations

from typing import Any

import pytest

from guardianes.bot.telegram.names import MediaFailedError
from guardianes.bot.telegram.runner import TelegramTransport
from guardianes.conversations.messages import InboundKind, InboundMessage
from guardianes.services.intake import MediaDecision
from tests.fakes.telegram_server import ALICE, BOB, FakeTelegramServer, Fault, UpdateFactory

from .conftest import JPEG_BYTES, PNG_BYTES, RecordingStore, make_settings

OGG_BYTES = b"OggS\x00\x02" + b"\x00" * 64  # the start of an Ogg Opus voice note
VOICE_FILE_ID = "AwACAgEAAxkBAAIBvoice"  # the fake's voice note


async def test_the_largest_photo_size_is_downloaded_and_stored(
    transport: TelegramTransport, fake, as_update, store: RecordingStore, tg_settings
):
    data = fake.updates.photo(ALICE, JPEG_BYTES, caption="Juegos rotos")
    await transport.feed_update(as_update(data))
    [inbound] = store.messages
    assert inbound.kind == InboundKind.PHOTO
    assert inbound.text == "Juegos rotos"
    [photo] = inbound.photos
    assert (tg_settings.media_dir / photo.path).read_bytes() == JPEG_BYTES
    assert fake.downloads == [data["message"]["photo"][-1]["file_id"]]


async def test_an_image_document_is_stored_as_a_photo(transport, updates, as_update, store):
    await transport.feed_update(
        as_update(updates.document(ALICE, PNG_BYTES, mime_type="image/png"))
    )
    [inbound] = store.messages
    assert inbound.kind == InboundKind.PHOTO
    assert inbound.photos[0].mime_type == "image/png"


async def test_a_file_that_is_not_really_an_image_is_unsupported(
    transport, updates, as_update, store
):
    await transport.feed_update(as_update(updates.document(ALICE, b"MZ\x90\x00 not a photo")))
    [inbound] = store.messages
    assert inbound.kind == InboundKind.UNSUPPORTED


async def test_a_voice_note_is_downloaded_and_stored_like_a_photo(
    transport, fake: FakeTelegramServer, as_update, store: RecordingStore, tg_settings
):
    fake.updates.add_file(OGG_BYTES, folder="voice", extension="oga", file_id=VOICE_FILE_ID)
    await transport.feed_update(as_update(fake.updates.voice(ALICE)))
    [inbound] = store.messages
    assert inbound.kind == InboundKind.AUDIO
    [audio] = inbound.photos
    assert audio.mime_type == "audio/ogg"
    assert (tg_settings.media_dir / audio.path).read_bytes() == OGG_BYTES
    assert fake.downloads == [VOICE_FILE_ID]


async def test_a_voice_note_the_gate_declines_is_audio_left_on_telegram(
    tg_settings, fake: FakeTelegramServer, as_update, store: RecordingStore
):
    asked: list[tuple[Any, ...]] = []

    async def gate(*args: Any) -> MediaDecision:
        asked.append(args)
        return MediaDecision.DECLINE

    transport = TelegramTransport(tg_settings, store, gate=gate)
    try:
        await transport.feed_update(as_update(fake.updates.voice(ALICE)))
    finally:
        await transport.stop()
    [inbound] = store.messages
    assert inbound.kind == InboundKind.AUDIO
    assert inbound.photos == ()
    assert asked[0][2] is InboundKind.AUDIO
    assert fake.downloads == []


async def test_a_photo_over_the_size_limit_is_unsupported_without_downloading(
    tmp_path, fake: FakeTelegramServer, store: RecordingStore, as_update
):
    settings = make_settings(tmp_path, fake, max_photo_bytes=32)
    transport = TelegramTransport(settings, store)
    try:
        await transport.feed_update(as_update(fake.updates.photo(ALICE, JPEG_BYTES)))
    finally:
        await transport.stop()
    [inbound] = store.messages
    assert inbound.kind == InboundKind.UNSUPPORTED
    assert fake.downloads == []


async def test_a_passing_download_failure_is_raised_for_a_retry(
    transport, fake: FakeTelegramServer, updates, as_update, store
):
    fake.fail_next("getFile", 1, Fault.server_error())
    with pytest.raises(MediaFailedError) as raised:
        await transport.feed_update(as_update(updates.photo(ALICE, JPEG_BYTES)))
    assert raised.value.retryable
    assert store.messages == []


async def test_an_album_is_one_photo_message_with_every_photo_in_order(
    transport, updates: UpdateFactory, as_update, store: RecordingStore, tg_settings
):
    parts = updates.album(ALICE, [JPEG_BYTES + b"1", JPEG_BYTES + b"2", JPEG_BYTES + b"3"])
    for part in parts:
        await transport.feed_update(as_update(part))
    [inbound] = await store.wait_for(1)
    assert inbound.kind == InboundKind.PHOTO
    stored = [(tg_settings.media_dir / p.path).read_bytes() for p in inbound.photos]
    assert stored == [JPEG_BYTES + b"1", JPEG_BYTES + b"2", JPEG_BYTES + b"3"]
    assert inbound.external_id == f"tg:{parts[0]['update_id']}"


async def test_an_album_part_delivered_twice_is_kept_once(transport, updates, as_update, store):
    parts = updates.album(ALICE, [JPEG_BYTES + b"1", JPEG_BYTES + b"2"])
    for part in [parts[0], parts[0], parts[1]]:
        await transport.feed_update(as_update(part))
    [inbound] = await store.wait_for(1)
    assert len(inbound.photos) == 2


async def test_a_message_right_after_an_album_is_stored_after_the_album(
    transport, updates, as_update, store
):
    for part in updates.album(ALICE, [JPEG_BYTES + b"1", JPEG_BYTES + b"2"]):
        await transport.feed_update(as_update(part))
    await transport.feed_update(as_update(updates.text(ALICE, "listo")))
    kinds = [m.kind for m in store.messages]
    assert kinds == [InboundKind.PHOTO, InboundKind.TEXT]


async def test_albums_of_two_people_stay_apart(transport, updates, as_update, store):
    for part in updates.album(ALICE, [JPEG_BYTES + b"a"]) + updates.album(BOB, [JPEG_BYTES + b"b"]):
        await transport.feed_update(as_update(part))
    messages = await store.wait_for(2)
    assert sorted(m.user_id for m in messages) == [str(ALICE.id), str(BOB.id)]


async def test_stopping_stores_an_album_still_collecting(
    tmp_path, fake: FakeTelegramServer, store: RecordingStore, as_update
):
    transport = TelegramTransport(make_settings(tmp_path, fake), store, album_window=3600)
    for part in fake.updates.album(ALICE, [JPEG_BYTES + b"1", JPEG_BYTES + b"2"]):
        await transport.feed_update(as_update(part))
    assert store.messages == []
    await transport.stop()
    [inbound] = store.messages
    assert len(inbound.photos) == 2


async def test_a_press_is_answered_and_its_keyboard_queued_for_closing(
    transport, fake: FakeTelegramServer, as_update, store, keyboards
):
    updates = fake.updates
    data = updates.callback(BOB, "c:si")
    await transport.feed_update(as_update(data))
    [answer] = fake.calls("answerCallbackQuery")
    assert answer.ok
    assert answer.params["callback_query_id"] == data["callback_query"]["id"]
    message_id = str(data["callback_query"]["message"]["message_id"])
    assert keyboards.closed == [(str(BOB.id), message_id)]
    assert fake.calls("editMessageReplyMarkup") == []  # the outbox edits it, paced
    assert store.messages[0].payload == "si"


async def test_a_toggle_is_answered_but_keeps_its_keyboard(
    transport, fake: FakeTelegramServer, updates, as_update, keyboards
):
    await transport.feed_update(as_update(updates.callback(BOB, "t:luz")))
    assert len(fake.calls("answerCallbackQuery")) == 1
    assert keyboards.closed == []


async def test_a_repeated_press_is_answered_once_and_stored_once(
    transport, fake: FakeTelegramServer, as_update, store, keyboards
):
    updates = fake.updates
    update = as_update(updates.callback(BOB, "c:si"))
    await transport.feed_update(update)
    await transport.feed_update(update)
    assert len(store.messages) == 1
    [answer] = fake.calls("answerCallbackQuery")
    assert answer.ok
    assert len(keyboards.closed) == 1


async def test_a_press_is_answered_before_it_is_stored(
    transport, fake: FakeTelegramServer, updates, as_update, store: RecordingStore
):
    answers_when_stored: list[int] = []

    async def slow_store(inbound: InboundMessage) -> bool:
        answers_when_stored.append(len(fake.calls("answerCallbackQuery")))
        return await store(inbound)

    transport.inbound.store = slow_store
    await transport.feed_update(as_update(updates.callback(BOB, "c:si")))
    assert answers_when_stored == [1]


async def test_a_press_is_answered_even_when_storing_fails(
    transport, fake: FakeTelegramServer, updates, as_update, store: RecordingStore
):
    store.fail_with = RuntimeError("database down")
    with pytest.raises(RuntimeError):
        await transport.feed_update(as_update(updates.callback(BOB, "c:si")))
    assert len(fake.calls("answerCallbackQuery")) == 1


async def test_a_press_in_a_group_is_answered_and_nothing_stored(
    transport, fake: FakeTelegramServer, updates, as_update, store
):
    group = {"id": -100777, "type": "supergroup", "title": "Vecinos"}
    await transport.feed_update(as_update(updates.callback(ALICE, "c:x", chat=group)))
    assert store.messages == []
    assert len(fake.calls("answerCallbackQuery")) == 1
