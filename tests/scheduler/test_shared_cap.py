"""Two sender processes of one bot on one database: together they stay under the bot's cap.

Each process has its own engine, runtime, aiogram `Bot` and worker id, as two service
processes would. They pace through the database (`SharedPacer`), on the real clock,
against the fake Bot API enforcing Telegram's caps: it answers no 429, and every row is
sent exactly once. Runs on PostgreSQL (separate engines on one database) and on SQLite.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from guardianes.bot.registry import channel_pacing
from guardianes.bot.telegram.channel import TelegramChannel
from guardianes.bot.telegram.runner import build_bot
from guardianes.config import Settings
from guardianes.conversations.messages import text_prompt
from guardianes.domain.enums import OutboxKind
from guardianes.scheduler.outbox import OutboxSender
from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import OutboxMessage
from guardianes.storage.repositories import outbox as outbox_repo
from tests.fakes.telegram_server import FakeTelegramServer, RateLimits

from .conftest import telegram_settings

ROWS = 150  # five seconds at 30/s: enough to leave the burst far behind
REAL_SECONDS_ALLOWED = 60.0


@asynccontextmanager
async def sender_process(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, name: str
) -> AsyncIterator[OutboxSender]:
    """One process sending as the bot: its own Bot, runtime and sender, running."""
    bot = build_bot(settings)
    runtime = Runtime(
        settings=settings,
        engine=sessions.kw["bind"],
        sessions=sessions,
        catalog=None,  # type: ignore[arg-type]
        forms=None,  # type: ignore[arg-type]
        gazetteer=None,  # type: ignore[arg-type]
        channels={"telegram": TelegramChannel(bot)},
        pacing=channel_pacing(settings),
    )
    sender = OutboxSender(runtime, worker_id=name)
    sender.start()
    try:
        yield sender
    finally:
        await sender.stop(grace=5.0)
        await bot.session.close()


async def test_two_sender_processes_together_see_no_429(
    session_factory: async_sessionmaker[AsyncSession],
    other_process_sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    fake = FakeTelegramServer()
    fake.enforce_limits(RateLimits())  # the real clock: 30/s overall, ~1/s per chat
    await fake.start()
    try:
        async with unit_of_work(session_factory) as session:
            for n in range(ROWS):
                await outbox_repo.enqueue(
                    session,
                    channel="telegram",
                    address=str(1_000 + n),
                    payload=text_prompt("Jornada de limpieza el sábado").to_json(),
                    kind=OutboxKind.BROADCAST,
                )
        settings = telegram_settings(tmp_path, fake)
        async with (
            sender_process(session_factory, settings, "one"),
            sender_process(other_process_sessions, settings, "two"),
        ):
            await fake.wait_for(lambda: len(fake.sent()) >= ROWS, within=REAL_SECONDS_ALLOWED)
    finally:
        await fake.stop()

    assert [c for c in fake.calls() if c.status == 429] == []
    per_chat = Counter(c.params["chat_id"] for c in fake.sent())
    assert set(per_chat.values()) == {1}
    assert len(per_chat) == ROWS
    async with session_factory() as session:
        counts = await outbox_repo.count_by_status(session)
    assert counts == {"sent": ROWS}
    senders = Counter(await _claimed_by(session_factory))
    assert set(senders) == {"one", "two"}  # both processes did part of the work


async def _claimed_by(sessions: async_sessionmaker[AsyncSession]) -> list[str | None]:
    async with sessions() as session:
        return list((await session.execute(select(OutboxMessage.claimed_by))).scalars())
