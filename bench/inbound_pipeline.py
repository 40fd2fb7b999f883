"""Throughput and latency of the message path: dedupe, lock, engine, state + outbox commit.

Many guardians register and open the card menu at once (8 messages each).
Usage: python -m bench.inbound_pipeline [GUARDIANS] [DATABASE_URL]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench._common import figure, peak_rss_mib
from guardianes.config import Settings
from guardianes.conversations.messages import InboundKind, InboundMessage, Prompt
from guardianes.runtime.bootstrap import build_runtime, load_demo_data_once
from guardianes.services.inbound import handle_inbound
from guardianes.services.runtime import Runtime
from guardianes.storage.db import create_engine, upgrade_database
from guardianes.storage.repositories import outbox as outbox_repo


async def _last_prompt(runtime: Runtime, user: str) -> Prompt:
    async with runtime.sessions() as session:
        rows = await outbox_repo.pending_for_address(session, "webchat", user)
    return Prompt.from_json(rows[-1].payload)


async def _conversation(runtime: Runtime, user: str, latencies: list[float]) -> None:
    counter = 0

    async def send(kind: InboundKind, **values: object) -> None:
        nonlocal counter
        counter += 1
        message = InboundMessage(
            channel="webchat",
            user_id=user,
            external_id=f"{user}-{counter}",
            kind=kind,
            **values,  # type: ignore[arg-type]
        )
        started = time.perf_counter()
        await handle_inbound(runtime, message)
        latencies.append(time.perf_counter() - started)

    async def press(index: int) -> None:
        prompt = await _last_prompt(runtime, user)
        await send(InboundKind.CHOICE, payload=prompt.choices[index].payload)

    await send(InboundKind.TEXT, text="hola")
    await press(0)  # Español
    await press(0)  # consent
    await send(InboundKind.TEXT, text="Guardián de prueba")
    await send(InboundKind.TEXT, text="Centro")
    await press(0)  # fill a card
    await press(2)  # park card
    await send(InboundKind.TEXT, text="ayuda")


async def run(guardians: int, url: str, media: Path) -> None:
    """Run the conversations concurrently and print figures."""
    settings = Settings(_env_file=None, database_url=url, media_dir=media)  # type: ignore[call-arg]
    if not settings.is_sqlite:
        engine = create_engine(url)
        await upgrade_database(engine)
        await engine.dispose()
    runtime = await build_runtime(settings)
    await load_demo_data_once(runtime)
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(_conversation(runtime, f"u{i}", latencies) for i in range(guardians)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    figure(f"{runtime.engine.dialect.name}: guardians", guardians, "")
    figure("messages processed", len(latencies), "")
    figure("throughput", len(latencies) / elapsed, "messages/s")
    figure("latency p50", 1000 * statistics.median(latencies), "ms")
    figure("latency p95", 1000 * latencies[int(0.95 * (len(latencies) - 1))], "ms")
    figure("peak memory", peak_rss_mib(), "MiB")
    await runtime.close()


def main() -> None:
    """Default: 200 guardians on a scratch SQLite database."""
    guardians = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as folder:
        url = sys.argv[2] if len(sys.argv) > 2 else f"sqlite+aiosqlite:///{folder}/bench.db"
        asyncio.run(run(guardians, url, Path(folder) / "media"))


if __name__ == "__main__":
    main()
