"""The console channel: numbered choices, "lat, lon" locations, photos by path."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from guardianes.bot.console import (
    ConsoleChannel,
    ConsoleInputError,
    ConsoleSession,
    numbered_options,
    parse_coordinates,
)
from guardianes.conversations.messages import Command, InboundKind, Prompt, PromptKind
from guardianes.runtime.console import chat_on_console
from guardianes.services.runtime import Runtime
from tests.bot.webchat.conftest import delivery
from tests.web.conftest import make_png


def test_options_are_numbered_choices_then_done_then_skip() -> None:
    prompt = Prompt(
        kind=PromptKind.CHOICES,
        text="?",
        choices=(),
        done_label="Listo",
        done_payload="done",
        skip_label="Omitir",
        skip_payload="skip",
    )
    assert [(o.number, o.choice.payload) for o in numbered_options(prompt)] == [
        (1, "done"),
        (2, "skip"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("28.6353, -106.0889", (28.6353, -106.0889)), ("28.6 -106.1", (28.6, -106.1))],
)
def test_coordinates_are_read_from_lat_lon_text(text: str, expected: tuple[float, float]) -> None:
    point = parse_coordinates(text)
    assert point is not None
    assert (point.latitude, point.longitude) == expected


@pytest.mark.parametrize("text", ["hola", "95, 10", "28.6"])
def test_other_text_is_not_coordinates(text: str) -> None:
    assert parse_coordinates(text) is None


async def test_sent_choices_are_printed_numbered(
    console_channel: ConsoleChannel, screen: Console, park_choices: Prompt
) -> None:
    await console_channel.send(delivery(park_choices))
    printed = screen.export_text()
    assert "1. Sí" in printed
    assert "3. Omitir" in printed


async def test_a_number_answers_the_active_question(
    console_session: ConsoleSession, console_channel: ConsoleChannel, park_choices: Prompt
) -> None:
    await console_channel.send(delivery(park_choices, outbox_id=7))
    inbound = await console_session.parse("2")
    assert inbound is not None
    assert (inbound.kind, inbound.payload, inbound.source_message_id) == (
        InboundKind.CHOICE,
        "no",
        "7",
    )


async def test_a_number_beyond_the_options_is_refused(
    console_session: ConsoleSession, console_channel: ConsoleChannel, park_choices: Prompt
) -> None:
    await console_channel.send(delivery(park_choices))
    with pytest.raises(ConsoleInputError):
        await console_session.parse("9")


async def test_lat_lon_answers_a_location_question(
    console_session: ConsoleSession, console_channel: ConsoleChannel
) -> None:
    await console_channel.send(delivery(Prompt(kind=PromptKind.LOCATION, text="¿Dónde?")))
    inbound = await console_session.parse("28.6332, -106.0850")
    assert inbound is not None
    assert inbound.kind == InboundKind.LOCATION


async def test_a_photo_path_answers_a_photo_question(
    console_session: ConsoleSession, console_channel: ConsoleChannel, tmp_path: Path
) -> None:
    photo = tmp_path / "parque.png"
    photo.write_bytes(make_png())
    await console_channel.send(delivery(Prompt(kind=PromptKind.PHOTO, text="Foto", max_photos=3)))
    inbound = await console_session.parse(str(photo))
    assert inbound is not None
    assert inbound.kind == InboundKind.PHOTO
    assert inbound.photos[0].mime_type == "image/png"


async def test_a_missing_photo_file_is_reported(
    console_session: ConsoleSession, console_channel: ConsoleChannel, tmp_path: Path
) -> None:
    await console_channel.send(delivery(Prompt(kind=PromptKind.PHOTO, text="Foto")))
    with pytest.raises(ConsoleInputError, match=r"nada\.jpg"):
        await console_session.parse(str(tmp_path / "nada.jpg"))


async def test_a_done_word_under_a_photo_question_stays_text(
    console_session: ConsoleSession, console_channel: ConsoleChannel
) -> None:
    await console_channel.send(delivery(Prompt(kind=PromptKind.PHOTO, text="Foto")))
    inbound = await console_session.parse("listo")
    assert inbound is not None
    assert (inbound.kind, inbound.text) == (InboundKind.TEXT, "listo")


async def test_a_slash_word_is_a_command(console_session: ConsoleSession) -> None:
    inbound = await console_session.parse("/cancelar")
    assert inbound is not None
    assert (inbound.kind, inbound.command) == (InboundKind.COMMAND, Command.CANCEL)


async def test_a_first_console_run_greets_with_the_bot_reply(
    demo_runtime: Runtime, screen: Console
) -> None:
    async def no_input(prompt: str) -> str | None:
        return None

    await chat_on_console(demo_runtime, screen, no_input, user_id="ana")
    printed = screen.export_text()
    assert "Guardianes:" in printed
    assert printed.strip().endswith("¡Hasta pronto!")
