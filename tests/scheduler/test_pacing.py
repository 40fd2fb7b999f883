"""Pacing: a pause refills from its end, replies go first, and the budget is shared in the DB."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from guardianes.scheduler.pacing import (
    ChannelPacer,
    SharedPacer,
    TokenBucket,
    rate_limited_listeners,
    record_rate_limited,
)
from guardianes.storage.db import unit_of_work
from guardianes.storage.repositories import pacing as pacing_repo

from .conftest import VirtualClock

RATE = 30.0
TOLERANCE = 1e-6


async def _seconds_for(clock: VirtualClock, acquires: int, acquire) -> float:
    started = clock.now
    for _ in range(acquires):
        await acquire()
    return clock.now - started


async def test_a_paused_bucket_refills_from_the_end_of_the_pause(clock: VirtualClock) -> None:
    bucket = TokenBucket(RATE, RATE, clock=clock, sleep=clock.sleep)
    bucket.pause(1.0)
    # Empty when the pause ends: 30 sends then take one interval each, not a burst.
    assert await _seconds_for(clock, 30, bucket.acquire) - 1.0 == _approx(30 / RATE)


async def test_a_paused_bucket_earns_nothing_during_the_pause(clock: VirtualClock) -> None:
    bucket = TokenBucket(RATE, RATE, clock=clock, sleep=clock.sleep)
    bucket.pause(5.0)
    clock.advance(5.0)
    assert bucket.tokens == _approx(0.0)
    clock.advance(0.5)
    assert bucket.tokens == _approx(15.0)


async def test_an_urgent_acquire_goes_before_bulk_ones_already_waiting() -> None:
    # Real time (a tenth of a second per token): the waiters must really queue up.
    pacer = ChannelPacer(10.0, burst=1.0)
    order: list[str] = []

    async def take(name: str, *, urgent: bool) -> None:
        await pacer.acquire(name, urgent=urgent)
        order.append(name)

    await pacer.acquire("first")  # the only token: everyone else waits
    bulk = [asyncio.create_task(take(f"bulk{n}", urgent=False)) for n in range(5)]
    await asyncio.sleep(0)
    reply = asyncio.create_task(take("reply", urgent=True))
    await asyncio.gather(*bulk, reply)
    assert order[0] == "reply"
    assert order[1:] == [f"bulk{n}" for n in range(5)]


async def test_the_429_hook_tells_every_listener() -> None:
    seen: list[str] = []
    rate_limited_listeners.append(seen.append)
    try:
        record_rate_limited("telegram")
    finally:
        rate_limited_listeners.remove(seen.append)
    assert seen == ["telegram"]


# ---------------------------------------------------------------- shared through the database


def _shared(
    sessions: async_sessionmaker[AsyncSession], clock: VirtualClock, **kwargs
) -> SharedPacer:
    return SharedPacer(
        sessions, "telegram:1", RATE, burst=RATE, clock=clock, sleep=clock.sleep, **kwargs
    )


async def test_a_shared_budget_lets_a_burst_through_then_its_rate(
    session_factory: async_sessionmaker[AsyncSession], clock: VirtualClock
) -> None:
    pacer = _shared(session_factory, clock)
    assert await _seconds_for(clock, 30, lambda: pacer.acquire("x")) == _approx(0.0)
    assert await _seconds_for(clock, 30, lambda: pacer.acquire("x")) == _approx(30 / RATE)


async def test_two_pacers_on_one_database_share_one_budget(
    session_factory: async_sessionmaker[AsyncSession],
    other_process_sessions: async_sessionmaker[AsyncSession],
    clock: VirtualClock,
) -> None:
    one, two = _shared(session_factory, clock), _shared(other_process_sessions, clock)
    for _ in range(15):
        await one.acquire("a")
        await two.acquire("b")
    assert clock.now == _approx(0.0)  # 30 together: the burst
    await two.acquire("b")
    assert clock.now == _approx(1 / RATE)  # the 31st waits, whoever asks


async def test_a_paused_shared_budget_refills_from_the_end_of_the_pause(
    session_factory: async_sessionmaker[AsyncSession],
    other_process_sessions: async_sessionmaker[AsyncSession],
    clock: VirtualClock,
) -> None:
    one, two = _shared(session_factory, clock), _shared(other_process_sessions, clock)
    await one.pause(2.0)  # one process got the 429: the other stops too
    assert await _seconds_for(clock, 30, lambda: two.acquire("b")) == _approx(2.0 + 30 / RATE)


async def test_a_shared_chat_budget_holds_three_then_one_per_second(
    session_factory: async_sessionmaker[AsyncSession],
    other_process_sessions: async_sessionmaker[AsyncSession],
    clock: VirtualClock,
) -> None:
    one = _shared(session_factory, clock, per_chat_rate=1.0)
    two = _shared(other_process_sessions, clock, per_chat_rate=1.0)
    for pacer in (one, two, one):
        await pacer.acquire("42")
    assert clock.now == _approx(0.0)
    await two.acquire("42")
    assert clock.now == _approx(1.0)


async def test_an_urgent_shared_acquire_is_not_queued_behind_bulk_waiters(
    session_factory: async_sessionmaker[AsyncSession],
    other_process_sessions: async_sessionmaker[AsyncSession],
) -> None:
    # Real time, ten slots a second: the bulk waiters must really be waiting.
    bulk_process = SharedPacer(session_factory, "telegram:1", 10.0, burst=1.0)
    reply_process = SharedPacer(other_process_sessions, "telegram:1", 10.0, burst=1.0)
    await bulk_process.acquire("x")  # the burst is spent
    order: list[str] = []

    async def take(pacer: SharedPacer, name: str, *, urgent: bool) -> None:
        await pacer.acquire(name, urgent=urgent)
        order.append(name)

    bulk = [asyncio.create_task(take(bulk_process, f"bulk{n}", urgent=False)) for n in range(4)]
    await asyncio.sleep(0.02)
    await take(reply_process, "reply", urgent=True)
    await asyncio.gather(*bulk)
    assert order.index("reply") <= 1  # the slot being waited for at most, then the reply


async def test_idle_chat_budgets_are_forgotten(
    session_factory: async_sessionmaker[AsyncSession], clock: VirtualClock
) -> None:
    pacer = _shared(session_factory, clock, per_chat_rate=1.0)
    await pacer.acquire("42")
    clock.advance(2 * 3600)
    assert await pacer.forget_idle_chats() >= 1
    async with unit_of_work(session_factory) as session:
        assert await pacing_repo.arrival_time(session, pacer.chat_key("42")) is None


def _approx(value: float):
    import pytest

    return pytest.approx(value, abs=1e-3)


async def test_replies_waiting_together_get_the_slots_they_would_one_by_one(
    session_factory: async_sessionmaker[AsyncSession], clock: VirtualClock
) -> None:
    pacer = _shared(session_factory, clock)
    await asyncio.gather(*(pacer.acquire(str(n), urgent=True) for n in range(40)))
    assert clock.now == _approx(10 / RATE)  # the burst of 30, then ten at the rate


async def test_replies_reserved_together_still_share_the_budget_with_another_process(
    session_factory: async_sessionmaker[AsyncSession],
    other_process_sessions: async_sessionmaker[AsyncSession],
    clock: VirtualClock,
) -> None:
    one, two = _shared(session_factory, clock), _shared(other_process_sessions, clock)
    await asyncio.gather(*(one.acquire(str(n), urgent=True) for n in range(15)))
    for _ in range(15):
        await two.acquire("b", urgent=True)
    assert clock.now == _approx(0.0)
    await one.acquire("c", urgent=True)
    assert clock.now == _approx(1 / RATE)


async def test_replies_to_one_chat_waiting_together_keep_to_the_chat_budget(
    session_factory: async_sessionmaker[AsyncSession], clock: VirtualClock
) -> None:
    pacer = _shared(session_factory, clock, per_chat_rate=1.0)
    await asyncio.gather(*(pacer.acquire("42", urgent=True) for _ in range(4)))
    assert clock.now == _approx(1.0)  # three at once, the fourth a second later
