"""A broadcast on the real clock against a fake Bot API enforcing Telegram's caps.

The bot runs as `guardianes serve` runs it for Telegram (long polling, inbound pipeline,
outbox sender with its lanes and database-shared pacing). A broadcast to `--recipients`
guardians is queued; while it goes out, `--chatters` new guardians write «hola» one after
another. Measured: the broadcast's achieved rate as a share of the cap (30/s overall),
429 answers, recipients who got nothing, duplicates, and the chatters' reply latency.

At the real cap 10,000 recipients take about 5.5 minutes (6–7 with setup); the default
(1,500, what `make bench` runs) about 50 s.
With `--channel whatsapp` the same on WhatsApp (`bench._broadcast_whatsapp`): a fake Graph
API enforcing 80 messages/s per number, chatters writing through signed webhooks.
Usage: python -m bench.broadcast_realtime [--recipients 1500] [--chatters 30]
       [--channel telegram|whatsapp]
Full size: python -m bench.broadcast_realtime --recipients 10000
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections import Counter
from pathlib import Path

from bench import _broadcast_whatsapp as whatsapp
from bench._common import figure, percentile
from bench._waiting import until, until_sent
from guardianes.config import Settings
from guardianes.runtime.bootstrap import build_runtime, load_demo_data_once
from tests.chat_load import FIRST_CHATTER, FIRST_RECIPIENT, BotUnderLoad
from tests.fakes.telegram_server import FakeTelegramServer, RateLimits

TELEGRAM_CAP = 30.0
WARM_UP_SENDS = 30
SETTLE_SECONDS = 2.0
IDLE_SECONDS = 30.0  # no send for this long: what is still queued counts as lost


async def run(recipients: int, chatters: int, folder: Path) -> None:
    """Start the bot against the fake, queue the broadcast, chat, wait for the end."""
    fake = FakeTelegramServer()
    limits = fake.enforce_limits(RateLimits())
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
        await bot.broadcast(recipients)
        await until(lambda: bot.broadcast_sent() >= WARM_UP_SENDS, within=60.0)
        waits = await bot.chat(chatters)
        await until_sent(bot.broadcast_sent, recipients, idle=IDLE_SECONDS)
        await asyncio.sleep(SETTLE_SECONDS)  # anything sent twice would show now
    finally:
        await bot.stop()
        await runtime.close()
        await fake.stop()
    broadcast = [
        c
        for c in fake.sent()
        if isinstance(c.params.get("chat_id"), int)
        and FIRST_RECIPIENT <= c.params["chat_id"] < FIRST_CHATTER
    ]
    every_send = fake.sent()
    span = max(c.at for c in broadcast) - min(c.at for c in broadcast)
    total_span = max(c.at for c in every_send) - min(c.at for c in every_send)
    per_chat = Counter(c.params["chat_id"] for c in broadcast)
    seconds = [1000 * w.seconds for w in waits]
    figure(f"recipients ({recipients})", recipients, "")
    figure(
        "broadcast rate",
        len(broadcast) / span if span else 0.0,
        "messages/s",
        baseline=TELEGRAM_CAP,
        baseline_name="Telegram cap",
        target="≥ 0.95× cap",
    )
    figure(
        "all sends rate (broadcast + chat)",
        len(every_send) / total_span if total_span else 0.0,
        "messages/s",
        baseline=TELEGRAM_CAP,
        baseline_name="Telegram cap",
    )
    figure("429 answers", limits.refused, "", target="0")
    figure("lost (recipients without the message)", recipients - len(per_chat), "", target="0")
    figure("duplicated", sum(n - 1 for n in per_chat.values()), "", target="0")
    figure("chat reply p50 during the broadcast", percentile(seconds, 0.5), "ms")
    figure(
        "chat reply p95 during the broadcast", percentile(seconds, 0.95), "ms", target="< 250 ms"
    )


async def run_whatsapp(recipients: int, chatters: int, folder: Path) -> None:
    """The broadcast on WhatsApp; the same figures against WhatsApp's cap."""
    out = await whatsapp.run(recipients, chatters, folder, WARM_UP_SENDS, IDLE_SECONDS)
    seconds = [1000 * w for w in out.waits]
    figure(f"recipients ({recipients}, WhatsApp)", recipients, "")
    figure(
        "broadcast rate",
        out.per_number.total() / out.span if out.span else 0.0,
        "messages/s",
        baseline=whatsapp.WHATSAPP_CAP,
        baseline_name="WhatsApp cap",
        target="≥ 0.95× cap",
    )
    figure(
        "all sends rate (broadcast + chat)",
        out.all_sends / out.all_span if out.all_span else 0.0,
        "messages/s",
        baseline=whatsapp.WHATSAPP_CAP,
        baseline_name="WhatsApp cap",
    )
    figure("429 answers (130429)", out.refused, "", target="0")
    figure(
        "lost (recipients without the message)", recipients - len(out.per_number), "", target="0"
    )
    figure("duplicated", sum(n - 1 for n in out.per_number.values()), "", target="0")
    figure("chat reply p50 during the broadcast", percentile(seconds, 0.5), "ms")
    figure(
        "chat reply p95 during the broadcast", percentile(seconds, 0.95), "ms", target="< 250 ms"
    )


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--recipients", type=int, default=1_500)
    parser.add_argument("--chatters", type=int, default=30)
    parser.add_argument("--channel", choices=("telegram", "whatsapp"), default="telegram")
    args = parser.parse_args()
    measure = run if args.channel == "telegram" else run_whatsapp
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(measure(args.recipients, args.chatters, Path(folder)))


if __name__ == "__main__":
    main()
