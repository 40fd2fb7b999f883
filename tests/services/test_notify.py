"""Wake-ups between workers: a web chat reply sent by one worker reaches another's long-poll."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from guardianes.bot.webchat.service import read_messages, webchat_channel
from guardianes.conversations.messages import text_prompt
from guardianes.services.delivery import Delivery
from guardianes.services.notify import LocalNotifier, PostgresNotifier, asyncpg_dsn
from guardianes.services.runtime import Runtime

WITHIN = 10.0


async def test_the_local_notifier_calls_every_subscriber() -> None:
    notifier = LocalNotifier()
    heard: list[str] = []
    notifier.subscribe(heard.append)
    notifier.subscribe(lambda text: heard.append(text.upper()))
    assert await notifier.publish("chat-1")
    assert heard == ["chat-1", "CHAT-1"]


def test_only_postgresql_urls_have_a_listen_notify_dsn() -> None:
    assert asyncpg_dsn("sqlite+aiosqlite:///var/app.db") is None
    assert asyncpg_dsn("postgresql+asyncpg://bot:secret@db:5432/guardianes") == (
        "postgresql://bot:secret@db:5432/guardianes"
    )


async def test_a_notice_published_by_one_process_reaches_another(postgres_url: str) -> None:
    dsn = asyncpg_dsn(postgres_url)
    assert dsn is not None
    sender, listener = (
        PostgresNotifier(dsn, "guardianes_test"),
        PostgresNotifier(dsn, "guardianes_test"),
    )
    await sender.start()
    await listener.start()
    heard: asyncio.Queue[str] = asyncio.Queue()
    listener.subscribe(heard.put_nowait)
    try:
        assert await sender.publish("chat-7")
        assert await asyncio.wait_for(heard.get(), WITHIN) == "chat-7"
    finally:
        await sender.close()
        await listener.close()


async def test_a_reply_sent_by_one_worker_wakes_the_long_poll_of_another(
    webchat_workers: Callable[[], Awaitable[Runtime]],
) -> None:
    sending, waiting = await webchat_workers(), await webchat_workers()
    poll = asyncio.create_task(read_messages(waiting, "web-7", after_id=0, wait_seconds=WITHIN))
    channel = webchat_channel(sending)
    assert channel is not None
    await channel.send(Delivery(outbox_id=901, address="web-7", prompt=text_prompt("Hola")))
    messages = await asyncio.wait_for(poll, WITHIN)
    assert [(m.id, m.prompt.text) for m in messages] == [(901, "Hola")]
