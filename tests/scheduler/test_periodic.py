"""`run_every`: the one loop behind every background job of the service."""

from __future__ import annotations

import asyncio

from guardianes.scheduler.periodic import MAX_BACKOFF_SECONDS, Periodic, next_wait, run_every

WITHIN = 5.0  # seconds a test waits for a pass that is due at once


async def _nothing() -> None:
    return None


async def test_every_step_runs_once_per_pass_in_order() -> None:
    calls: list[str] = []

    async def first() -> None:
        calls.append("first")

    async def second() -> None:
        calls.append("second")

    loop = Periodic("test", 3600.0, (first, second))
    assert await loop.run_once()
    assert calls == ["first", "second"]
    assert loop.passes == 1


async def test_a_failing_step_does_not_stop_the_others_and_counts_as_a_failed_pass() -> None:
    ran: list[str] = []

    async def broken() -> None:
        raise RuntimeError("database down")

    async def fine() -> None:
        ran.append("fine")

    loop = Periodic("test", 3600.0, (broken, fine))
    assert not await loop.run_once()
    assert ran == ["fine"]
    assert loop.failures == 1
    assert await Periodic("test", 3600.0, (fine,)).run_once()


def test_failed_passes_in_a_row_wait_longer_up_to_the_cap() -> None:
    assert next_wait(1.0, 0) == 1.0
    assert next_wait(1.0, 1) == 2.0
    assert next_wait(1.0, 3) == 8.0
    assert next_wait(1.0, 30) == MAX_BACKOFF_SECONDS
    assert next_wait(600.0, 2) == 600.0  # a long interval is never shortened by the cap


async def test_the_first_pass_runs_at_start_and_a_wakeup_runs_the_next_at_once() -> None:
    loop = run_every("test", 3600.0, _nothing, first_run_now=True)
    try:
        await asyncio.wait_for(loop.pass_done.wait(), WITHIN)
        loop.pass_done.clear()
        loop.wakeup.set()
        await asyncio.wait_for(loop.pass_done.wait(), WITHIN)
    finally:
        await loop.stop()
    assert loop.passes == 2
    assert loop.task is None


async def test_a_loop_started_later_waits_one_interval_first() -> None:
    loop = run_every("test", 3600.0, _nothing, first_run_now=False)
    try:
        await asyncio.sleep(0)
        assert loop.passes == 0
    finally:
        await loop.stop()
    await loop.stop()  # stopping twice is harmless
