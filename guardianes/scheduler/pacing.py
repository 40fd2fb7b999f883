"""Pacing sends under the platforms' rate caps, with replies ahead of bulk messages.

Two pacers share one interface (`Pacer`): `ChannelPacer` keeps its token buckets in memory
(one process, tests, the console), `SharedPacer` keeps them in the database (GCRA rows, see
`storage.models_pacing`), so every sender process of one bot draws on one budget, the way
the platform counts it. Both give an `urgent` acquire (a reply to someone who just wrote)
the next free slot before any bulk send (broadcast, visit notice, reminder) waiting for one,
and both refill a paused budget from the end of the pause, one token at a time.

Clock and sleep are injectable, so tests and benchmarks pace on a virtual clock (the same
one a fake platform measures its caps with) instead of waiting for real.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from guardianes.services.delivery import PacerSpec
from guardianes.storage.db import unit_of_work
from guardianes.storage.repositories import pacing as pacing_repo

logger = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

# Sleep this much longer than the exact refill time: float rounding must never make us a
# hair early, which a platform counting the same way would answer with a 429.
SAFETY_MARGIN_SECONDS = 1e-6
DEFAULT_PER_CHAT_BURST = 3.0
# The share of the platform's burst a shared budget uses (see `shared_pacers_from_specs`).
SHARED_BURST_FRACTION = 0.5
# A shared per-chat budget unused this long is full again: its row can go.
IDLE_BUDGET_SECONDS = 3600.0


class Pacer(Protocol):
    """What the outbox sender needs of a pacer."""

    async def acquire(self, address: str, *, urgent: bool = False) -> None:
        """Wait until one message to `address` may go, and count it."""
        ...

    async def pause(self, seconds: float) -> None:
        """The platform said slow down: nothing for `seconds`, then refill from empty."""
        ...


# Called with the channel's name on every 429 (a metrics module appends its counter here).
rate_limited_listeners: list[Callable[[str], None]] = []


def record_rate_limited(channel: str) -> None:
    """The platform answered 429 despite pacing: log it and tell the listeners."""
    logger.warning("%s answered 429 (too many requests): channel paused", channel)
    for listener in rate_limited_listeners:
        listener(channel)


class TokenBucket:
    """`rate` tokens per second, holding at most `burst`; `acquire` waits for one.

    Waiters are served in arrival order, except that an urgent waiter goes before every
    non-urgent one. A pause empties the bucket, and it refills from the end of the pause.
    """

    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()  # FIFO among non-urgent waiters keeps claim order
        self._urgent_lock = asyncio.Lock()
        self._urgent_waiting = 0
        self._no_urgent = asyncio.Event()
        self._no_urgent.set()

    @property
    def tokens(self) -> float:
        """Tokens available now (for tests and reports)."""
        self._refill(self._clock())
        return self._tokens

    def _refill(self, now: float) -> None:
        # Time before `_updated` (a pause still running) earns nothing.
        earned = max(0.0, now - self._updated) * self.rate
        self._tokens = min(self.burst, self._tokens + earned)
        self._updated = max(self._updated, now)

    def pause(self, seconds: float) -> None:
        """Send nothing for `seconds`; then the bucket refills from empty."""
        until = self._clock() + seconds
        if until > self._paused_until:
            self._paused_until = until
            self._tokens = 0.0
            self._updated = until

    async def acquire(self, *, urgent: bool = False) -> None:
        """Wait until a token is available and take it."""
        if urgent:
            self._urgent_waiting += 1
            self._no_urgent.clear()
            try:
                async with self._urgent_lock:
                    await self._take(urgent=True)
            finally:
                self._urgent_waiting -= 1
                if not self._urgent_waiting:
                    self._no_urgent.set()
            return
        async with self._lock:
            await self._take(urgent=False)

    async def _take(self, *, urgent: bool) -> None:
        while True:
            if not urgent and self._urgent_waiting:
                await self._no_urgent.wait()
                continue
            now = self._clock()
            if now < self._paused_until:
                await self._sleep(self._paused_until - now)
                continue
            self._refill(now)
            if self._tokens >= 1:
                self._tokens -= 1
                return
            await self._sleep((1 - self._tokens) / self.rate + SAFETY_MARGIN_SECONDS)


class ChannelPacer:
    """In memory: one bucket for the whole channel plus one per chat (evicting idle chats)."""

    def __init__(
        self,
        rate: float,
        burst: float,
        per_chat_rate: float | None = None,
        per_chat_burst: float = DEFAULT_PER_CHAT_BURST,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        max_chats: int = 50_000,
    ) -> None:
        self.overall = TokenBucket(rate, burst, clock=clock, sleep=sleep)
        self._per_chat_rate = per_chat_rate
        self._per_chat_burst = per_chat_burst
        self._chats: OrderedDict[str, TokenBucket] = OrderedDict()
        self._clock = clock
        self._sleep = sleep
        self._max_chats = max_chats

    def _chat_bucket(self, address: str) -> TokenBucket | None:
        if self._per_chat_rate is None:
            return None
        bucket = self._chats.get(address)
        if bucket is None:
            bucket = TokenBucket(
                self._per_chat_rate, self._per_chat_burst, clock=self._clock, sleep=self._sleep
            )
            self._chats[address] = bucket
            if len(self._chats) > self._max_chats:
                self._chats.popitem(last=False)
        else:
            self._chats.move_to_end(address)
        return bucket

    async def acquire(self, address: str, *, urgent: bool = False) -> None:
        """Wait for the chat's turn, then for the channel's."""
        bucket = self._chat_bucket(address)
        if bucket is not None:
            await bucket.acquire()
        await self.overall.acquire(urgent=urgent)

    async def pause(self, seconds: float) -> None:
        """Pause the whole channel."""
        self.overall.pause(seconds)


class SharedPacer:
    """Budgets kept in the database, so all processes sending as one bot share them.

    For the channel's budget, urgent sends reserve the next slot whenever it is, and bulk
    sends take a slot only when one is free now: a reply never queues behind bulk
    reservations, in this process or any other. A send's chat slot is reserved in the same
    transaction (the outbox has one message per chat in flight, so there is no queue to
    jump there). One bulk sender per process polls the budget at a time (the others wait
    on a local lock), so waiting costs one query per slot, not one per row.

    Urgent sends reserve as a group: while one transaction reserves, the replies arriving
    meanwhile wait, and the next transaction reserves all their slots at once (two
    statements for any number of replies), so a burst of replies costs a few transactions,
    not one each, and the slots are the ones reserving them one by one would give.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        key: str,
        rate: float,
        *,
        burst: float,
        per_chat_rate: float | None = None,
        per_chat_burst: float = DEFAULT_PER_CHAT_BURST,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.sessions = sessions
        self.key = key
        self.interval = 1.0 / rate
        self.tolerance = (burst - 1.0) * self.interval
        self.chat_interval = 1.0 / per_chat_rate if per_chat_rate else None
        self.chat_tolerance = (per_chat_burst - 1.0) * (self.chat_interval or 0.0)
        self._clock = clock
        self._sleep = sleep
        self._bulk = asyncio.Lock()
        # Replies waiting for the next group reservation, and the task making it.
        self._urgent_waiting: list[tuple[str, asyncio.Future[float]]] = []
        self._reserving: asyncio.Task[None] | None = None

    def chat_key(self, address: str) -> str:
        """The budget row of one chat."""
        return f"{self.key}:chat:{address}"

    async def _sleep_until(self, moment: float) -> None:
        wait = moment - self._clock()
        if wait > 0:
            await self._sleep(wait + SAFETY_MARGIN_SECONDS)

    async def acquire(self, address: str, *, urgent: bool = False) -> None:
        """Wait for the chat's slot, then for the channel's."""
        if urgent:
            slot: asyncio.Future[float] = asyncio.get_running_loop().create_future()
            self._urgent_waiting.append((address, slot))
            if self._reserving is None:
                self._reserving = asyncio.create_task(self._reserve_urgent())
            await self._sleep_until(await slot)
            return
        async with self._bulk:
            while True:
                # One transaction per slot: the chat's slot is reserved with the channel's.
                async with unit_of_work(self.sessions) as session:
                    now = self._clock()
                    wait = await pacing_repo.take_if_free(
                        session, self.key, interval=self.interval, tolerance=self.tolerance, now=now
                    )
                    if wait <= 0:
                        chat_at = await self._reserve_chat(session, address, now)
                        break
                await self._sleep(wait + SAFETY_MARGIN_SECONDS)
        # A bulk row rarely finds its chat busy (one per chat in flight); when it does it
        # waits here, outside the lock, and the channel slot it took goes unused.
        await self._sleep_until(chat_at)

    async def _reserve_urgent(self) -> None:
        """Reserve the slots of the waiting replies, a group per transaction, until none wait."""
        group: list[tuple[str, asyncio.Future[float]]] = []
        try:
            while self._urgent_waiting:
                group = self._next_group()
                try:
                    moments = await self._reserve_group([address for address, _ in group])
                except Exception as error:
                    for _, slot in group:
                        if not slot.done():
                            slot.set_exception(error)
                    continue
                for (_, slot), moment in zip(group, moments, strict=True):
                    if not slot.done():  # a reply cancelled meanwhile leaves its slot unused
                        slot.set_result(moment)
        except BaseException:  # cancelled (shutdown): no reply waits for a slot forever
            for _, slot in [*group, *self._urgent_waiting]:
                slot.cancel()
            self._urgent_waiting = []
            raise
        finally:
            self._reserving = None

    def _next_group(self) -> list[tuple[str, asyncio.Future[float]]]:
        """The waiting replies, one per chat (a chat's second reply goes in the next group)."""
        group: list[tuple[str, asyncio.Future[float]]] = []
        later: list[tuple[str, asyncio.Future[float]]] = []
        chats: set[str] = set()
        for address, slot in self._urgent_waiting:
            if address in chats:
                later.append((address, slot))
            else:
                chats.add(address)
                group.append((address, slot))
        self._urgent_waiting = later
        return group

    async def _reserve_group(self, addresses: list[str]) -> list[float]:
        """One transaction: a channel slot for each address, in order, and its chat's slot."""
        async with unit_of_work(self.sessions) as session:
            now = self._clock()
            channel_at = await pacing_repo.reserve_run(
                session,
                self.key,
                len(addresses),
                interval=self.interval,
                tolerance=self.tolerance,
                now=now,
            )
            if self.chat_interval is None:
                return channel_at
            chat_at = await pacing_repo.reserve_each(
                session,
                [self.chat_key(address) for address in addresses],
                interval=self.chat_interval,
                tolerance=self.chat_tolerance,
                now=now,
            )
        return [
            max(chat_at[self.chat_key(address)], channel)
            for address, channel in zip(addresses, channel_at, strict=True)
        ]

    async def _reserve_chat(self, session: AsyncSession, address: str, now: float) -> float:
        """The chat's next slot (now when the chat has no budget of its own)."""
        if self.chat_interval is None:
            return now
        return await pacing_repo.reserve(
            session,
            self.chat_key(address),
            interval=self.chat_interval,
            tolerance=self.chat_tolerance,
            now=now,
        )

    async def pause(self, seconds: float) -> None:
        """Every process of this bot sends nothing for `seconds`, then refills from empty."""
        now = self._clock()
        # Empty at the end of the pause: the first send one interval later, as in memory.
        first = now + seconds + self.interval
        async with unit_of_work(self.sessions) as session:
            await pacing_repo.hold_until(
                session, self.key, until=first, tolerance=self.tolerance, now=now
            )

    async def forget_idle_chats(self) -> int:
        """Drop budget rows of chats idle for an hour; returns how many."""
        async with unit_of_work(self.sessions) as session:
            return await pacing_repo.forget_idle(
                session, before=self._clock() - IDLE_BUDGET_SECONDS
            )


def pacers_from_specs(
    specs: Mapping[str, PacerSpec],
    *,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
) -> dict[str, ChannelPacer]:
    """In-memory pacers per channel at its cap (bursts as large as one second's rate)."""
    return {
        name: ChannelPacer(
            spec.rate, burst=spec.rate, per_chat_rate=spec.per_chat_rate, clock=clock, sleep=sleep
        )
        for name, spec in specs.items()
    }


def shared_pacers_from_specs(
    specs: Mapping[str, PacerSpec],
    sessions: async_sessionmaker[AsyncSession],
    *,
    clock: Clock = time.time,
    sleep: Sleep = asyncio.sleep,
) -> dict[str, SharedPacer]:
    """Database-shared pacers per channel, keyed by bot so two bots never share a budget.

    The channel's burst is half the platform's, a chat's one message less than its three:
    our clock decides when a send may go, the platform counts when it arrives, and the
    tokens kept back absorb the difference (event loop and network jitter) instead of
    turning it into a 429.
    """
    return {
        name: SharedPacer(
            sessions,
            spec.key,
            spec.rate,
            burst=max(1.0, spec.rate * SHARED_BURST_FRACTION),
            per_chat_rate=spec.per_chat_rate,
            per_chat_burst=DEFAULT_PER_CHAT_BURST - 1.0,
            clock=clock,
            sleep=sleep,
        )
        for name, spec in specs.items()
    }
