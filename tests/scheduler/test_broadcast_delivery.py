"""Broadcasts through the outbox at Telegram's caps: nothing lost, nothing twice, resumable.

The platform is the fake Bot API (a real HTTP server) enforcing Telegram's caps, reached
through the production channel (aiogram). Pacers, the fake's caps, the sender and the
dispatcher share one virtual clock, so 2,000 messages at 30/s take a minute of virtual
time and a few seconds of real time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from guardianes.bot.registry import channel_pacing
from guardianes.config import Settings
from guardianes.domain.enums import DeliveryStatus, GuardianStatus, OutboxStatus
from guardianes.scheduler.pacing import pacers_from_specs
from guardianes.services import broadcasts as broadcasts_service
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import BroadcastDelivery, Guardian, OutboxMessage
from guardianes.storage.repositories.broadcasts import RecipientFilter
from tests.fakes.telegram_server import FakeTelegramServer, Fault
from tests.scheduler.conftest import (
    VirtualClock,
    add_colonia,
    add_guardians,
    telegram_process,
    telegram_settings,
)

RECIPIENTS = 2000
TELEGRAM_RATE = 30.0
TELEGRAM_BURST = 30
REAL_SECONDS_ALLOWED = 120.0  # a bound on real time: the pacing itself is virtual
RESTART_SECONDS = 5.0  # how long the dead process stays down (virtual)


async def _broadcast_to_all(sessions: async_sessionmaker[AsyncSession], expected: int) -> int:
    async with unit_of_work(sessions) as session:
        broadcast, count = await broadcasts_service.create_broadcast(
            session, text="Hola, guardianes", recipients=RecipientFilter(), created_by="test"
        )
    assert count == expected
    return broadcast.id


def _messages_per_chat(fake: FakeTelegramServer) -> Counter[int]:
    """How many messages each chat received (sendMessage calls answered 200)."""
    return Counter(call.params["chat_id"] for call in fake.sent())


async def _count(sessions: async_sessionmaker[AsyncSession], statement) -> int:
    async with sessions() as session:
        return int((await session.execute(statement)).scalar_one())


async def test_a_broadcast_to_2000_guardians_stays_under_telegram_caps(
    session_factory, tmp_path: Path, clock: VirtualClock, telegram: FakeTelegramServer
) -> None:
    colonia_id = await add_colonia(session_factory, "Centro")
    await add_guardians(session_factory, RECIPIENTS, colonia_id=colonia_id)
    broadcast_id = await _broadcast_to_all(session_factory, RECIPIENTS)

    settings = telegram_settings(tmp_path, telegram)
    async with telegram_process(session_factory, settings, clock) as process:
        report = await process.run_broadcast(broadcast_id, within=REAL_SECONDS_ALLOWED)

    assert telegram.limits is not None and telegram.limits.refused <= 1  # at most one 429
    per_chat = _messages_per_chat(telegram)
    assert set(per_chat) == set(range(1, RECIPIENTS + 1))  # 0 lost
    assert max(per_chat.values()) == 1  # 0 duplicates
    assert clock.now >= (RECIPIENTS - TELEGRAM_BURST) / TELEGRAM_RATE  # really paced at 30/s
    assert (report.status, report.sent, report.failed, report.unreachable) == (
        "done",
        RECIPIENTS,
        0,
        0,
    )


async def test_a_broadcast_stopped_halfway_resumes_with_exactly_the_rest(
    session_factory, tmp_path: Path, clock: VirtualClock, telegram: FakeTelegramServer
) -> None:
    """The sender task is cancelled halfway, as when the process dies; a new one finishes.

    Guaranteed: a message whose send was recorded is never sent again, and no recipient is
    lost (rows the dead process had claimed are taken over when their lease expires).
    Not guaranteed: a message that reached Telegram but whose SENT mark had not committed
    when the process died is sent again after the lease (at least once: the Bot API has no
    idempotency key). The cut here is clean on purpose: the process dies while its sender
    waits on the pacer, after every granted send was recorded (`sender.settled()`), so the
    resumed run must send exactly the rest.
    """
    await add_guardians(session_factory, RECIPIENTS)
    broadcast_id = await _broadcast_to_all(session_factory, RECIPIENTS)
    settings = telegram_settings(tmp_path, telegram)

    clock.stop_at = RECIPIENTS / 2 / TELEGRAM_RATE
    async with telegram_process(session_factory, settings, clock) as first:
        run = asyncio.create_task(first.run_broadcast(broadcast_id, within=REAL_SECONDS_ALLOWED))
        await asyncio.wait_for(clock.stopped.wait(), REAL_SECONDS_ALLOWED)
        assert first.sender.in_flight == 0  # dying now loses no recorded outcome
        run.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await run
    sent_before = len(telegram.sent())
    assert RECIPIENTS / 3 < sent_before < RECIPIENTS
    sent_rows = select(func.count(OutboxMessage.id)).where(
        OutboxMessage.status == OutboxStatus.SENT
    )
    assert await _count(session_factory, sent_rows) == sent_before
    # Some rows were claimed by the dead process and never sent: only their lease frees them.
    sending_rows = select(func.count(OutboxMessage.id)).where(
        OutboxMessage.status == OutboxStatus.SENDING
    )
    assert await _count(session_factory, sending_rows) > 0

    clock.stop_at = None
    clock.advance(RESTART_SECONDS)
    async with telegram_process(session_factory, settings, clock) as second:
        report = await second.run_broadcast(broadcast_id, within=REAL_SECONDS_ALLOWED)

    per_chat = _messages_per_chat(telegram)
    assert set(per_chat) == set(range(1, RECIPIENTS + 1))
    assert max(per_chat.values()) == 1
    assert len(telegram.sent()) - sent_before == RECIPIENTS - sent_before  # exactly the rest
    assert telegram.limits is not None and telegram.limits.refused <= 1
    assert (report.status, report.sent, report.pending, report.queued, report.failed) == (
        "done",
        RECIPIENTS,
        0,
        0,
        0,
    )


async def test_blocked_and_deactivated_guardians_count_as_unreachable_and_get_nothing(
    session_factory, tmp_path: Path, clock: VirtualClock, telegram: FakeTelegramServer
) -> None:
    ids = await add_guardians(session_factory, 6)
    broadcast_id = await _broadcast_to_all(session_factory, 6)
    left_before_queueing, left_after_queueing = ids[4], ids[5]
    telegram.fail_next("sendMessage", 1, Fault.blocked())  # whoever comes first blocked us
    settings = telegram_settings(tmp_path, telegram)

    async with telegram_process(session_factory, settings, clock) as process:
        await _set_status(session_factory, left_before_queueing, GuardianStatus.DEACTIVATED)
        await process.dispatcher.run_once()  # queues the four... and closes the one who left
        await _set_status(session_factory, left_after_queueing, GuardianStatus.DEACTIVATED)
        report = await process.run_broadcast(broadcast_id, within=REAL_SECONDS_ALLOWED)

    blocked = [c.params["chat_id"] for c in telegram.calls("sendMessage") if c.status == 403]
    assert len(blocked) == 1
    received = set(_messages_per_chat(telegram))
    assert received == {1, 2, 3, 4, 5, 6} - {blocked[0], 5, 6}
    assert (report.status, report.sent, report.failed, report.unreachable) == ("done", 3, 0, 3)
    async with session_factory() as session:
        who_blocked = await session.scalar(
            select(Guardian.status).where(Guardian.address == str(blocked[0]))
        )
        deliveries = dict(
            (
                await session.execute(
                    select(BroadcastDelivery.guardian_id, BroadcastDelivery.status)
                )
            ).all()
        )
    assert who_blocked == GuardianStatus.UNREACHABLE
    assert deliveries[left_before_queueing] == DeliveryStatus.UNREACHABLE
    assert deliveries[left_after_queueing] == DeliveryStatus.UNREACHABLE


async def _set_status(
    sessions: async_sessionmaker[AsyncSession], guardian_id: int, status: str
) -> None:
    async with unit_of_work(sessions) as session:
        await session.execute(
            update(Guardian).where(Guardian.id == guardian_id).values(status=status)
        )


async def _paced_seconds(settings: Settings, channel: str, addresses: list[str]) -> float:
    """Virtual seconds the channel's pacer takes to let one message per address through."""
    clock = VirtualClock()
    pacer = pacers_from_specs(channel_pacing(settings), clock=clock, sleep=clock.sleep)[channel]
    for address in addresses:
        await pacer.acquire(address)
    return clock.now


async def test_whatsapp_is_paced_at_80_per_second_by_default() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    people = [str(n) for n in range(800)]
    # A full burst of 80 goes at once, then 80 per second.
    assert abs(await _paced_seconds(settings, "whatsapp", people) - (800 - 80) / 80) < 0.01


async def test_pacing_per_channel_comes_from_settings() -> None:
    slower = Settings(  # type: ignore[call-arg]
        _env_file=None,
        whatsapp_rate_per_second=20.0,
        telegram_rate_per_second=10.0,
        telegram_rate_per_chat_per_second=0.5,
    )
    people = [str(n) for n in range(100)]
    assert abs(await _paced_seconds(slower, "whatsapp", people) - (100 - 20) / 20) < 0.01
    assert abs(await _paced_seconds(slower, "telegram", people) - (100 - 10) / 10) < 0.01
    # One chat: a burst of 3, then one message every 2 s.
    one_chat = ["42"] * 6
    assert abs(await _paced_seconds(slower, "telegram", one_chat) - 3 * 2.0) < 0.01
