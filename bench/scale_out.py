"""Scale-out on PostgreSQL: the WhatsApp webhook with 1, 2 and 4 uvicorn workers.

For each worker count: a new PostgreSQL database (created, migrated, dropped; server from
GUARDIANES_BENCH_POSTGRES), `uvicorn guardianes.app:create_app --factory --workers N`
(`guardianes serve` has no workers option) with WhatsApp on against the fake Graph API,
and the same load of guardians posting signed webhooks at machine speed. Measured:
updates/s (and its ratio to one worker), and that every update was processed exactly
once: one inbound event per message posted, all processed, and no reply sent twice. With
them, the CPU each update cost the workers, PostgreSQL and this process (the load generator
and the fake Graph API), and each worker's share of the load's time spent running and spent
runnable but waiting for a core: on a shared machine the second says whether more workers
could have helped at all.

Then the web chat across processes: two Guardianes processes on one database, each
browser posts to process A and holds its long-poll on process B (PostgreSQL LISTEN/NOTIFY
wakes B): replies received, updates/s and first-reply latency.

Usage: python -m bench.scale_out [--workers 1 2 4] [--guardians 100] [--steps 2]
       [--chat-guardians 50]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench._chat_loads import (
    FIRST_PHONE,
    Load,
    MeasuringGraph,
    WebChatChannel,
    WhatsAppChannel,
    calibrate,
    load,
    print_losses,
)
from bench._common import POSTGRES_ADMIN, figure, percentile, scratch_postgres
from bench._cpu import CpuMeter, backend_pids, own_cpu_seconds
from bench._served import Served, free_port, guardianes_env, served, uvicorn_command
from bench.whatsapp_webchat_e2e import APP_SECRET, GUARDIANES_APP, whatsapp_env
from tests.fakes.graph_server import WebhookFactory

SETTLE_WITHIN = 60.0
TARGET_TWO = 1.6


def _asyncpg_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def inbound_counts(url: str) -> tuple[Counter[str], int]:
    """WhatsApp inbound events by status, and how many external ids were stored twice."""
    connection = await asyncpg.connect(_asyncpg_url(url))
    try:
        rows = await connection.fetch(
            "SELECT status, count(*) AS n FROM inbound_events WHERE channel = 'whatsapp'"
            " GROUP BY status"
        )
        twice = await connection.fetchval(
            "SELECT count(*) FROM (SELECT external_id FROM inbound_events"
            " WHERE channel = 'whatsapp' GROUP BY external_id HAVING count(*) > 1) AS d"
        )
    finally:
        await connection.close()
    return Counter({row["status"]: row["n"] for row in rows}), int(twice)


async def settled_counts(url: str, posted: int) -> tuple[Counter[str], int]:
    """The counts once every posted message was processed (or SETTLE_WITHIN passed)."""
    deadline = time.monotonic() + SETTLE_WITHIN
    while True:
        counts, twice = await inbound_counts(url)
        done = counts["processed"] + counts["failed"] + counts["noted"]
        if done >= posted or time.monotonic() > deadline:
            return counts, twice
        await asyncio.sleep(0.5)


async def webhook_load(workers: int, guardians: int, steps: int, folder: Path) -> Load | None:
    """One worker count on a fresh database; prints its exactly-once figures."""
    async with scratch_postgres() as url:
        if url is None:
            print("PostgreSQL not reachable (GUARDIANES_BENCH_POSTGRES): skipped")
            return None
        graph = MeasuringGraph()
        await graph.start()
        port = free_port()
        command = uvicorn_command(GUARDIANES_APP, port, workers)
        env = guardianes_env(folder, url, **whatsapp_env(graph))
        factory = WebhookFactory(app_secret=APP_SECRET, phone_number_id=graph.phone_number_id)
        try:
            log = folder / f"workers-{workers}.log"
            async with served(command, port, env, log=log) as server:
                channel = WhatsAppChannel(graph, server.base_url, factory)
                try:
                    counts = await calibrate(channel, steps)
                    cpu = await _metered_load(channel, guardians, counts, server, url)
                    result = cpu.result
                    statuses, twice = await settled_counts(url, channel.posted)
                finally:
                    await channel.close()
        finally:
            await graph.stop()
    label = f"{workers} worker{'s' if workers > 1 else ''}, {guardians} guardians"
    stored = sum(statuses.values())
    figure(f"{label}: messages posted - events stored", channel.posted - stored, "", target="0")
    figure(f"{label}: events stored twice", twice, "", target="0")
    figure(f"{label}: events not processed", stored - statuses["processed"], "", target="0")
    per_guardian = Counter(
        int(s.to) - FIRST_PHONE for s in graph.delivered if s.to and s.to.isdigit()
    )
    expected = sum(counts)
    extra = sum(max(0, n - expected) for g, n in per_guardian.items() if g >= 0)
    figure(f"{label}: replies sent more than once", extra, "", target="0")
    figure(f"{label}: updates without a reply", result.lost, "", target="0")
    figure(f"{label}: posts sent again (connection closed)", channel.retried, "")
    print_losses(label, result)
    cpu.report(label)
    return result


@dataclass
class LoadCpu:
    """A load's result and the CPU each side spent on it."""

    result: Load
    workers: CpuMeter
    database: CpuMeter
    generator: float

    def report(self, label: str) -> None:
        """CPU per update of the workers, PostgreSQL and the load generator; worker busyness."""
        updates = max(1, self.result.updates)
        seconds = self.result.seconds or 1.0
        for name, used in (
            ("workers", self.workers.total),
            ("PostgreSQL", self.database.total),
            ("load generator", self.generator),
        ):
            figure(f"{label}: CPU per update, {name}", 1000 * used / updates, "ms")
        # Busy: running on a core; starved: runnable, waiting for one (the machine's limit).
        # Whatever is left of the wall time the worker waited on I/O, locks or sleeps.
        shares = sorted(
            ((used, self.workers.waited[pid]) for pid, used in self.workers.used.items() if used),
            reverse=True,
        )
        for n, (used, waited) in enumerate(shares, start=1):
            figure(f"{label}: worker {n} busy", 100 * used / seconds, "% of the load's time")
            figure(f"{label}: worker {n} starved", 100 * waited / seconds, "% of the load's time")


async def _metered_load(
    channel: WhatsAppChannel, guardians: int, counts: list[int], server: Served, url: str
) -> LoadCpu:
    """`load`, noting the CPU of the workers, of PostgreSQL's backends and of this process."""
    database = url.rsplit("/", 1)[1]
    workers, backends = CpuMeter(), CpuMeter()

    def worker_pids() -> list[int]:
        return server.worker_pids() or [server.pid]

    workers.start(worker_pids())
    backends.start(await backend_pids(POSTGRES_ADMIN, database))
    generator = own_cpu_seconds()
    result = await load(channel, guardians, counts)
    generator = own_cpu_seconds() - generator
    workers.stop(worker_pids())
    backends.stop(await backend_pids(POSTGRES_ADMIN, database))
    return LoadCpu(result, workers, backends, generator)


async def webchat_across(guardians: int, steps: int, folder: Path) -> None:
    """Posts to process A, long-polls on process B, one database."""
    async with scratch_postgres() as url:
        if url is None:
            return
        ports = [free_port(), free_port()]
        async with AsyncExitStack() as stack:
            a, b = [
                await stack.enter_async_context(
                    served(
                        uvicorn_command(GUARDIANES_APP, port),
                        port,
                        guardianes_env(folder, url),
                        log=folder / f"chat-{port}.log",
                    )
                )
                for port in ports
            ]
            channel = WebChatChannel(a.base_url, poll_url=b.base_url)
            try:
                counts = await calibrate(channel, steps)
                result = await load(channel, guardians, counts)
            finally:
                await channel.close()
    label = f"web chat, post on A, long-poll on B, {guardians} guardians"
    figure(f"{label}: updates answered", result.updates, "", target=f"{guardians * steps}")
    figure(f"{label}: updates/s", result.rate, "updates/s")
    figure(f"{label}: first reply p95", 1000 * percentile(result.latencies, 0.95), "ms")
    figure(f"{label}: updates without a reply", result.lost, "", target="0")
    print_losses(label, result)


async def run(workers: list[int], guardians: int, steps: int, chat_guardians: int) -> None:
    """Every worker count, then the web chat across processes."""
    rates: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as name:
        for count in workers:
            result = await webhook_load(count, guardians, steps, Path(name))
            if result is not None:
                rates[count] = result.rate
        one = rates.get(1)
        for count, rate in rates.items():
            figure(
                f"WhatsApp webhook, PostgreSQL, {count} worker(s): updates/s",
                rate,
                "updates/s",
                baseline=one if count > 1 else None,
                baseline_name="1 worker" if count > 1 else "",
                target=f"≥ {TARGET_TWO}× one" if count == 2 else "",
            )
        if chat_guardians:
            await webchat_across(chat_guardians, steps, Path(name))


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--guardians", type=int, default=100)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--chat-guardians", type=int, default=50, help="0: skip the web chat")
    args = parser.parse_args()
    asyncio.run(run(args.workers, args.guardians, args.steps, args.chat_guardians))


if __name__ == "__main__":
    main()
