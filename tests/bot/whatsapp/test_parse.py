"""Webhook payloads → neutral messages and status updates, in both identifier generations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guardianes.bot.whatsapp.parse import (
    DeliveryState,
    MalformedWebhookError,
    MediaFailedError,
    Sender,
    read_webhook,
    to_inbound,
)
from guardianes.conversations.messages import Command, GeoPoint, InboundKind
from tests.fakes.graph_server import BOTH, CLASSIC, SCOPED_ONLY, Person, WebhookFactory

USER_ID = "stable-user"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "whatsapp"
PYWA_MESSAGES = json.loads((FIXTURES / "pywa_messages.json").read_text(encoding="utf-8"))


async def parse_one(post, media_store):
    [incoming] = read_webhook(post.body).messages
    return await to_inbound(incoming, user_id=USER_ID, fetch_media=media_store)


async def test_text_becomes_text(webhooks: WebhookFactory, media_store):
    inbound = await parse_one(webhooks.text(CLASSIC, "El parque está sucio"), media_store)
    assert inbound.kind == InboundKind.TEXT
    assert inbound.text == "El parque está sucio"
    assert inbound.channel == "whatsapp"
    assert inbound.user_id == USER_ID
    assert inbound.display_name == "Ana López"


async def test_text_keeps_the_message_id_for_deduplication(webhooks, media_store):
    inbound = await parse_one(webhooks.text(CLASSIC, "hola", message_id="wamid.ABC"), media_store)
    assert inbound.external_id == "wamid.ABC"


@pytest.mark.parametrize(
    ("word", "command"),
    [
        ("menú", Command.MENU),
        ("Ayuda", Command.HELP),
        ("cancelar", Command.CANCEL),
        ("/back", Command.BACK),
        ("omitir", Command.SKIP),
    ],
)
async def test_command_words_become_commands(webhooks, media_store, word, command):
    inbound = await parse_one(webhooks.text(CLASSIC, word), media_store)
    assert inbound.kind == InboundKind.COMMAND
    assert inbound.command == command


async def test_a_typed_number_stays_text_for_the_engine(webhooks, media_store):
    inbound = await parse_one(webhooks.text(CLASSIC, "7"), media_store)
    assert inbound.kind == InboundKind.TEXT
    assert inbound.text == "7"


async def test_button_reply_becomes_a_choice_with_our_payload(webhooks, media_store):
    post = webhooks.button_reply(CLASSIC, "q1:yes", "Sí", context_id="wamid.OUT9")
    inbound = await parse_one(post, media_store)
    assert inbound.kind == InboundKind.CHOICE
    assert inbound.payload == "q1:yes"
    assert inbound.source_message_id == "wamid.OUT9"


async def test_list_reply_becomes_a_choice_with_our_payload(webhooks, media_store):
    inbound = await parse_one(webhooks.list_reply(CLASSIC, "q2:c7", "Opción 7"), media_store)
    assert inbound.kind == InboundKind.CHOICE
    assert inbound.payload == "q2:c7"


async def test_template_quick_reply_becomes_a_choice(webhooks, media_store):
    inbound = await parse_one(
        webhooks.template_button(CLASSIC, "continue", "Continuar"), media_store
    )
    assert inbound.kind == InboundKind.CHOICE
    assert inbound.payload == "continue"
    assert inbound.text == "Continuar"


async def test_location_becomes_a_point(webhooks, media_store):
    inbound = await parse_one(
        webhooks.location(CLASSIC, 28.6353, -106.0889, name="Parque"), media_store
    )
    assert inbound.kind == InboundKind.LOCATION
    assert inbound.location == GeoPoint(28.6353, -106.0889)


async def test_image_is_fetched_and_becomes_a_photo_with_its_caption(webhooks, media_store):
    inbound = await parse_one(webhooks.image(CLASSIC, "777", caption="Bancas rotas"), media_store)
    assert inbound.kind == InboundKind.PHOTO
    assert media_store.fetched == ["777"]
    assert [p.path for p in inbound.photos] == ["777.jpg"]
    assert inbound.text == "Bancas rotas"


async def test_several_images_in_one_post_are_several_photo_messages(webhooks, media_store):
    post = webhooks.messages(
        CLASSIC, webhooks.image_entry(CLASSIC, "701"), webhooks.image_entry(CLASSIC, "702")
    )
    batch = read_webhook(post.body)
    inbounds = [
        await to_inbound(m, user_id=USER_ID, fetch_media=media_store) for m in batch.messages
    ]
    assert [i.kind for i in inbounds] == [InboundKind.PHOTO, InboundKind.PHOTO]
    assert media_store.fetched == ["701", "702"]
    assert len({i.external_id for i in inbounds}) == 2


async def test_an_image_refused_for_good_becomes_unsupported(webhooks, media_store):
    media_store.failure = MediaFailedError("not an image", retryable=False)
    inbound = await parse_one(webhooks.image(CLASSIC, "778"), media_store)
    assert inbound.kind == InboundKind.UNSUPPORTED


async def test_an_image_that_may_come_later_raises_to_be_redelivered(webhooks, media_store):
    media_store.failure = MediaFailedError("timeout", retryable=True)
    with pytest.raises(MediaFailedError):
        await parse_one(webhooks.image(CLASSIC, "779"), media_store)


async def test_a_voice_note_is_audio_fetched_and_stored_like_a_photo(webhooks, media_store):
    inbound = await parse_one(webhooks.unsupported(CLASSIC, "audio"), media_store)
    assert inbound.kind == InboundKind.AUDIO
    assert media_store.fetched == ["555"]
    assert [m.path for m in inbound.photos] == ["555.jpg"]


async def test_a_real_voice_note_payload_is_audio(media_store):
    body = PYWA_MESSAGES["payloads"]["voice"]  # pywa's published body, values unchanged
    [incoming] = read_webhook(json.dumps(body).encode()).messages
    inbound = await to_inbound(incoming, user_id=USER_ID, fetch_media=media_store)
    assert inbound.kind == InboundKind.AUDIO
    assert media_store.fetched == ["1234567890987654321"]


async def test_a_voice_note_nobody_asked_for_is_audio_left_on_the_server(webhooks, media_store):
    [incoming] = read_webhook(webhooks.unsupported(CLASSIC, "audio").body).messages
    inbound = await to_inbound(incoming, user_id=USER_ID, fetch_media=media_store, download=False)
    assert inbound.kind == InboundKind.AUDIO
    assert inbound.photos == ()
    assert media_store.fetched == []


async def test_a_voice_note_refused_for_good_is_unsupported(webhooks, media_store):
    media_store.failure = MediaFailedError("media.not_an_image", retryable=False)
    inbound = await parse_one(webhooks.unsupported(CLASSIC, "audio"), media_store)
    assert inbound.kind == InboundKind.UNSUPPORTED


@pytest.mark.parametrize("kind", ["sticker", "video", "document", "contacts", "unsupported"])
async def test_other_message_types_are_unsupported(webhooks, media_store, kind):
    inbound = await parse_one(webhooks.unsupported(CLASSIC, kind), media_store)
    assert inbound.kind == InboundKind.UNSUPPORTED


def test_classic_payload_gives_the_phone_number_as_address(webhooks):
    [incoming] = read_webhook(webhooks.text(CLASSIC, "hola").body).messages
    assert incoming.sender == Sender(wa_id="5216141234567", bsuid=None, name="Ana López")
    assert incoming.sender.address == "5216141234567"


def test_scoped_only_payload_gives_the_scoped_id_as_address(webhooks):
    [incoming] = read_webhook(webhooks.text(SCOPED_ONLY, "hola").body).messages
    assert incoming.sender.wa_id is None
    assert incoming.sender.bsuid == "MX.13491208655302741918"
    assert incoming.sender.address == "MX.13491208655302741918"


def test_payload_with_both_identifiers_keeps_both_and_prefers_the_phone(webhooks):
    [incoming] = read_webhook(webhooks.text(BOTH, "hola").body).messages
    assert incoming.sender.wa_id == "5216141234567"
    assert incoming.sender.bsuid == "MX.13491208655302741918"
    assert incoming.sender.address == "5216141234567"


def test_scoped_id_only_in_contacts_is_enough(webhooks):
    person = Person(wa_id=None, user_id="MX.555")
    entry = webhooks.message(person, "text", {"body": "hola"})
    entry.pop("from_user_id")
    [incoming] = read_webhook(webhooks.messages(person, entry).body).messages
    assert incoming.sender.bsuid == "MX.555"


@pytest.mark.parametrize("person", [CLASSIC, SCOPED_ONLY, BOTH])
@pytest.mark.parametrize("state", ["sent", "delivered", "read"])
def test_statuses_become_status_updates(webhooks, person, state):
    batch = read_webhook(webhooks.status("wamid.OUT1", state, person).body)
    assert batch.messages == ()
    [update] = batch.statuses
    assert update.platform_message_id == "wamid.OUT1"
    assert update.state == DeliveryState(state)


def test_failed_status_carries_its_error(webhooks):
    post = webhooks.status("wamid.OUT2", "failed", error_code=131026, error_title="Undeliverable")
    [update] = read_webhook(post.body).statuses
    assert update.state == DeliveryState.FAILED
    assert update.error_code == 131026
    assert update.error is not None and "131026" in update.error


def test_messages_for_another_number_are_ignored():
    other = WebhookFactory(phone_number_id="999")
    batch = read_webhook(other.text(CLASSIC, "hola").body, phone_number_id="1234567890")
    assert batch.messages == ()


def test_non_json_is_malformed():
    with pytest.raises(MalformedWebhookError):
        read_webhook(b"{not json")


def test_json_that_is_not_a_webhook_is_malformed():
    with pytest.raises(MalformedWebhookError):
        read_webhook(b'{"entry": "nope"}')


def test_meta_escaping_round_trips_accents_and_slashes(webhooks):
    post = webhooks.text(CLASSIC, "Calle 5/Av. Juárez ñ")
    assert b"\\/" in post.body
    assert b"\\u00f1" in post.body
    [incoming] = read_webhook(post.body).messages
    assert incoming.message.text is not None
    assert incoming.message.text.body == "Calle 5/Av. Juárez ñ"
