"""Waiting in the broadcast benchmarks: polled a few times a second, never per fake call."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

POLL_SECONDS = 0.25


async def until(
    predicate: Callable[[], bool], *, within: float, every: float = POLL_SECONDS
) -> None:
    """Wait until `predicate()` holds; TimeoutError after `within` seconds."""
    # Not the fakes' `wait_for`: it re-checks after every call the fake receives, and
    # counting a broadcast's sends scans every send so far: quadratic, tens of CPU seconds
    # at 10,000 recipients, taken from the bot being measured.
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError
        await asyncio.sleep(every)


async def until_sent(sent: Callable[[], int], target: int, *, idle: float) -> None:
    """Wait until `sent()` reaches `target`, or has not grown for `idle` seconds."""
    # A deadline computed from the cap would count a slow run's queued messages as lost.
    last, grew = sent(), time.monotonic()
    while last < target:
        await asyncio.sleep(POLL_SECONDS)
        now = sent()
        if now > last:
            last, grew = now, time.monotonic()
        elif time.monotonic() - grew > idle:
            return
