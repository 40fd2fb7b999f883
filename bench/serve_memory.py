"""Memory: peak RSS of `guardianes serve` on a large database, idle and under load.

A scratch SQLite database gets the Chihuahua data (layers and contracts, as
`bench.import_real_data` imports them), then N guardians and M submissions in bulk
inserts. `python -m guardianes serve` runs on it as a child process with WhatsApp on (the
fake Graph API); VmRSS and VmHWM come from /proc/<pid>/status when it is idle, and again
after the web chat and WhatsApp loads of `bench.whatsapp_webchat_e2e` (one run each).
Baseline: the RSS of a bare FastAPI app under uvicorn (`bench._baseline_apps:bare`).

Usage: python -m bench.serve_memory [--guardians 10000] [--submissions 100000]
       [--load-guardians 200] [--steps 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from bench._chat_loads import MeasuringGraph, WebChatChannel, WhatsAppChannel, calibrate, load
from bench._common import CHIHUAHUA_DATA, figure
from bench._served import Served, free_port, guardianes_env, served, uvicorn_command
from bench.whatsapp_webchat_e2e import APP_SECRET, whatsapp_env
from guardianes.importers.service import import_contracts, import_layers_csv
from guardianes.storage.db import (
    create_engine,
    create_session_factory,
    unit_of_work,
    upgrade_database,
)
from guardianes.storage.models import CardDefinition, Guardian, PublicSpace, Submission
from tests.fakes.graph_server import WebhookFactory

TARGET = "< 250 MB"
BATCH = 5_000
SETTLE_SECONDS = 3.0


async def seed(url: str, guardians: int, submissions: int) -> None:
    """Migrate, import the Chihuahua data, then insert guardians and submissions in bulk."""
    engine = create_engine(url)
    await upgrade_database(engine)
    sessions = create_session_factory(engine)
    started = time.perf_counter()
    async with unit_of_work(sessions) as session:
        await import_layers_csv(session, CHIHUAHUA_DATA / "layers.csv")
    async with unit_of_work(sessions) as session:
        await import_contracts(session, CHIHUAHUA_DATA / "contratos_municipio_2018_2020.csv")
    async with unit_of_work(sessions) as session:
        found = (await session.scalars(select(PublicSpace.id))).all()
        spaces: list[int | None] = list(found) or [None]
        card = CardDefinition(form_id="bench_card", version="1", title="Bench card")
        session.add(card)
        await session.flush()
        card_id = card.id
    now = datetime.now(UTC).replace(tzinfo=None)
    for first in range(0, guardians, BATCH):
        rows = [
            {
                "channel": "telegram",
                "channel_user_id": str(90_000_000 + n),
                "address": str(90_000_000 + n),
                "display_name": f"Guardiana {n}",
                "consent_at": now,
                "privacy_notice_version": "bench",
            }
            for n in range(first, min(first + BATCH, guardians))
        ]
        async with unit_of_work(sessions) as session:
            await session.execute(insert(Guardian), rows)
    async with unit_of_work(sessions) as session:
        ids = list((await session.scalars(select(Guardian.id))).all())
    for first in range(0, submissions, BATCH):
        rows = [
            {
                "guardian_id": ids[n % len(ids)],
                "card_definition_id": card_id,
                "channel": "telegram",
                "answers": {"estado": "bien", "basura": "no", "nota": f"visita {n}"},
                "latitude": 28.6355,
                "longitude": -106.089,
                "public_space_id": spaces[n % len(spaces)],
                "started_at": now - timedelta(minutes=n % 10_000 + 5),
                "completed_at": now - timedelta(minutes=n % 10_000),
            }
            for n in range(first, min(first + BATCH, submissions))
        ]
        async with unit_of_work(sessions) as session:
            await session.execute(insert(Submission), rows)
    await engine.dispose()
    figure("seed: Chihuahua data, guardians, submissions", time.perf_counter() - started, "s")


async def settled(server: Served) -> tuple[float, float]:
    """(VmRSS, VmHWM) in MiB once the server had a moment with nothing to do."""
    await asyncio.sleep(SETTLE_SECONDS)
    return server.memory()


async def bare_rss(folder: Path) -> float:
    """RSS of a bare FastAPI app under uvicorn, idle."""
    port = free_port()
    command = uvicorn_command("bench._baseline_apps:bare", port)
    async with served(command, port, dict(os.environ), log=folder / "bare.log") as server:
        return (await settled(server))[0]


async def run(guardians: int, submissions: int, load_guardians: int, steps: int) -> None:
    """Seed, serve, measure idle, load, measure again."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        await seed(url, guardians, submissions)
        baseline = await bare_rss(folder)
        graph = MeasuringGraph()
        await graph.start()
        port = free_port()
        command = [sys.executable, "-m", "guardianes", "serve", "--port", str(port)]
        env = guardianes_env(folder, url, **whatsapp_env(graph))
        try:
            async with served(command, port, env, log=folder / "serve.log") as server:
                rss, _ = await settled(server)
                base = "bare FastAPI app under uvicorn"
                label = f"serve, {guardians:,} guardians, {submissions:,} submissions"
                figure(
                    f"{label}: idle RSS",
                    rss,
                    "MiB",
                    baseline=baseline,
                    baseline_name=base,
                    target=TARGET,
                )
                chat = WebChatChannel(server.base_url)
                factory = WebhookFactory(
                    app_secret=APP_SECRET, phone_number_id=graph.phone_number_id
                )
                whatsapp = WhatsAppChannel(graph, server.base_url, factory)
                lost = 0
                for channel in (chat, whatsapp):
                    try:
                        counts = await calibrate(channel, steps)
                        lost += (await load(channel, load_guardians, counts)).lost
                    finally:
                        await channel.close()
                rss, peak = await settled(server)
                after = f"{label}, after {load_guardians} web chat + {load_guardians} WhatsApp"
                figure(f"{after}: RSS", rss, "MiB", baseline=baseline, baseline_name=base)
                figure(
                    f"{after}: peak RSS (VmHWM)",
                    peak,
                    "MiB",
                    baseline=baseline,
                    baseline_name=base,
                    target=TARGET,
                )
                figure(f"{after}: updates without a reply", lost, "", target="0")
        finally:
            await graph.stop()


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--guardians", type=int, default=10_000)
    parser.add_argument("--submissions", type=int, default=100_000)
    parser.add_argument("--load-guardians", type=int, default=200)
    parser.add_argument("--steps", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(run(args.guardians, args.submissions, args.load_guardians, args.steps))


if __name__ == "__main__":
    main()
