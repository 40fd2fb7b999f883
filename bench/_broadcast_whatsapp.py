"""The broadcast on the real clock on WhatsApp: a fake Graph API enforcing Meta's caps.

The bot runs as `guardianes serve` runs it for WhatsApp (the plugin's channel and pacing,
its webhook handler, the outbox sender): `--recipients` guardians who wrote within the
24-hour window get a broadcast while `--chatters` new people write «hola» through signed
webhooks, one after another.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from pathlib import Path

from aiohttp import web

from bench._waiting import until, until_sent
from guardianes.bot.whatsapp.plugin import WhatsAppPlugin, build_webhook
from guardianes.config import Settings
from guardianes.runtime.bootstrap import build_runtime, load_demo_data_once
from guardianes.runtime.channels import start_channels
from guardianes.scheduler.outbox import OutboxSender
from guardianes.scheduler.reminders import BroadcastDispatcher
from guardianes.services import broadcasts as broadcasts_service
from guardianes.storage.db import unit_of_work
from guardianes.storage.repositories.broadcasts import RecipientFilter
from guardianes.storage.types import utcnow
from tests.chat_load import add_recipients
from tests.fakes.graph_server import FakeGraphServer, Fault, Person, WebhookFactory
from tests.fakes.telegram_server import RateLimits

WHATSAPP_CAP = 80.0  # messages/s per business number (Cloud API default throughput)
PAIR_RATE = 1 / 6  # per person: about one message every 6 s, bursts up to 45
PAIR_BURST = 45.0
THROUGHPUT_ERROR = 130429
FIRST_RECIPIENT = 5_216_100_000_000
FIRST_CHATTER = 5_216_200_000_000
INSERT_CHUNK = 2_000
APP_SECRET = "bench-app-secret"
REPLY_WITHIN = 30.0


@dataclass
class CappedGraph(FakeGraphServer):
    """The fake Graph API answering Meta's throughput error above the caps."""

    limits: RateLimits = field(
        default_factory=lambda: RateLimits(
            per_chat_rate=PAIR_RATE,
            per_chat_burst=PAIR_BURST,
            overall_rate=WHATSAPP_CAP,
            overall_burst=WHATSAPP_CAP,
        )
    )
    delivered_at: list[tuple[int, float]] = field(default_factory=list)  # number, time

    async def _messages(self, request: web.Request) -> web.Response:
        body = await request.json()
        to = str(body.get("to") or "")
        wait = self.limits.check(to)
        if wait is not None:
            return self._fault_response(
                Fault(THROUGHPUT_ERROR, 429, "Rate limit hit", retry_after=str(wait))
            )
        response = await super()._messages(request)
        if response.status == 200 and to.isdigit():
            self.delivered_at.append((int(to), time.monotonic()))
        return response

    def reached(self, number: int) -> bool:
        """Whether some send reached this number."""
        return self.count(number, number + 1) > 0

    def count(self, first: int, last: int) -> int:
        """Sends delivered to numbers in [first, last)."""
        return sum(1 for number, _ in self.delivered_at if first <= number < last)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the WhatsApp run measured."""

    recipients: int
    per_number: Counter[int]
    span: float
    all_sends: int
    all_span: float
    refused: int
    waits: list[float]


async def run(recipients: int, chatters: int, folder: Path, warm_up: int, idle: float) -> Outcome:
    """Start the bot against the capped fake, queue the broadcast, chat, wait for the end."""
    graph = CappedGraph()
    await graph.start()
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{folder / 'bench.db'}",
        media_dir=folder / "media",
        scheduler_enabled=False,
        whatsapp_token=graph.token,
        whatsapp_phone_number_id=graph.phone_number_id,
        whatsapp_app_secret=APP_SECRET,
        whatsapp_api_base=graph.base_url,
    )
    runtime = await build_runtime(settings)
    await load_demo_data_once(runtime)
    stoppers = await start_channels(runtime, None)
    webhook = build_webhook(runtime, WhatsAppPlugin(settings).client)
    factory = WebhookFactory(app_secret=APP_SECRET, phone_number_id=graph.phone_number_id)
    sender = OutboxSender(runtime)
    sender.start()
    sent = partial(graph.count, FIRST_RECIPIENT, FIRST_CHATTER)
    waits: list[float] = []
    try:
        await add_recipients(
            runtime.sessions,
            recipients,
            channel="whatsapp",
            first_id=FIRST_RECIPIENT,
            wrote_at=utcnow() - timedelta(hours=1),
        )
        async with unit_of_work(runtime.sessions) as session:
            await broadcasts_service.create_broadcast(
                session,
                text="Mañana hay jornada de limpieza en el parque.",
                recipients=RecipientFilter(channel="whatsapp"),
                created_by="bench",
            )
        await BroadcastDispatcher(runtime).run_once()
        await until(lambda: sent() >= warm_up, within=60.0)
        for n in range(chatters):
            number = FIRST_CHATTER + n
            post = factory.text(Person(name=f"Vecina {n}", wa_id=str(number)), "hola")
            pushed = time.monotonic()
            status = await webhook.receive(post.body, post.headers["X-Hub-Signature-256"])
            assert status == 200, status
            await until(partial(graph.reached, number), within=REPLY_WITHIN, every=0.01)
            waits.append(time.monotonic() - pushed)
        await until_sent(sent, recipients, idle=idle)
        await asyncio.sleep(2.0)  # anything sent twice would show now
    finally:
        await sender.stop(grace=5.0)
        await runtime.drain()
        for stop in stoppers:
            await stop()
        await runtime.close()
        await graph.stop()
    broadcast = [
        (number, at)
        for number, at in graph.delivered_at
        if FIRST_RECIPIENT <= number < FIRST_CHATTER
    ]
    times = [at for _, at in broadcast]
    every = [at for _, at in graph.delivered_at]
    return Outcome(
        recipients=recipients,
        per_number=Counter(number for number, _ in broadcast),
        span=max(times) - min(times) if times else 0.0,
        all_sends=len(every),
        all_span=max(every) - min(every) if every else 0.0,
        refused=graph.limits.refused,
        waits=waits,
    )
