"""Broadcasts through the outbox at Telegram's caps: nothing lost, nothing twice, resumable."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from guardianes.scheduler.outbox import OutboxSender
from guardianes.scheduler.pacing import ChannelPacer
from guardianes.scheduler.reminders import BroadcastDispatcher
from guardianes.services import broadcasts as broadcasts_service
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import OutboxMessage, OutboxStatus
from guardianes.storage.repositories.broadcasts import RecipientFilter
from tests.fakes.telegram_server import RateLimits
from tests.scheduler.conftest import (
    CapEnforcingChannel,
    VirtualClock,
    add_colonia,
    add_guardians,
    make_runtime,
)

RECIPIENTS = int(__import__("os").environ.get("N", "2000"))
HALF = RECIPIENTS // 2  # a multiple of the sender batch (100): nothing in flight is sent


def _telegram_pacer(clock: VirtualClock) -> ChannelPacer:
    """The production pacing (30/s overall, 1/s per chat with burst 3) on the virtual clock."""
    return ChannelPacer(30.0, burst=30.0, per_chat_rate=1.0, clock=clock, sleep=clock.sleep)


async def _broadcast_to_all(runtime) -> int:
    async with unit_of_work(runtime.sessions) as session:
        broadcast, count = await broadcasts_service.create_broadcast(
            session, text="Hola", recipients=RecipientFilter(), created_by="test"
        )
    assert count == RECIPIENTS
    return broadcast.id


async def _sent_rows(runtime) -> int:
    async with runtime.sessions() as session:
        result = await session.execute(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.status == OutboxStatus.SENT)
        )
        return int(result.scalar_one())


async def test_broadcast_to_2000_guardians_stays_under_telegram_caps(
    session_factory, tmp_path, clock
) -> None:
    channel = CapEnforcingChannel(RateLimits(clock=clock))
    runtime = make_runtime(session_factory, tmp_path, telegram=channel)
    colonia_id = await add_colonia(session_factory, "Centro")
    await add_guardians(session_factory, RECIPIENTS, colonia_id=colonia_id)
    broadcast_id = await _broadcast_to_all(runtime)

    await BroadcastDispatcher(runtime).run_once()
    sender = OutboxSender(runtime, pacers={"telegram": _telegram_pacer(clock)})
    await sender.run_until_idle()
    await BroadcastDispatcher(runtime).run_once()  # notices nothing is left: DONE

    assert channel.refused <= 1
    assert len(channel.sent) == RECIPIENTS
    assert channel.duplicates() == 0
    assert set(channel.sent) == {str(i) for i in range(1, RECIPIENTS + 1)}
    assert clock.now >= (RECIPIENTS - 30) / 30  # it really was paced at 30/s
    async with runtime.sessions() as session:
        report = await broadcasts_service.progress(session, broadcast_id)
    assert (report.status, report.sent, report.failed, report.unreachable) == (
        "done",
        RECIPIENTS,
        0,
        0,
    )


async def test_broadcast_stopped_halfway_resumes_with_exactly_the_rest(
    session_factory, tmp_path, clock
) -> None:
    # The platform outlives our process: one channel (and its record of sends) throughout.
    channel = CapEnforcingChannel(RateLimits(clock=clock), hang_after=HALF)
    first = make_runtime(session_factory, tmp_path, telegram=channel)
    await add_guardians(session_factory, RECIPIENTS)
    broadcast_id = await _broadcast_to_all(first)
    # Only part of the deliveries get their outbox rows before the process dies.
    async with unit_of_work(first.sessions) as session:
        for _ in range(3):
            await broadcasts_service.queue_batch(
                session, broadcast_id, timezone=BroadcastDispatcher(first).timezone, limit=500
            )
    # A tiny lease so rows in flight when the process died are claimable after a restart.
    sender = OutboxSender(
        first, pacers={"telegram": _telegram_pacer(clock)}, lease=timedelta(milliseconds=1)
    )
    task = asyncio.create_task(sender.run_until_idle())
    await asyncio.wait_for(channel.reached.wait(), timeout=60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _sent_rows(first) == HALF

    channel.hang_after = None
    second = make_runtime(session_factory, tmp_path, telegram=channel)
    await BroadcastDispatcher(second).run_once()
    restarted = OutboxSender(second, pacers={"telegram": _telegram_pacer(clock)})
    await restarted.run_until_idle()
    await BroadcastDispatcher(second).run_once()

    assert len(channel.sent) == RECIPIENTS
    assert channel.duplicates() == 0
    async with second.sessions() as session:
        report = await broadcasts_service.progress(session, broadcast_id)
    assert (report.status, report.sent, report.pending, report.queued) == (
        "done",
        RECIPIENTS,
        0,
        0,
    )
