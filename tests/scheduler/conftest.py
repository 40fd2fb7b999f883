"""Fixtures of the scheduler tests: a runtime on the test database, fake channels, a clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from guardianes.bot.registry import channel_pacing
from guardianes.bot.telegram.channel import TelegramChannel
from guardianes.bot.telegram.runner import build_bot
from guardianes.config import Settings
from guardianes.domain.enums import BroadcastStatus, GuardianRole, GuardianStatus
from guardianes.domain.timezone import zone
from guardianes.scheduler.outbox import OutboxSender
from guardianes.scheduler.pacing import pacers_from_specs
from guardianes.scheduler.reminders import BroadcastDispatcher
from guardianes.services import broadcasts as broadcasts_service
from guardianes.services.broadcasts import BroadcastProgress
from guardianes.services.reminders import TickReport, schedule_due
from guardianes.services.runtime import Runtime
from guardianes.storage.db import create_engine, create_session_factory, unit_of_work
from guardianes.storage.models import Colonia, Guardian, OutboxMessage
from guardianes.storage.types import utcnow
from tests.fakes.telegram_server import FakeTelegramServer, RateLimits

RESOLUTION = 1e-9
# Claims compare leases strictly (`claimed_until < now`): step this far past a due time.
PAST_DUE = timedelta(milliseconds=1)
Settle = Callable[[], Awaitable[None]]


class VirtualClock:
    """Monotonic seconds moved only by sleepers and by the test: pacing without waiting.

    One clock serves the pacers, the fake platform's caps (`RateLimits(clock=clock)`) and,
    through `wall()`, the sender's and dispatcher's datetimes. Before time moves, `settle`
    (a sender's `answered`) lets every send already granted reach the platform and be
    answered: the network takes no virtual time, so the platform sees each message at the
    instant the pacer allowed it. A sleep ends at max(now, the sleeper's now + seconds), so
    sleepers that start at one instant do not add up their waits. Before stopping at
    `stop_at` it waits for `drain` (a sender's `settled`: every outcome recorded).
    """

    def __init__(self, *, start: datetime | None = None) -> None:
        self.now = 0.0
        self.start = start or utcnow()
        self.settle: Settle | None = None
        self.drain: Settle | None = None
        self.stop_at: float | None = None  # a sleep past this never ends (the process dies)
        self.stopped = asyncio.Event()

    def __call__(self) -> float:
        return self.now

    def wall(self) -> datetime:
        """The virtual time as a UTC datetime: real start time + virtual seconds elapsed."""
        return self.start + timedelta(seconds=self.now)

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass (a restart, an idle stretch)."""
        self.now += seconds

    def advance_past(self, moment: datetime) -> None:
        """Jump to just after the wall-clock `moment` instead of waiting for it."""
        self.now = max(self.now, (moment + PAST_DUE - self.start).total_seconds())

    async def sleep(self, seconds: float) -> None:
        """Sleep in virtual time."""
        # At least a nanosecond, like a real clock: a wait of 1e-17 s after float rounding
        # added to `now` would change nothing and spin forever.
        wake_at = self.now + max(RESOLUTION, seconds)
        if self.settle is not None:
            await self.settle()
        await asyncio.sleep(0)  # let other tasks run, as a real sleep would
        if self.stop_at is not None and wake_at > self.stop_at:
            if self.drain is not None:
                await self.drain()
            self.stopped.set()
            await asyncio.Event().wait()  # time stopped for this process; the test cancels it
        self.now = max(self.now, wake_at)


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


# ---------------------------------------------------------------- broadcasts through Telegram

OPEN_BROADCAST = (BroadcastStatus.PENDING, BroadcastStatus.SENDING)


@pytest.fixture
async def telegram(clock: VirtualClock) -> AsyncIterator[FakeTelegramServer]:
    """The fake Bot API on 127.0.0.1 enforcing Telegram's caps on the virtual clock."""
    server = FakeTelegramServer()
    server.enforce_limits(RateLimits(clock=clock))
    await server.start()
    yield server
    await server.stop()


def telegram_settings(tmp_path: Path, fake: FakeTelegramServer, **overrides: object) -> Settings:
    """Settings of a process whose Telegram API server is the fake."""
    values: dict[str, object] = {
        "media_dir": tmp_path,
        "timezone": "America/Chihuahua",
        "telegram_bot_token": fake.token,
        "telegram_api_base": fake.base_url,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


@dataclass
class SenderProcess:
    """One service process: the real Telegram channel (aiogram), a dispatcher and a sender."""

    runtime: Runtime
    dispatcher: BroadcastDispatcher
    sender: OutboxSender
    clock: VirtualClock

    async def report(self, broadcast_id: int) -> BroadcastProgress:
        """Where the broadcast stands."""
        async with self.runtime.sessions() as session:
            return await broadcasts_service.progress(session, broadcast_id)

    async def run_broadcast(self, broadcast_id: int, *, within: float) -> BroadcastProgress:
        """Dispatch and send until the broadcast is finished; idle time is skipped, not waited.

        `within` bounds the real seconds this may take.
        """
        async with asyncio.timeout(within):
            while True:
                await self.dispatcher.run_once()
                if await self.sender.deliver_batch():
                    continue
                report = await self.report(broadcast_id)
                if report.status not in OPEN_BROADCAST:
                    return report
                due = await self.sender.next_due()
                if due is None:
                    raise AssertionError(f"broadcast {broadcast_id} is open with nothing to send")
                # Nothing is due yet (a retry_after, a lease of a dead process): skip to it.
                self.clock.advance_past(due)


@asynccontextmanager
async def telegram_process(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: VirtualClock,
) -> AsyncIterator[SenderProcess]:
    """A process sending through aiogram to `settings.telegram_api_base`, on the virtual clock."""
    bot = build_bot(settings)
    runtime = Runtime(
        settings=settings,
        engine=sessions.kw["bind"],
        sessions=sessions,
        catalog=None,  # type: ignore[arg-type]
        forms=None,  # type: ignore[arg-type]
        gazetteer=None,  # type: ignore[arg-type]
        channels={"telegram": TelegramChannel(bot)},
    )
    sender = OutboxSender(
        runtime,
        pacers=pacers_from_specs(channel_pacing(settings), clock=clock, sleep=clock.sleep),
        clock=clock.wall,
    )
    clock.settle, clock.drain = sender.answered, sender.settled
    try:
        yield SenderProcess(
            runtime=runtime,
            dispatcher=BroadcastDispatcher(runtime, clock=clock.wall),
            sender=sender,
            clock=clock,
        )
    finally:
        clock.settle = clock.drain = None
        await bot.session.close()


# ---------------------------------------------------------------- reminders and visits


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    """One outbox row as a recipient would read it."""

    guardian_id: int | None
    kind: str
    locale: str
    text: str


async def queued_messages(sessions: async_sessionmaker[AsyncSession]) -> list[QueuedMessage]:
    """Every outbox row, oldest first, with its text."""
    async with sessions() as session:
        rows = (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars()
        return [
            QueuedMessage(
                guardian_id=row.guardian_id,
                kind=row.kind,
                locale=row.locale,
                text=str(row.payload.get("text", "")),
            )
            for row in rows
        ]


def make_runtime_in_zone(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path, timezone: str
) -> Runtime:
    """Like `make_runtime`, with GUARDIANES_TIMEZONE set to `timezone`."""
    runtime = make_runtime(sessions, tmp_path)
    runtime.settings = runtime.settings.model_copy(update={"timezone": timezone})
    return runtime


@pytest.fixture
async def other_process_sessions(
    database_url: str, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the same test database through a second engine: another process's view."""
    engine = create_engine(database_url)
    yield create_session_factory(engine)
    await engine.dispose()


async def write_occurrences(session: AsyncSession, now: datetime) -> None:
    """What a scheduler's first step does at `now` (one hour of grace), without queueing."""
    await schedule_due(
        session,
        now=now,
        timezone=zone("America/Chihuahua"),
        grace=timedelta(hours=1),
        report=TickReport(),
    )
