"""A claim outlives its send: renewed before sending when the wait ate it, never stolen."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from guardianes.conversations.messages import text_prompt
from guardianes.domain.enums import OutboxKind, OutboxStatus
from guardianes.scheduler.outbox import OutboxSender
from guardianes.scheduler.pacing import ChannelPacer
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import OutboxMessage
from guardianes.storage.repositories import outbox as outbox_repo
from guardianes.storage.types import utcnow

from .test_lanes import RecordingChannel, _runtime

LEASE = timedelta(seconds=1.5)
SEND_TIMEOUT = 0.5
PAUSE_SECONDS = 2.0  # longer than the lease: the claim runs out while waiting


def _paused_pacer() -> ChannelPacer:
    pacer = ChannelPacer(30.0, burst=30.0)
    pacer.overall.pause(PAUSE_SECONDS)
    return pacer


async def _queue_one(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with unit_of_work(sessions) as session:
        row = await outbox_repo.enqueue(
            session,
            channel="telegram",
            address="7",
            payload=text_prompt("Aviso").to_json(),
            kind=OutboxKind.BROADCAST,
        )
    return row.id


async def _row(sessions: async_sessionmaker[AsyncSession], row_id: int) -> OutboxMessage:
    async with sessions() as session:
        row = await outbox_repo.get_row(session, row_id)
    assert row is not None
    return row


async def test_a_claim_that_ran_out_while_waiting_is_renewed_before_sending(
    session_factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    channel = RecordingChannel()
    runtime = _runtime(session_factory, tmp_path, channel)
    sender = OutboxSender(
        runtime, pacers={"telegram": _paused_pacer()}, lease=LEASE, send_timeout=SEND_TIMEOUT
    )
    row_id = await _queue_one(session_factory)
    await sender.deliver_batch()
    assert channel.sent == [("7", "Aviso")]
    assert (await _row(session_factory, row_id)).status == OutboxStatus.SENT


async def test_a_row_taken_over_while_waiting_is_not_sent_again(
    session_factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    slow_channel, fast_channel = RecordingChannel(), RecordingChannel()
    slow = OutboxSender(
        _runtime(session_factory, tmp_path, slow_channel),
        pacers={"telegram": _paused_pacer()},
        lease=LEASE,
        send_timeout=SEND_TIMEOUT,
        worker_id="slow",
    )
    # The other process's clock is past the slow one's lease: it may take the row over.
    fast = OutboxSender(
        _runtime(session_factory, tmp_path, fast_channel),
        pacers={},
        lease=LEASE,
        send_timeout=SEND_TIMEOUT,
        worker_id="fast",
        clock=lambda: utcnow() + LEASE,
    )
    row_id = await _queue_one(session_factory)
    waiting = asyncio.create_task(slow.deliver_batch())
    deadline = asyncio.get_running_loop().time() + 5
    while (await _row(session_factory, row_id)).status != OutboxStatus.SENDING:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)
    await fast.run_until_idle()
    await waiting
    assert fast_channel.sent == [("7", "Aviso")]
    assert slow_channel.sent == []
