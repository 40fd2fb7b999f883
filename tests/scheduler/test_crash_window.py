"""Broadcast honesty: after a crash, what may arrive twice is bounded by what was in flight.

A process sending a broadcast through a slow platform (each answer takes a while) is
killed mid-broadcast: its tasks stop where they are, nothing more is recorded. Another
process takes over once the dead one's leases expire. Every recipient gets the message;
the only ones who get it twice are those whose send the platform had already accepted
while its SENT mark was not committed (the sends in flight at the kill), and there are at
most `GUARDIANES_OUTBOX_MAX_IN_FLIGHT` of those.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from guardianes.bot.telegram.channel import TelegramChannel
from guardianes.bot.telegram.runner import build_bot
from guardianes.config import Settings
from guardianes.domain.enums import OutboxStatus
from guardianes.scheduler.outbox import OutboxSender
from guardianes.scheduler.reminders import BroadcastDispatcher
from guardianes.services import broadcasts as broadcasts_service
from guardianes.services.runtime import Runtime
from guardianes.storage.db import create_engine, create_session_factory, unit_of_work
from guardianes.storage.models import OutboxMessage
from guardianes.storage.repositories.broadcasts import RecipientFilter
from guardianes.storage.types import utcnow
from tests.fakes.telegram_server import FakeTelegramServer

from .conftest import add_guardians, telegram_settings

RECIPIENTS = 80
SLOW_ANSWER_SECONDS = 0.3  # the platform delivers at once and answers this much later
LEASE = timedelta(seconds=5)
SEND_TIMEOUT = 2.0
MAX_IN_FLIGHT = 6
KILL_AFTER = 30  # messages the platform received before the kill


@asynccontextmanager
async def process(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, clock_offset: timedelta
) -> AsyncIterator[OutboxSender]:
    """One service process: its own Bot and runtime; its clock `clock_offset` ahead."""
    bot = build_bot(settings)
    runtime = Runtime(
        settings=settings,
        engine=sessions.kw["bind"],
        sessions=sessions,
        catalog=None,  # type: ignore[arg-type]
        forms=None,  # type: ignore[arg-type]
        gazetteer=None,  # type: ignore[arg-type]
        channels={"telegram": TelegramChannel(bot)},
    )
    try:
        yield OutboxSender(
            runtime,
            lease=LEASE,
            send_timeout=SEND_TIMEOUT,
            max_in_flight=MAX_IN_FLIGHT,
            clock=lambda: utcnow() + clock_offset,
        )
    finally:
        await bot.session.close()


@asynccontextmanager
async def slow_platform() -> AsyncIterator[FakeTelegramServer]:
    """The fake Bot API answering every message `SLOW_ANSWER_SECONDS` after taking it."""
    fake = FakeTelegramServer()
    fake.send_delay = SLOW_ANSWER_SECONDS
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


async def test_a_crash_mid_broadcast_repeats_at_most_the_sends_in_flight(
    session_factory: async_sessionmaker[AsyncSession],
    other_process_sessions: async_sessionmaker[AsyncSession],
    database_url: str,
    tmp_path: Path,
) -> None:
    await add_guardians(session_factory, RECIPIENTS)
    async with unit_of_work(session_factory) as session:
        broadcast, _ = await broadcasts_service.create_broadcast(
            session, text="Jornada de limpieza", recipients=RecipientFilter(), created_by="t"
        )
    async with slow_platform() as fake:
        settings = telegram_settings(tmp_path, fake)
        doomed = create_engine(database_url)  # the process that will die, with its connections
        async with process(create_session_factory(doomed), settings, timedelta(0)) as first:
            await BroadcastDispatcher(first.runtime).run_once()
            running = asyncio.create_task(first.run_forever())
            await fake.wait_for(lambda: len(fake.sent()) >= KILL_AFTER, within=30.0)
            running.cancel()  # kill -9: every task stops where it is...
            await asyncio.gather(running, return_exceptions=True)
        await doomed.dispose()  # ...and the system closes its database connections
        received_before_restart = {c.params["chat_id"] for c in fake.sent()}
        # In flight at the kill: the platform has the message, its SENT mark is not there.
        in_flight = received_before_restart - await _recorded_chats(session_factory)

        # The next process starts after the dead one's leases ran out.
        async with process(other_process_sessions, settings, LEASE) as second:
            await second.run_until_idle()

        per_chat = Counter(c.params["chat_id"] for c in fake.sent())
    twice = [chat for chat, count in per_chat.items() if count > 1]
    async with session_factory() as session:
        report = await broadcasts_service.progress(session, broadcast.id)

    assert len(per_chat) == RECIPIENTS  # nobody lost
    assert set(twice) == in_flight  # exactly those, and no one else, got it twice
    assert len(in_flight) <= MAX_IN_FLIGHT
    assert len(received_before_restart) < RECIPIENTS  # it really died mid-broadcast
    assert report.sent == RECIPIENTS
    print(f"in flight at the kill: {len(in_flight)}; recipients who got it twice: {len(twice)}")


async def _recorded_chats(sessions: async_sessionmaker[AsyncSession]) -> set[int]:
    """Chats whose message is marked SENT."""
    async with sessions() as session:
        addresses = await session.execute(
            select(OutboxMessage.address).where(OutboxMessage.status == OutboxStatus.SENT)
        )
        return {int(address) for address in addresses.scalars()}


async def test_a_send_longer_than_its_timeout_is_retried_and_may_arrive_twice(
    session_factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    await add_guardians(session_factory, 1)
    async with unit_of_work(session_factory) as session:
        await broadcasts_service.create_broadcast(
            session, text="Aviso", recipients=RecipientFilter(), created_by="t"
        )
    async with slow_platform() as fake:
        fake.send_delay = 1.0
        settings = telegram_settings(tmp_path, fake)
        async with process(session_factory, settings, timedelta(0)) as sender:
            sender.send_timeout = 0.2
            await BroadcastDispatcher(sender.runtime).run_once()
            await sender.deliver_batch()  # no answer in time: rescheduled, outcome unknown
            due = await sender.next_due()
            assert due is not None
            fake.send_delay = 0.0
            sender.clock = lambda: due + timedelta(seconds=1)
            await sender.run_until_idle()
    assert len(fake.sent()) == 2  # the documented at-least-once: it had arrived
