"""How long a guardian who writes during a big broadcast waits for the reply (real clock).

The bot runs as `guardianes serve` runs it for Telegram (long polling, the inbound
pipeline, the outbox sender with its two lanes and database-shared pacing) against the fake
Bot API enforcing Telegram's caps (30 messages/s, about 1/s per chat). A broadcast to
`--recipients` guardians is queued; once it is under way, `--chatters` new guardians write
«hola» one after another and the time until the fake receives each first reply is
measured. Also printed: broadcast messages the fake received while each reply was
awaited, and the 429 answers (there should be none).

Usage: python -m bench.chat_during_broadcast [--recipients N] [--chatters N]
(a temporary SQLite database; figures depend on how busy the machine is.)
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bench._common import figure
from guardianes.config import Settings
from guardianes.runtime.bootstrap import build_runtime, load_demo_data_once
from tests.chat_load import BotUnderLoad, percentile
from tests.fakes.telegram_server import FakeTelegramServer, RateLimits

WARM_UP_SENDS = 60


async def run(recipients: int, chatters: int, folder: Path) -> None:
    """Start the bot against the fake, queue the broadcast, chat, print figures."""
    fake = FakeTelegramServer()
    fake.enforce_limits(RateLimits())
    await fake.start()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{folder / 'bench.db'}",
        media_dir=folder / "media",
        scheduler_enabled=False,
        telegram_bot_token=fake.token,
        telegram_api_base=fake.base_url,
    )
    runtime = await build_runtime(settings)
    await load_demo_data_once(runtime)
    bot = BotUnderLoad(runtime, fake)
    await bot.start()
    try:
        started = time.monotonic()
        await bot.broadcast(recipients)
        figure("broadcast queued (s)", time.monotonic() - started, "s")
        await fake.wait_for(lambda: bot.broadcast_sent() >= WARM_UP_SENDS, within=60.0)
        chat_started, sent_before = time.monotonic(), bot.broadcast_sent()
        waits = await bot.chat(chatters)
        elapsed = time.monotonic() - chat_started
        seconds = [w.seconds * 1000 for w in waits]
        overtaken = [float(w.broadcast_sends) for w in waits]
        figure("reply latency p50", percentile(seconds, 0.5), "ms")
        figure("reply latency p95", percentile(seconds, 0.95), "ms")
        figure("reply latency max", max(seconds), "ms")
        figure("broadcast sends while a reply was awaited p95", percentile(overtaken, 0.95), "")
        figure(
            "broadcast rate while chatting", (bot.broadcast_sent() - sent_before) / elapsed, "/s"
        )
        figure("broadcast messages still queued", recipients - bot.broadcast_sent(), "")
        figure("429 answers", sum(1 for c in fake.calls() if c.status == 429), "")
    finally:
        await bot.stop()
        await runtime.close()
        await fake.stop()


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=2_000)
    parser.add_argument("--chatters", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(args.recipients, args.chatters, Path(folder)))


if __name__ == "__main__":
    main()
