"""The outbox sender: at-least-once, in order per chat, paced, and never twice once sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from guardianes.config import Settings
from guardianes.conversations.messages import text_prompt
from guardianes.domain.enums import GuardianStatus, OutboxStatus
from guardianes.scheduler.outbox import OutboxSender
from guardianes.scheduler.pacing import ChannelPacer
from guardianes.services.delivery import Delivery, FailureKind, SendFailedError, SendResult
from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Guardian, OutboxMessage
from guardianes.storage.repositories import outbox as outbox_repo
from guardianes.storage.types import utcnow


@dataclass
class RecordingChannel:
    """A channel that records sends and fails on request."""

    name: str = "telegram"
    sent: list[tuple[str, str]] = field(default_factory=list)
    failures: list[SendFailedError] = field(default_factory=list)

    async def send(self, delivery: Delivery) -> SendResult:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((delivery.address, delivery.prompt.text))
        return SendResult(platform_message_id=str(len(self.sent)))


@pytest.fixture
async def outbox_runtime(
    session_factory: async_sessionmaker[AsyncSession], tmp_path
) -> AsyncIterator[tuple[Runtime, RecordingChannel]]:
    channel = RecordingChannel()
    runtime = Runtime(
        settings=Settings(_env_file=None, media_dir=tmp_path),  # type: ignore[call-arg]
        engine=session_factory.kw["bind"],
        sessions=session_factory,
        catalog=None,  # type: ignore[arg-type]
        forms=None,  # type: ignore[arg-type]
        gazetteer=None,  # type: ignore[arg-type]
        channels={"telegram": channel},
    )
    yield runtime, channel


async def _queue(runtime: Runtime, address: str, *texts: str) -> list[int]:
    async with unit_of_work(runtime.sessions) as session:
        rows = [
            await outbox_repo.enqueue(
                session, channel="telegram", address=address, payload=text_prompt(t).to_json()
            )
            for t in texts
        ]
    return [row.id for row in rows]


async def _statuses(runtime: Runtime) -> list[str]:
    async with runtime.sessions() as session:
        result = await session.execute(select(OutboxMessage.status).order_by(OutboxMessage.id))
        return list(result.scalars())


def _sender(runtime: Runtime, **kwargs) -> OutboxSender:
    return OutboxSender(runtime, pacers={}, **kwargs)


async def test_rows_of_one_chat_are_sent_in_order(outbox_runtime) -> None:
    runtime, channel = outbox_runtime
    await _queue(runtime, "1", "a", "b", "c")
    await _queue(runtime, "2", "x")
    await _sender(runtime).run_until_idle()
    assert [t for a, t in channel.sent if a == "1"] == ["a", "b", "c"]
    assert await _statuses(runtime) == ["sent"] * 4


async def test_a_sent_row_is_never_sent_again(outbox_runtime) -> None:
    runtime, channel = outbox_runtime
    await _queue(runtime, "1", "once")
    await _sender(runtime).run_until_idle()
    await _sender(runtime).run_until_idle()
    assert channel.sent == [("1", "once")]


async def test_network_error_is_retried_later_not_lost(outbox_runtime) -> None:
    runtime, channel = outbox_runtime
    channel.failures.append(SendFailedError(FailureKind.RETRY, "timeout"))
    (row_id,) = await _queue(runtime, "1", "hello")
    await _sender(runtime).run_until_idle()
    async with runtime.sessions() as session:
        row = await outbox_repo.get_row(session, row_id)
    assert row is not None and row.status == OutboxStatus.QUEUED
    assert row.next_attempt_at > utcnow()
    async with unit_of_work(runtime.sessions) as session:
        row = await outbox_repo.get_row(session, row_id)
        assert row is not None
        row.next_attempt_at = utcnow()
    await _sender(runtime).run_until_idle()
    assert channel.sent == [("1", "hello")]


async def test_rate_limit_waits_out_retry_after(outbox_runtime) -> None:
    runtime, channel = outbox_runtime
    channel.failures.append(SendFailedError(FailureKind.RATE_LIMITED, "429", retry_after=7))
    (row_id,) = await _queue(runtime, "1", "hello")
    before = utcnow()
    await _sender(runtime).run_until_idle()
    async with runtime.sessions() as session:
        row = await outbox_repo.get_row(session, row_id)
    assert row is not None and row.status == OutboxStatus.QUEUED
    assert row.next_attempt_at >= before + timedelta(seconds=7)


async def test_a_later_row_waits_behind_a_failed_earlier_row_of_the_same_chat(
    outbox_runtime,
) -> None:
    runtime, channel = outbox_runtime
    channel.failures.append(SendFailedError(FailureKind.RETRY, "500"))
    await _queue(runtime, "1", "first", "second")
    await _sender(runtime).run_until_idle()
    assert channel.sent == []
    assert await _statuses(runtime) == ["queued", "queued"]


async def test_blocked_user_is_marked_unreachable_and_their_queue_closed(
    outbox_runtime,
) -> None:
    runtime, channel = outbox_runtime
    async with unit_of_work(runtime.sessions) as session:
        guardian = Guardian(
            channel="telegram",
            channel_user_id="9",
            address="9",
            display_name="Ana",
            consent_at=utcnow(),
            privacy_notice_version="v",
        )
        session.add(guardian)
        await session.flush()
        for text in ("a", "b"):
            await outbox_repo.enqueue(
                session,
                channel="telegram",
                address="9",
                guardian_id=guardian.id,
                payload=text_prompt(text).to_json(),
            )
    channel.failures.append(SendFailedError(FailureKind.UNREACHABLE, "403 blocked"))
    await _sender(runtime).run_until_idle()
    assert await _statuses(runtime) == ["unreachable", "unreachable"]
    async with runtime.sessions() as session:
        stored = await session.get(Guardian, guardian.id)
    assert stored is not None and stored.status == GuardianStatus.UNREACHABLE


async def test_a_claim_left_by_a_dead_sender_is_sent_after_its_lease(outbox_runtime) -> None:
    runtime, channel = outbox_runtime
    await _queue(runtime, "1", "orphan")
    async with unit_of_work(runtime.sessions) as session:
        claimed = await outbox_repo.claim_due(
            session, worker="dead", channels=["telegram"], limit=10, lease=timedelta(seconds=-1)
        )
    assert len(claimed) == 1
    await _sender(runtime).run_until_idle()
    assert channel.sent == [("1", "orphan")]


async def test_concurrent_senders_never_send_a_row_twice(outbox_runtime) -> None:
    runtime, channel = outbox_runtime
    for chat in range(40):
        await _queue(runtime, str(chat), f"m{chat}-1", f"m{chat}-2")
    senders = [_sender(runtime, batch_size=7, worker_id=f"w{i}") for i in range(4)]
    await asyncio.gather(*(s.run_until_idle() for s in senders))
    # Drain anything a sender saw as blocked while another held the chat's head.
    await _sender(runtime).run_until_idle()
    assert len(channel.sent) == 80
    assert len(set(channel.sent)) == 80
    assert await _statuses(runtime) == ["sent"] * 80


@dataclass
class GatedChannel:
    """A channel whose sends wait until the test opens the gate, as a slow network would."""

    name: str = "telegram"
    sent: list[str] = field(default_factory=list)
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    gate: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, delivery: Delivery) -> SendResult:
        self.entered.set()
        await self.gate.wait()
        self.sent.append(delivery.prompt.text)
        return SendResult(platform_message_id=str(len(self.sent)))


class _StillClock:
    """Monotonic seconds that move only when the held pacer lets a sleeper go."""

    now = 0.0

    def __call__(self) -> float:
        return self.now


def _held_pacer(released: asyncio.Event) -> ChannelPacer:
    """One token, and the next only once `released` is set (time stands still meanwhile)."""
    clock = _StillClock()

    async def sleep(_seconds: float) -> None:
        await released.wait()
        clock.now += 1.0

    return ChannelPacer(1.0, burst=1.0, clock=clock, sleep=sleep)


async def _attempts(runtime: Runtime) -> list[tuple[str, int]]:
    async with runtime.sessions() as session:
        result = await session.execute(
            select(OutboxMessage.status, OutboxMessage.attempts).order_by(OutboxMessage.id)
        )
        return [(status, attempts) for status, attempts in result.all()]


async def test_stopping_records_the_send_under_way_and_gives_back_the_rest(
    outbox_runtime,
) -> None:
    runtime, _ = outbox_runtime
    channel = GatedChannel()
    runtime.channels["telegram"] = channel
    await _queue(runtime, "1", "under way")
    await _queue(runtime, "2", "not yet sent")
    await _queue(runtime, "3", "not yet claimed")
    token_released = asyncio.Event()
    sender = OutboxSender(runtime, pacers={"telegram": _held_pacer(token_released)}, batch_size=2)
    sender.start()
    await asyncio.wait_for(channel.entered.wait(), 5)  # "1" is with the platform

    sender.drain()
    stopping = asyncio.create_task(sender.stop(grace=5))
    token_released.set()  # "2" gets its token only after the stop began
    channel.gate.set()
    await stopping

    assert channel.sent == ["under way"]
    # Sent and recorded; given back untouched (its claim undone); never claimed.
    assert await _attempts(runtime) == [("sent", 1), ("queued", 0), ("queued", 0)]


async def test_a_stopped_sender_leaves_the_rest_to_the_next_process(outbox_runtime) -> None:
    runtime, channel = outbox_runtime
    await _queue(runtime, "1", "a")
    first = _sender(runtime)
    first.drain()
    assert await first.run_until_idle() == 0
    await _sender(runtime).run_until_idle()
    assert channel.sent == [("1", "a")]
