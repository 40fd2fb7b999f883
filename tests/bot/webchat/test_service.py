"""Turning the page's posts into neutral inbound messages."""

from __future__ import annotations

import uuid

import pytest

from guardianes.bot.webchat.service import ChatPost, PostKind, WebChatInputError, build_inbound
from guardianes.conversations.messages import Command, InboundKind

USER = "u" * 24


def _post(kind: PostKind, **fields) -> ChatPost:
    return ChatPost(user_id=USER, client_id=str(uuid.uuid4()), kind=kind, **fields)


def test_the_external_id_is_scoped_to_the_browser() -> None:
    post = _post(PostKind.TEXT, text="hola")
    assert build_inbound(post).external_id == f"{USER}:{post.client_id}"


def test_a_slash_word_becomes_a_command() -> None:
    inbound = build_inbound(_post(PostKind.TEXT, text="/ayuda"))
    assert inbound.kind == InboundKind.COMMAND
    assert inbound.command == Command.HELP


def test_an_unknown_slash_word_stays_text() -> None:
    inbound = build_inbound(_post(PostKind.TEXT, text="/2 personas"))
    assert inbound.kind == InboundKind.TEXT


def test_a_choice_carries_its_payload_and_the_pressed_message() -> None:
    inbound = build_inbound(_post(PostKind.CHOICE, payload="c:1", source_message_id="17"))
    assert (inbound.kind, inbound.payload, inbound.source_message_id) == (
        InboundKind.CHOICE,
        "c:1",
        "17",
    )


def test_a_location_becomes_a_geopoint() -> None:
    inbound = build_inbound(_post(PostKind.LOCATION, latitude=28.63, longitude=-106.08))
    assert inbound.location is not None
    assert (inbound.location.latitude, inbound.location.longitude) == (28.63, -106.08)


def test_a_location_without_longitude_is_refused() -> None:
    with pytest.raises(WebChatInputError):
        build_inbound(_post(PostKind.LOCATION, latitude=28.63))


def test_a_photo_post_without_files_is_refused() -> None:
    with pytest.raises(WebChatInputError):
        build_inbound(_post(PostKind.PHOTO))


def test_an_unknown_command_is_refused() -> None:
    with pytest.raises(WebChatInputError):
        build_inbound(_post(PostKind.COMMAND, command="reboot"))


def test_blank_text_is_refused() -> None:
    with pytest.raises(WebChatInputError):
        build_inbound(_post(PostKind.TEXT, text="   "))
