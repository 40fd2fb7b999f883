"""Fixtures of the scheduler tests: a runtime on the test database, fake channels, a clock."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from guardianes.bot.channel import Delivery, FailureKind, SendFailedError, SendResult
from guardianes.config import Settings
from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Colonia, Guardian, GuardianRole, GuardianStatus
from tests.fakes.telegram_server import RateLimits

RESOLUTION = 1e-9


class VirtualClock:
    """Monotonic seconds that move only when someone sleeps: pacing without waiting."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        # At least a nanosecond, like a real clock: the pacer may ask for 1e-17 s after
        # float rounding, which added to `now` would change nothing and spin forever.
        self.now += max(RESOLUTION, seconds)
        await asyncio.sleep(0)  # let other tasks run, as a real sleep would


@dataclass
class CapEnforcingChannel:
    """A Telegram-like channel that answers 429 when Telegram's caps would be exceeded."""

    limits: RateLimits
    name: str = "telegram"
    sent: list[str] = field(default_factory=list)
    refused: int = 0
    hang_after: int | None = None  # sends beyond this many never complete (a dying process)
    reached: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, delivery: Delivery) -> SendResult:
        if self.hang_after is not None and len(self.sent) >= self.hang_after:
            self.reached.set()
            await asyncio.Event().wait()
        wait = self.limits.check(delivery.address)
        if wait is not None:
            self.refused += 1
            raise SendFailedError(FailureKind.RATE_LIMITED, "429", retry_after=wait)
        self.sent.append(delivery.address)
        return SendResult(platform_message_id=str(len(self.sent)))

    def duplicates(self) -> int:
        return sum(n - 1 for n in Counter(self.sent).values() if n > 1)


def make_runtime(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, **channels: object
) -> Runtime:
    """A runtime on the test database with the given channels and no forms or geography."""
    return Runtime(
        settings=Settings(
            _env_file=None,  # type: ignore[call-arg]
            media_dir=tmp_path,
            timezone="America/Chihuahua",
            reminder_grace_seconds=3600,
        ),
        engine=sessions.kw["bind"],
        sessions=sessions,
        catalog=None,  # type: ignore[arg-type]
        forms=None,  # type: ignore[arg-type]
        gazetteer=None,  # type: ignore[arg-type]
        channels=dict(channels),  # type: ignore[arg-type]
    )


@pytest.fixture
def clock() -> VirtualClock:
    """A virtual monotonic clock for pacers and the fake platform."""
    return VirtualClock()


async def add_colonia(sessions: async_sessionmaker[AsyncSession], name: str) -> int:
    """A colonia; returns its id."""
    async with unit_of_work(sessions) as session:
        colonia = Colonia(name=name, normalized_name=name.lower())
        session.add(colonia)
        await session.flush()
        return colonia.id


async def add_guardians(
    sessions: async_sessionmaker[AsyncSession],
    count: int,
    *,
    colonia_id: int | None = None,
    role: str = GuardianRole.GUARDIAN,
    channel: str = "telegram",
    locale: str = "es",
    status: str = GuardianStatus.ACTIVE,
    start: int = 1,
) -> list[int]:
    """`count` registered guardians; returns their ids."""
    async with unit_of_work(sessions) as session:
        people = [
            Guardian(
                channel=channel,
                channel_user_id=f"{channel}-{start + i}",
                address=str(start + i),
                display_name=f"Guardian {start + i}",
                colonia_id=colonia_id,
                role=role,
                locale=locale,
                status=status,
                consent_at=datetime(2026, 1, 1, tzinfo=UTC),
                privacy_notice_version="test",
            )
            for i in range(count)
        ]
        session.add_all(people)
        await session.flush()
        return [p.id for p in people]
