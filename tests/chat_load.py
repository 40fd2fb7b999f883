"""The bot running for real against the fake Bot API while a big broadcast goes out.

`BotUnderLoad` wires what `guardianes serve` wires for Telegram (long polling, the inbound
pipeline, keyboard closes through the outbox, the outbox sender with its lanes and its
database-shared pacing) on the real clock, against a fake that enforces Telegram's caps.
Tests and `bench/chat_during_broadcast.py` use it to measure how long a guardian who
writes waits for the reply while thousands of broadcast rows are queued.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from guardianes.bot.telegram.plugin import TelegramPlugin
from guardianes.bot.telegram.runner import TelegramTransport
from guardianes.domain.enums import GuardianStatus
from guardianes.scheduler.outbox import OutboxSender
from guardianes.scheduler.reminders import BroadcastDispatcher
from guardianes.services import broadcasts as broadcasts_service
from guardianes.services.inbound import accept_inbound
from guardianes.services.intake import close_keyboard
from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Guardian
from guardianes.storage.repositories.broadcasts import RecipientFilter
from tests.fakes.telegram_server import Call, FakeTelegramServer, TgUser

FIRST_RECIPIENT = 20_000_001
FIRST_CHATTER = 30_000_001
INSERT_CHUNK = 2_000
ALBUM_WINDOW = 0.05


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (0 < fraction <= 1) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


async def add_recipients(
    sessions: async_sessionmaker[AsyncSession],
    count: int,
    *,
    channel: str = "telegram",
    first_id: int = FIRST_RECIPIENT,
    wrote_at: datetime | None = None,
) -> None:
    """`count` registered guardians of a channel (ids from `first_id`); `wrote_at` is when
    they last wrote (on WhatsApp, free-form messages reach only who wrote in 24 hours)."""
    consent = wrote_at or datetime(2026, 1, 1, tzinfo=UTC)
    for start in range(0, count, INSERT_CHUNK):
        async with unit_of_work(sessions) as session:
            session.add_all(
                Guardian(
                    channel=channel,
                    channel_user_id=str(first_id + n),
                    address=str(first_id + n),
                    display_name=f"Guardián {n}",
                    locale="es",
                    status=GuardianStatus.ACTIVE,
                    consent_at=consent,
                    privacy_notice_version="test",
                    last_inbound_at=wrote_at,
                )
                for n in range(start, min(count, start + INSERT_CHUNK))
            )


@dataclass(frozen=True, slots=True)
class Wait:
    """How long one guardian waited for the reply: seconds, and broadcast sends meanwhile."""

    seconds: float
    broadcast_sends: int


@dataclass
class BotUnderLoad:
    """Transport, sender and dispatcher of one process, started and stopped together."""

    runtime: Runtime
    fake: FakeTelegramServer
    transport: TelegramTransport = field(init=False)
    sender: OutboxSender = field(init=False)

    def __post_init__(self) -> None:
        self.transport = TelegramTransport(
            self.runtime.settings,
            partial(accept_inbound, self.runtime),
            keyboards=partial(close_keyboard, self.runtime, "telegram"),
            album_window=ALBUM_WINDOW,
            poll_timeout=1,
            retry_delay=0.01,
        )
        self.runtime.channels[self.transport.channel.name] = self.transport.channel
        self.runtime.pacing["telegram"] = TelegramPlugin.pacing(self.runtime.settings)
        self.sender = OutboxSender(self.runtime)

    async def start(self) -> None:
        """Poll the fake and send continuously."""
        await self.transport.start()
        await asyncio.wait_for(self.transport.ready.wait(), 5)
        self.sender.start()

    async def stop(self) -> None:
        """Stop sending (sends under way are recorded) and polling."""
        await self.sender.stop(grace=5.0)
        await self.transport.stop()
        await self.runtime.drain()

    async def broadcast(self, recipients: int) -> int:
        """Register `recipients` guardians and queue one broadcast to all of them."""
        await add_recipients(self.runtime.sessions, recipients)
        async with unit_of_work(self.runtime.sessions) as session:
            broadcast, _ = await broadcasts_service.create_broadcast(
                session,
                text="Mañana hay jornada de limpieza en el parque.",
                recipients=RecipientFilter(channel="telegram"),
                created_by="bench",
            )
        await BroadcastDispatcher(self.runtime).run_once()
        return broadcast.id

    def broadcast_sent(self) -> int:
        """Broadcast messages the fake accepted so far."""
        return sum(
            1
            for c in self.fake.sent()
            if isinstance(c.params.get("chat_id"), int)
            and FIRST_RECIPIENT <= c.params["chat_id"] < FIRST_CHATTER
        )

    async def first_reply_after(self, user: TgUser, update: dict[str, object]) -> Wait:
        """Push one update from `user`; how long until the fake received the bot's reply."""
        before = len(self.fake.sent(user.id))
        pushed = time.monotonic()
        await self.fake.push(update)  # type: ignore[arg-type]
        await self.fake.wait_for(lambda: len(self.fake.sent(user.id)) > before, within=10.0)
        reply: Call = self.fake.sent(user.id)[before]
        overtaken = sum(
            1
            for c in self.fake.sent()
            if pushed <= c.at < reply.at and FIRST_RECIPIENT <= c.params["chat_id"] < FIRST_CHATTER
        )
        return Wait(seconds=reply.at - pushed, broadcast_sends=overtaken)

    async def chat(self, people: int) -> list[Wait]:
        """`people` new guardians write «hola» one after another; how long each waited."""
        waits = []
        for n in range(people):
            user = TgUser(FIRST_CHATTER + n, f"Vecina {n}", language_code="es")
            waits.append(await self.first_reply_after(user, self.fake.updates.text(user, "hola")))
        return waits

    def refused(self) -> list[Call]:
        """Calls the fake answered 400 or 429."""
        return [c for c in self.fake.calls() if c.status in (400, 429)]
