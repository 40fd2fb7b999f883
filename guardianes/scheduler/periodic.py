"""One way to run background work every so often: `run_every(name, interval, *steps)`.

Every loop of the service (reminders and broadcasts, e-mail, the overdue watch, media
retention, the inbound and orphan-media sweeps) is a `Periodic`: its steps run one after
the other each pass; a failing step is logged and does not stop the others or the loop.
While a pass fails, the next one waits longer (doubling up to `MAX_BACKOFF_SECONDS`), so a
database that is down is not hammered; a pass that succeeds returns to the interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

Step = Callable[[], Awaitable[Any]]
MAX_BACKOFF_SECONDS = 60.0


def next_wait(interval: float, failures: int) -> float:
    """The interval, doubled per failed pass in a row (never above the backoff cap)."""
    if failures == 0:
        return interval
    return min(interval * 2.0**failures, max(interval, MAX_BACKOFF_SECONDS))


@dataclass
class Periodic:
    """Steps run every `interval` seconds in the background until `stop`."""

    name: str
    interval: float
    steps: Sequence[Step]
    first_run_now: bool = True  # or one interval after start
    log_counts: bool = False  # log a step's non-zero count ("inbound sweep: 3")
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)  # set: run a pass now
    # Set after every pass, successful or not (tests and shutdown wait on it, never sleep).
    pass_done: asyncio.Event = field(default_factory=asyncio.Event)
    passes: int = 0
    failures: int = 0  # passes in a row with a failing step
    task: asyncio.Task[Any] | None = None

    async def run_once(self) -> bool:
        """One pass over every step; False when one of them failed."""
        ok = True
        for step in self.steps:
            try:
                done = await step()
            except Exception:
                ok = False
                logger.exception("%s: %s failed", self.name, _step_name(step))
                continue
            if self.log_counts and isinstance(done, int) and done:
                logger.info("%s: %d", self.name, done)
        self.failures = 0 if ok else self.failures + 1
        self.passes += 1
        self.pass_done.set()
        return ok

    async def run_forever(self) -> None:
        """Run a pass, wait (the interval, or longer after failures, or until woken), repeat."""
        if not self.first_run_now:
            await self._wait(self.interval)
        while True:
            await self.run_once()
            await self._wait(next_wait(self.interval, self.failures))

    async def _wait(self, seconds: float) -> None:
        self.wakeup.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wakeup.wait(), timeout=seconds)

    def start(self) -> None:
        """Run the loop in the background."""
        self.task = asyncio.create_task(self.run_forever(), name=self.name)

    async def stop(self) -> None:
        """Cancel the loop and wait for it; every step is idempotent, a cut pass is redone."""
        if self.task is None:
            return
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        self.task = None


def run_every(
    name: str,
    interval: float,
    *steps: Step,
    first_run_now: bool = True,
    log_counts: bool = False,
) -> Periodic:
    """Start running `steps` every `interval` seconds; `await loop.stop()` ends it."""
    loop = Periodic(name, interval, steps, first_run_now=first_run_now, log_counts=log_counts)
    loop.start()
    return loop


def _step_name(step: Step) -> str:
    return getattr(step, "__qualname__", None) or repr(step)
