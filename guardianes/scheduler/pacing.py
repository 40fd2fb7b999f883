"""Token buckets that keep sends under the platforms' rate caps.

Clock and sleep are injectable, so tests and benchmarks pace on a virtual clock (the same
one a fake platform measures its caps with) instead of waiting for real.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from guardianes.config import Settings

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

# Sleep this much longer than the exact refill time: float rounding must never make us a
# hair early, which a platform counting the same way would answer with a 429.
SAFETY_MARGIN_SECONDS = 1e-6
DEFAULT_PER_CHAT_BURST = 3.0


class TokenBucket:
    """`rate` tokens per second, holding at most `burst`; `acquire` waits for one."""

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
        self._lock = asyncio.Lock()

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def pause(self, seconds: float) -> None:
        """Send nothing for `seconds` (the platform asked us to slow down)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
        self._tokens = 0.0

    async def acquire(self) -> None:
        """Wait until a token is available and take it."""
        async with self._lock:  # FIFO among waiters keeps sends in claim order
            while True:
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
    """One bucket for the whole channel plus one per chat (evicting idle chats)."""

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

    async def acquire(self, address: str) -> None:
        """Wait for the chat's turn, then for the channel's."""
        bucket = self._chat_bucket(address)
        if bucket is not None:
            await bucket.acquire()
        await self.overall.acquire()

    def pause(self, seconds: float) -> None:
        """Pause the whole channel."""
        self.overall.pause(seconds)


def pacers_from_settings(
    settings: Settings, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep
) -> dict[str, ChannelPacer]:
    """A pacer per platform at its configured cap (Telegram 30/s, 1/s per chat; WhatsApp 80/s)."""
    return {
        "telegram": ChannelPacer(
            settings.telegram_rate_per_second,
            burst=settings.telegram_rate_per_second,
            per_chat_rate=settings.telegram_rate_per_chat_per_second,
            clock=clock,
            sleep=sleep,
        ),
        "whatsapp": ChannelPacer(
            settings.whatsapp_rate_per_second,
            burst=settings.whatsapp_rate_per_second,
            clock=clock,
            sleep=sleep,
        ),
    }
