"""Rate limits per person, per network address and for new web chat sessions (`limits`).

Moving windows, so a burst cannot ride the edge of a fixed window. Counters live in the
storage `GUARDIANES_RATE_LIMIT_STORAGE` names: `memory://` (the default) counts per process;
`redis://…` or `memcached://…` (the `limits` backends) share the counts between workers.
"""

from __future__ import annotations

from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from guardianes.config import Settings

# The polite "wait a moment" goes out at most this often per person, however many
# messages they keep sending: the reply must not become a flood of its own.
NOTICE_LIMIT = "1/minute"


@dataclass(frozen=True, slots=True)
class Limits:
    """One or more windows that must all have room (e.g. 5 per 5 s and 20 per minute)."""

    items: tuple[RateLimitItem, ...]

    @classmethod
    def parse(cls, text: str) -> Limits:
        """From `limits` notation: "20/minute;5/5 seconds"."""
        return cls(tuple(parse_many(text)))


class RateLimits:
    """The service's limits; every check counts one hit for the key."""

    def __init__(self, settings: Settings) -> None:
        storage = storage_from_string(_async_uri(settings.rate_limit_storage))
        if not isinstance(storage, Storage):
            raise ValueError(f"not an async rate-limit storage: {settings.rate_limit_storage}")
        self._limiter = MovingWindowRateLimiter(storage)
        self.person = Limits.parse(settings.rate_limit_person)
        self.address = Limits.parse(settings.rate_limit_address)
        self.sessions = Limits.parse(settings.rate_limit_chat_sessions)
        self.notice = Limits.parse(NOTICE_LIMIT)

    async def _hit(self, limits: Limits, *key: str) -> bool:
        allowed = True
        for item in limits.items:
            # Every window counts the hit, so a refused burst still fills the longer ones.
            allowed = await self._limiter.hit(item, *key) and allowed
        return allowed

    async def allow_person(self, channel: str, user_id: str) -> bool:
        """One message of one person on one channel."""
        return await self._hit(self.person, "person", channel, user_id)

    async def allow_address(self, address: str) -> bool:
        """One request from one network address (web chat)."""
        return await self._hit(self.address, "address", address)

    async def allow_new_session(self, address: str) -> bool:
        """One new web chat identity made for one network address."""
        return await self._hit(self.sessions, "session", address)

    async def should_tell(self, channel: str, user_id: str) -> bool:
        """True at most once a minute per person: time to say "wait a moment" again."""
        return await self._hit(self.notice, "notice", channel, user_id)


def _async_uri(uri: str) -> str:
    """`limits` names its asyncio backends `async+<scheme>://`."""
    return uri if uri.startswith("async+") else f"async+{uri}"
