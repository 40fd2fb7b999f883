"""Updates read into neutral messages: every kind, and what is ignored."""

from __future__ import annotations

import pytest

from guardianes.bot.telegram.parse import FileRef, read_update
from guardianes.conversations.messages import Command, GeoPoint, InboundKind
from tests.fakes.telegram_server import ALICE, BOB, UpdateFactory

from .conftest import JPEG_BYTES


def test_a_text_becomes_a_text_message_keyed_by_update_id(updates: UpdateFactory, as_update):
    data = updates.text(ALICE, "Hola, quiero reportar")
    incoming = read_update(as_update(data))
    assert incoming is not None
    inbound = incoming.inbound
    assert inbound.kind == InboundKind.TEXT
    assert inbound.text == "Hola, quiero reportar"
    assert inbound.external_id == f"tg:{data['update_id']}"
    assert (inbound.channel, inbound.user_id, inbound.address) == ("telegram", "5100001", "5100001")
    assert inbound.display_name == "Alicia Domínguez"
    assert inbound.language_code == "es-MX"


@pytest.mark.parametrize(
    ("word", "command"),
    [
        ("start", Command.START),
        ("menu", Command.MENU),
        ("help", Command.HELP),
        ("cancel", Command.CANCEL),
        ("back", Command.BACK),
        ("skip", Command.SKIP),
        ("staff", Command.STAFF),
    ],
)
def test_slash_commands_become_commands(updates, as_update, word: str, command: Command):
    incoming = read_update(as_update(updates.command(ALICE, word)))
    assert incoming is not None
    assert incoming.inbound.kind == InboundKind.COMMAND
    assert incoming.inbound.command == command


def test_a_command_keeps_its_arguments(updates, as_update):
    incoming = read_update(as_update(updates.command(ALICE, "start", "colonia-centro")))
    assert incoming is not None
    assert incoming.inbound.command == Command.START
    assert incoming.inbound.command_args == "colonia-centro"


def test_a_button_press_becomes_a_choice_with_its_payload(updates, as_update):
    data = updates.callback(BOB, "c:parque_limpio")
    incoming = read_update(as_update(data))
    assert incoming is not None
    assert incoming.inbound.kind == InboundKind.CHOICE
    assert incoming.inbound.payload == "parque_limpio"
    assert incoming.inbound.source_message_id == str(
        data["callback_query"]["message"]["message_id"]
    )
    assert incoming.closes_keyboard is True


def test_a_multi_select_toggle_keeps_its_keyboard(updates, as_update):
    incoming = read_update(as_update(updates.callback(BOB, "t:luz")))
    assert incoming is not None
    assert incoming.inbound.payload == "luz"
    assert incoming.closes_keyboard is False


def test_a_shared_location_becomes_a_location(updates, as_update):
    incoming = read_update(as_update(updates.location(ALICE, 28.6353, -106.0889)))
    assert incoming is not None
    assert incoming.inbound.kind == InboundKind.LOCATION
    assert incoming.inbound.location == GeoPoint(28.6353, -106.0889)


def test_a_venue_becomes_a_location_named_by_its_title(updates, as_update):
    incoming = read_update(as_update(updates.venue(ALICE, 28.64, -106.07, "Parque Lerdo")))
    assert incoming is not None
    assert incoming.inbound.kind == InboundKind.LOCATION
    assert incoming.inbound.text == "Parque Lerdo"


def test_a_photo_refers_to_its_largest_size(updates, as_update):
    data = updates.photo(ALICE, JPEG_BYTES, caption="Bancas rotas")
    incoming = read_update(as_update(data))
    assert incoming is not None
    largest = data["message"]["photo"][-1]
    assert incoming.inbound.kind == InboundKind.PHOTO
    assert incoming.inbound.text == "Bancas rotas"
    assert incoming.photo == FileRef(
        largest["file_id"], largest["file_unique_id"], 68, "image/jpeg"
    )


def test_an_image_sent_as_a_document_is_a_photo(updates, as_update):
    incoming = read_update(as_update(updates.document(ALICE, JPEG_BYTES, mime_type="image/png")))
    assert incoming is not None
    assert incoming.inbound.kind == InboundKind.PHOTO
    assert incoming.photo is not None
    assert incoming.photo.mime_type == "image/png"


def test_a_document_that_is_not_an_image_is_unsupported(updates, as_update):
    data = updates.document(ALICE, b"%PDF-1.7", mime_type="application/pdf", file_name="a.pdf")
    incoming = read_update(as_update(data))
    assert incoming is not None
    assert incoming.inbound.kind == InboundKind.UNSUPPORTED
    assert incoming.photo is None


def test_album_parts_carry_their_media_group(updates, as_update):
    parts = [read_update(as_update(u)) for u in updates.album(ALICE, [JPEG_BYTES, JPEG_BYTES])]
    groups = {p.media_group_id for p in parts if p is not None}
    assert len(groups) == 1
    assert None not in groups


def test_a_voice_note_is_audio_with_its_file_to_fetch_like_a_photo(updates, as_update):
    incoming = read_update(as_update(updates.voice(ALICE)))
    assert incoming is not None
    assert incoming.inbound.kind == InboundKind.AUDIO
    assert incoming.photo == FileRef("AwACAgEAAxkBAAIBvoice", "AgADvoice", None, "audio/ogg")


def test_an_audio_file_is_audio_with_its_file_to_fetch(updates, as_update):
    incoming = read_update(as_update(updates.audio(ALICE)))
    assert incoming is not None
    assert incoming.inbound.kind == InboundKind.AUDIO
    assert incoming.photo is not None
    assert incoming.photo.mime_type == "audio/mpeg"


@pytest.mark.parametrize("kind", ["sticker", "video", "contact", "poll"])
def test_other_content_is_unsupported(updates, as_update, kind: str):
    incoming = read_update(as_update(getattr(updates, kind)(ALICE)))
    assert incoming is not None
    assert incoming.inbound.kind == InboundKind.UNSUPPORTED


def test_an_edited_message_is_ignored(updates, as_update):
    assert read_update(as_update(updates.edited_text(ALICE, "corregido", message_id=3))) is None


def test_a_group_message_is_ignored(updates, as_update):
    assert read_update(as_update(updates.group_text(ALICE, "hola a todos"))) is None


def test_a_press_in_a_group_is_ignored(updates, as_update):
    group = {"id": -100777, "type": "supergroup", "title": "Vecinos"}
    assert read_update(as_update(updates.callback(ALICE, "c:x", chat=group))) is None


def test_a_service_notice_is_ignored(updates, as_update):
    notice = updates.message(ALICE, write_access_allowed={"from_request": True})
    assert read_update(as_update(notice)) is None
