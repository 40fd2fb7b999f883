"""Lanes and quiet hours: replies go before queued bulk rows, bulk rows wait out the night."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from guardianes.config import Settings
from guardianes.conversations.messages import text_prompt
from guardianes.domain.enums import OutboxKind
from guardianes.domain.timezone import zone
from guardianes.scheduler.outbox import OutboxSender
from guardianes.scheduler.quiet import QuietHours
from guardianes.services.delivery import Delivery, SendResult
from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.repositories import outbox as outbox_repo
from guardianes.storage.repositories.outbox import Lane

CHIHUAHUA = zone("America/Chihuahua")  # UTC-6 all year
# 23:00 in Chihuahua, inside a 21:00-08:00 window; it ends at 08:00 local = 14:00 UTC.
NIGHT = datetime(2026, 11, 28, 5, 0, tzinfo=UTC)
MORNING = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)


@dataclass
class RecordingChannel:
    """Records what was sent, in order."""

    name: str = "telegram"
    sent: list[tuple[str, str]] = field(default_factory=list)

    async def send(self, delivery: Delivery) -> SendResult:
        self.sent.append((delivery.address, delivery.prompt.text))
        return SendResult(platform_message_id=str(len(self.sent)))


def _runtime(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, channel: RecordingChannel, **extra
) -> Runtime:
    return Runtime(
        settings=Settings(
            _env_file=None,  # type: ignore[call-arg]
            media_dir=tmp_path,
            timezone="America/Chihuahua",
            **extra,
        ),
        engine=sessions.kw["bind"],
        sessions=sessions,
        catalog=None,  # type: ignore[arg-type]
        forms=None,  # type: ignore[arg-type]
        gazetteer=None,  # type: ignore[arg-type]
        channels={"telegram": channel},  # type: ignore[dict-item]
    )


async def _queue(
    sessions: async_sessionmaker[AsyncSession], address: str, text: str, kind: str
) -> None:
    async with unit_of_work(sessions) as session:
        await outbox_repo.enqueue(
            session,
            channel="telegram",
            address=address,
            payload=text_prompt(text).to_json(),
            kind=kind,
        )


async def test_a_reply_is_claimed_before_a_queued_broadcast(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    for n in range(50):
        await _queue(session_factory, str(n), "aviso", OutboxKind.BROADCAST)
    await _queue(session_factory, "999", "respuesta", OutboxKind.REPLY)
    async with unit_of_work(session_factory) as session:
        urgent = await outbox_repo.claim_due(
            session,
            worker="w",
            channels=["telegram"],
            limit=10,
            lease=timedelta(seconds=30),
            lane=Lane.URGENT,
        )
    assert [row.address for row in urgent] == ["999"]


async def test_a_reply_overtakes_the_broadcast_row_queued_for_the_same_person(
    session_factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    channel = RecordingChannel()
    sender = OutboxSender(_runtime(session_factory, tmp_path, channel), pacers={})
    await _queue(session_factory, "7", "aviso", OutboxKind.BROADCAST)
    await _queue(session_factory, "7", "respuesta", OutboxKind.REPLY)
    await sender.run_until_idle()
    assert channel.sent == [("7", "respuesta"), ("7", "aviso")]


async def test_a_bulk_row_waits_for_an_earlier_reply_of_its_chat(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await _queue(session_factory, "7", "respuesta", OutboxKind.REPLY)
    await _queue(session_factory, "7", "aviso", OutboxKind.BROADCAST)
    async with unit_of_work(session_factory) as session:
        bulk = await outbox_repo.claim_due(
            session,
            worker="w",
            channels=["telegram"],
            limit=10,
            lease=timedelta(seconds=30),
            lane=Lane.BULK,
        )
    assert bulk == []


@pytest.mark.parametrize("kind", [OutboxKind.BROADCAST, OutboxKind.VISIT, OutboxKind.REMINDER])
async def test_bulk_messages_wait_out_the_quiet_hours_and_replies_do_not(
    session_factory: async_sessionmaker[AsyncSession], tmp_path: Path, kind: str
) -> None:
    channel = RecordingChannel()
    night, morning = _tonight()
    now = [night]
    runtime = _runtime(
        session_factory,
        tmp_path,
        channel,
        quiet_hours_start=time(21, 0),
        quiet_hours_end=time(8, 0),
    )
    sender = OutboxSender(runtime, pacers={}, clock=lambda: now[0])
    await _queue(session_factory, "1", "aviso", kind)
    await _queue(session_factory, "2", "respuesta", OutboxKind.REPLY)

    await sender.run_until_idle()
    assert channel.sent == [("2", "respuesta")]
    assert await sender.next_due() == morning

    now[0] = morning
    await sender.run_until_idle()
    assert channel.sent == [("2", "respuesta"), ("1", "aviso")]


def _tonight() -> tuple[datetime, datetime]:
    """The next 23:00 in Chihuahua (rows queued now are due then) and the 08:00 after it."""
    local = datetime.now(CHIHUAHUA) + timedelta(days=1)
    night = datetime.combine(local.date(), time(23, 0), tzinfo=CHIHUAHUA)
    morning = datetime.combine(local.date() + timedelta(days=1), time(8, 0), tzinfo=CHIHUAHUA)
    return night.astimezone(UTC), morning.astimezone(UTC)


def test_quiet_hours_cross_midnight_in_the_programme_time_zone() -> None:
    quiet = QuietHours(time(21, 0), time(8, 0), CHIHUAHUA)
    local = datetime(2026, 11, 27, 20, 59, tzinfo=CHIHUAHUA)
    assert not quiet.contains(local)
    assert quiet.contains(local + timedelta(minutes=1))
    assert quiet.contains(datetime(2026, 11, 28, 7, 59, tzinfo=CHIHUAHUA))
    assert not quiet.contains(datetime(2026, 11, 28, 8, 0, tzinfo=CHIHUAHUA))
    assert quiet.ends_after(NIGHT) == MORNING
    assert quiet.ends_after(MORNING) == MORNING


def test_quiet_hours_within_one_day() -> None:
    quiet = QuietHours(time(13, 0), time(15, 0), CHIHUAHUA)  # a lunch-time window
    assert quiet.contains(datetime(2026, 11, 28, 14, 0, tzinfo=CHIHUAHUA))
    assert not quiet.contains(datetime(2026, 11, 28, 15, 0, tzinfo=CHIHUAHUA))


def test_quiet_hours_are_off_unless_configured() -> None:
    assert QuietHours.from_settings(Settings(_env_file=None)) is None  # type: ignore[call-arg]


def test_quiet_hours_need_both_ends() -> None:
    with pytest.raises(ValueError, match="together"):
        Settings(_env_file=None, quiet_hours_start=time(21, 0))  # type: ignore[call-arg]


def test_a_send_timeout_must_be_shorter_than_the_lease() -> None:
    with pytest.raises(ValueError, match="shorter than the lease"):
        Settings(  # type: ignore[call-arg]
            _env_file=None, outbox_lease_seconds=10, outbox_send_timeout_seconds=10
        )


@dataclass
class HeldChannel(RecordingChannel):
    """Holds each send until the test lets it through."""

    entered: asyncio.Event = field(default_factory=asyncio.Event)
    let_through: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, delivery: Delivery) -> SendResult:
        self.entered.set()
        await self.let_through.wait()
        return await super().send(delivery)


async def test_a_lane_that_claimed_all_there_was_waits_for_a_wakeup_to_claim_again(
    session_factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    # Claiming again at once after a short claim would only find nothing: a query per
    # reply for no row. The next claim comes when the send finished (its wakeup).
    channel = HeldChannel()
    runtime = _runtime(session_factory, tmp_path, channel, outbox_poll_seconds=3600)
    sender = OutboxSender(runtime, pacers={})
    claims: list[bool] = []  # per urgent claim: whether the send had been let through
    claimed_again = asyncio.Event()
    claim = sender._claim

    async def counting_claim(lane: Lane, limit: int) -> list[Any]:
        if lane is Lane.URGENT:
            claims.append(channel.let_through.is_set())
            if len(claims) == 2:
                claimed_again.set()
        return await claim(lane, limit)

    sender._claim = counting_claim  # type: ignore[method-assign]
    await _queue(session_factory, "7", "respuesta", OutboxKind.REPLY)
    sender.start()
    try:
        await asyncio.wait_for(channel.entered.wait(), 10)
        channel.let_through.set()
        await asyncio.wait_for(claimed_again.wait(), 10)
    finally:
        await sender.stop(grace=5)
    assert channel.sent == [("7", "respuesta")]
    assert claims[:2] == [False, True]
