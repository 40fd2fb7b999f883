"""Telegram hygiene: no edit that changes nothing, presses answered once and in time.

The fake Bot API refuses, as Telegram does, an edit to what a message already shows and a
second or late answer to a callback query; the channel never makes those calls.
"""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest

from guardianes.bot.telegram.channel import CLOSE_KEYBOARD, TelegramChannel
from guardianes.conversations.messages import Choice, Prompt, PromptKind
from guardianes.services.delivery import Delivery, ShownMessage
from tests.fakes.telegram_server import ALICE, FakeTelegramServer

CHAT = str(ALICE.id)
DAYS = Prompt(
    kind=PromptKind.CHOICES,
    text="¿Qué días pasa el camión?",
    choices=(Choice("0", "Lunes"), Choice("1", "Martes")),
    multiple=True,
    done_payload="done",
)


@pytest.fixture
def channel(bot: Bot) -> TelegramChannel:
    """The channel under test, on the fake server."""
    return TelegramChannel(bot)


async def _sent_keyboard(channel: TelegramChannel, prompt: Prompt) -> str:
    result = await channel.send(Delivery(outbox_id=1, address=CHAT, prompt=prompt))
    assert result.platform_message_id is not None
    return result.platform_message_id


def _edit(prompt: Prompt, message_id: str, shown: ShownMessage | None, kind: str = "reply"):
    return Delivery(
        outbox_id=2,
        address=CHAT,
        prompt=prompt,
        kind=kind,
        edit_message_id=message_id,
        shown=shown,
    )


async def test_an_edit_to_what_the_message_shows_is_not_sent(
    channel: TelegramChannel, fake: FakeTelegramServer
) -> None:
    message_id = await _sent_keyboard(channel, DAYS)
    result = await channel.send(_edit(DAYS, message_id, ShownMessage(DAYS, "es")))
    assert result.platform_message_id == message_id
    assert fake.calls("editMessageText") == []


async def test_an_edit_that_changes_the_keyboard_is_sent(
    channel: TelegramChannel, fake: FakeTelegramServer
) -> None:
    message_id = await _sent_keyboard(channel, DAYS)
    monday = Prompt(
        kind=DAYS.kind,
        text=DAYS.text,
        choices=DAYS.choices,
        multiple=True,
        selected=("0",),
        done_payload="done",
        refresh=True,
    )
    await channel.send(_edit(monday, message_id, ShownMessage(DAYS, "es")))
    [edit] = fake.calls("editMessageText")
    assert edit.ok


async def test_closing_a_keyboard_already_closed_makes_no_call(
    channel: TelegramChannel, fake: FakeTelegramServer
) -> None:
    message_id = await _sent_keyboard(channel, DAYS)
    await channel.send(_edit(DAYS, message_id, ShownMessage(DAYS, "es"), CLOSE_KEYBOARD))
    closed = ShownMessage(Prompt(kind=PromptKind.DONE, text=""), "es", keyboard_closed=True)
    await channel.send(_edit(DAYS, message_id, closed, CLOSE_KEYBOARD))
    [close] = fake.calls("editMessageReplyMarkup")
    assert close.ok


async def test_a_refresh_of_a_closed_keyboard_goes_out_as_a_new_message(
    channel: TelegramChannel, fake: FakeTelegramServer
) -> None:
    message_id = await _sent_keyboard(channel, DAYS)
    closed = ShownMessage(Prompt(kind=PromptKind.DONE, text=""), "es", keyboard_closed=True)
    result = await channel.send(_edit(DAYS, message_id, closed))
    assert fake.calls("editMessageText") == []
    assert result.platform_message_id != message_id
    assert len(fake.sent(ALICE.id)) == 2


async def test_the_fake_refuses_an_edit_that_changes_nothing(
    bot: Bot, fake: FakeTelegramServer
) -> None:
    sent = await bot.send_message(ALICE.id, "Hola")
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("Hola", chat_id=ALICE.id, message_id=sent.message_id)


async def test_the_fake_refuses_a_second_answer_to_a_press(
    bot: Bot, fake: FakeTelegramServer
) -> None:
    query_id = fake.updates.callback(ALICE, "c:si")["callback_query"]["id"]
    assert await bot.answer_callback_query(query_id)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id)


async def test_the_fake_refuses_a_late_answer_to_a_press(
    bot: Bot, fake: FakeTelegramServer
) -> None:
    fake.callback_answer_timeout = 0.0
    query_id = fake.updates.callback(ALICE, "c:si")["callback_query"]["id"]
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id)
