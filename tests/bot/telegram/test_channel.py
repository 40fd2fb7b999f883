"""`TelegramChannel.send` against the fake Bot API: sends, edits, and failure kinds."""

from __future__ import annotations

import pytest
from aiogram import Bot

from guardianes.bot.telegram.channel import TelegramChannel
from guardianes.conversations.messages import Choice, Prompt, PromptKind, text_prompt
from guardianes.services.delivery import Channel, Delivery, FailureKind, SendFailedError
from tests.fakes.telegram_server import ALICE, FakeTelegramServer, Fault

CHAT = str(ALICE.id)
TOGGLE = Prompt(
    kind=PromptKind.CHOICES,
    text="¿Qué falta?",
    choices=(Choice("luz", "Luz"), Choice("agua", "Agua")),
    multiple=True,
    done_payload="__done",
)


@pytest.fixture
def channel(bot: Bot) -> TelegramChannel:
    """The channel under test, on the fake server."""
    return TelegramChannel(bot)


def delivery(prompt: Prompt, *, edit: str | None = None) -> Delivery:
    return Delivery(outbox_id=1, address=CHAT, prompt=prompt, edit_message_id=edit)


async def failure_of(channel: TelegramChannel, fake: FakeTelegramServer, fault: Fault):
    fake.fail_next("sendMessage", 1, fault)
    with pytest.raises(SendFailedError) as raised:
        await channel.send(delivery(text_prompt("Hola")))
    return raised.value


def test_the_channel_satisfies_the_protocol(channel: TelegramChannel) -> None:
    assert isinstance(channel, Channel)
    assert channel.name == "telegram"


async def test_a_text_is_sent_and_its_message_id_returned(channel, fake: FakeTelegramServer):
    result = await channel.send(delivery(text_prompt("Gracias por tu reporte")))
    [sent] = fake.sent(ALICE.id)
    assert sent.params["text"] == "Gracias por tu reporte"
    assert result.platform_message_id == str(fake.chats[ALICE.id].popitem()[0])


async def test_a_long_text_goes_out_in_pieces(channel, fake: FakeTelegramServer):
    await channel.send(delivery(text_prompt("palabra " * 1200)))
    assert len(fake.sent(ALICE.id)) == 3


async def test_choices_go_out_with_an_inline_keyboard(channel, fake: FakeTelegramServer):
    await channel.send(delivery(TOGGLE))
    [sent] = fake.sent(ALICE.id)
    assert sent.button_data() == ["t:luz", "t:agua", "c:__done"]


async def test_a_refreshed_prompt_edits_the_pressed_message(channel, fake: FakeTelegramServer):
    first = await channel.send(delivery(TOGGLE))
    toggled = Prompt(**{**TOGGLE.to_json(), "choices": TOGGLE.choices, "selected": ("luz",)})
    result = await channel.send(delivery(toggled, edit=first.platform_message_id))
    [edit] = fake.calls("editMessageText")
    assert edit.ok
    assert edit.params["message_id"] == int(first.platform_message_id or 0)
    assert "✅ Luz" in [
        b["text"] for row in edit.params["reply_markup"]["inline_keyboard"] for b in row
    ]
    assert len(fake.sent(ALICE.id)) == 1
    assert result.platform_message_id == first.platform_message_id


async def test_an_unchanged_refresh_counts_as_sent(channel, fake: FakeTelegramServer):
    first = await channel.send(delivery(TOGGLE))
    result = await channel.send(delivery(TOGGLE, edit=first.platform_message_id))
    assert not fake.calls("editMessageText")[0].ok  # "message is not modified"
    assert result.platform_message_id == first.platform_message_id
    assert len(fake.sent(ALICE.id)) == 1


async def test_a_refresh_of_a_message_that_cannot_be_edited_is_sent_anew(
    channel, fake: FakeTelegramServer
):
    await channel.send(delivery(TOGGLE, edit="999"))
    assert len(fake.sent(ALICE.id)) == 1


async def test_too_many_requests_is_rate_limited_with_retry_after(channel, fake):
    failure = await failure_of(channel, fake, Fault.too_many_requests(7))
    assert failure.kind == FailureKind.RATE_LIMITED
    assert failure.retry_after == 7


async def test_a_blocked_bot_is_unreachable(channel, fake):
    failure = await failure_of(channel, fake, Fault.blocked())
    assert failure.kind == FailureKind.UNREACHABLE


async def test_a_server_error_is_retried(channel, fake):
    failure = await failure_of(channel, fake, Fault.server_error())
    assert failure.kind == FailureKind.RETRY


async def test_a_dropped_connection_is_retried(channel, fake):
    failure = await failure_of(channel, fake, Fault.dropped_connection())
    assert failure.kind == FailureKind.RETRY


async def test_a_bad_request_is_permanent(channel, fake):
    failure = await failure_of(
        channel, fake, Fault.bad_request("Bad Request: can't parse entities")
    )
    assert failure.kind == FailureKind.PERMANENT


async def test_a_chat_that_does_not_exist_is_unreachable(channel, fake):
    failure = await failure_of(channel, fake, Fault.bad_request("Bad Request: chat not found"))
    assert failure.kind == FailureKind.UNREACHABLE


async def test_an_unreachable_server_is_retried(tg_settings) -> None:
    from guardianes.bot.telegram.runner import build_bot

    settings = tg_settings.model_copy(update={"telegram_api_base": "http://127.0.0.1:9"})
    bot = build_bot(settings)
    try:
        with pytest.raises(SendFailedError) as raised:
            await TelegramChannel(bot).send(delivery(text_prompt("Hola")))
    finally:
        await bot.session.close()
    assert raised.value.kind == FailureKind.RETRY
