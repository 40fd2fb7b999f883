"""The web chat channel confirms sends and wakes the long-polls of that chat only."""

from __future__ import annotations

import asyncio

from guardianes.bot.webchat.channel import WebChatChannel
from guardianes.conversations.messages import text_prompt
from guardianes.services.delivery import Channel, Delivery


def _delivery(outbox_id: int, address: str = "browser-a") -> Delivery:
    return Delivery(outbox_id=outbox_id, address=address, prompt=text_prompt(f"m{outbox_id}"))


def test_webchat_channel_satisfies_the_channel_protocol() -> None:
    assert isinstance(WebChatChannel(), Channel)


async def test_send_confirms_with_the_outbox_id_as_platform_id() -> None:
    result = await WebChatChannel().send(_delivery(42))
    assert result.platform_message_id == "42"


async def test_send_wakes_a_listener_of_the_same_chat() -> None:
    channel = WebChatChannel()
    with channel.listening("browser-a") as event:
        waiting = asyncio.create_task(channel.wait(event, 5.0))
        await channel.send(_delivery(1))
        assert await asyncio.wait_for(waiting, 1.0) is True


async def test_send_to_another_chat_does_not_wake_a_listener() -> None:
    channel = WebChatChannel()
    with channel.listening("browser-a") as event:
        await channel.send(_delivery(1, address="browser-b"))
        assert await channel.wait(event, 0.05) is False


async def test_confirmed_after_lists_only_newer_deliveries_of_that_chat() -> None:
    channel = WebChatChannel()
    for outbox_id in (1, 2, 3):
        await channel.send(_delivery(outbox_id))
    await channel.send(_delivery(4, address="browser-b"))
    assert [c.outbox_id for c in channel.confirmed_after("browser-a", 1)] == [2, 3]


async def test_idle_listeners_are_forgotten() -> None:
    channel = WebChatChannel()
    with channel.listening("browser-a") as event:
        await channel.wait(event, 0.01)
    with channel.listening("browser-a"):
        pass
    assert channel._listeners == {}
