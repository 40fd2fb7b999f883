"""Our own cost of a broadcast: dispatcher + outbox sender against the fake Telegram Bot API.

The fake enforces Telegram's caps (30/s, ~1/s per chat) and the pacer is at the same cap,
but both run on a virtual clock: the real time measured is our overhead (claims, aiogram
HTTP calls, recording outcomes), not the pacing. At the real cap 10,000 messages take
about 5.5 minutes; the figure to watch is how far below that our overhead stays. The
virtual clock moves only once every granted send was answered, so sends go out one
after another: the throughput printed is a lower bound of what the sender can do.

Usage: python -m bench.broadcast_throughput [--recipients N] [--database-url URL]
(`URL` must name an empty scratch database; it is migrated. Default: a temporary SQLite.)
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench._common import figure, peak_rss_mib
from guardianes.services import broadcasts as broadcasts_service
from guardianes.storage.db import (
    create_engine,
    create_session_factory,
    unit_of_work,
    upgrade_database,
)
from guardianes.storage.repositories.broadcasts import RecipientFilter
from tests.fakes.telegram_server import FakeTelegramServer, RateLimits
from tests.scheduler.conftest import (
    VirtualClock,
    add_guardians,
    telegram_process,
    telegram_settings,
)

DEFAULT_RECIPIENTS = 10_000
INSERT_CHUNK = 2_000
REAL_SECONDS_ALLOWED = 3_600.0


async def run(recipients: int, url: str, folder: Path) -> None:
    """Create the guardians and the broadcast, send it, print figures."""
    engine = create_engine(url)
    await upgrade_database(engine)
    sessions = create_session_factory(engine)
    clock = VirtualClock()
    fake = FakeTelegramServer()
    limits = fake.enforce_limits(RateLimits(clock=clock))
    await fake.start()
    try:
        for start in range(1, recipients + 1, INSERT_CHUNK):
            count = min(INSERT_CHUNK, recipients + 1 - start)
            await add_guardians(sessions, count, start=start)
        started = time.perf_counter()
        async with unit_of_work(sessions) as session:
            broadcast, count = await broadcasts_service.create_broadcast(
                session, text="Hola, guardianes", recipients=RecipientFilter(), created_by="bench"
            )
        created = time.perf_counter() - started
        settings = telegram_settings(folder, fake)
        async with telegram_process(sessions, settings, clock) as process:
            started = time.perf_counter()
            report = await process.run_broadcast(broadcast.id, within=REAL_SECONDS_ALLOWED)
            elapsed = time.perf_counter() - started
    finally:
        await fake.stop()
        await engine.dispose()
    per_chat = Counter(call.params["chat_id"] for call in fake.sent())
    figure(f"{engine.dialect.name}: recipients", count, "")
    figure("create broadcast (deliveries)", created, "s")
    figure("dispatch + send, real time", elapsed, "s")
    figure("throughput (real time)", report.sent / elapsed, "messages/s")
    figure("paced time at Telegram's cap (virtual)", clock.now, "s")
    figure("cap / our throughput (headroom)", report.sent / elapsed / 30.0, "x")
    figure("429 answers", limits.refused, "")
    figure("sent", report.sent, "")
    figure("failed + unreachable", report.failed + report.unreachable, "")
    figure("lost (no message)", recipients - len(per_chat), "")
    figure("duplicates", sum(n - 1 for n in per_chat.values()), "")
    figure("peak memory", peak_rss_mib(), "MiB")


def main() -> None:
    """Default: 10,000 recipients on a scratch SQLite database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--recipients", type=int, default=DEFAULT_RECIPIENTS)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{folder}/bench.db"
        asyncio.run(run(args.recipients, url, Path(folder)))


if __name__ == "__main__":
    main()
