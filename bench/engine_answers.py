"""Engine and storage alone: answers per second completing the park card, no network.

Guardians register (not timed), then each completes the park card (18 answers: the card
menu, the space by location, the questions, two photos, the rating, a comment) through
`handle_inbound`: dedupe, lock, engine, state + outbox commit. Only those calls are timed.
Also counted: CPU time (this process and its SQLite thread; on a shared machine the
wall-clock rate mostly measures waiting for a core), SQL statements and commits per answer.

Baseline, same run: the engine alone (`advance`) replaying the very same turns in memory.
PostgreSQL runs when reachable (GUARDIANES_BENCH_POSTGRES, default the local server).

Usage: python -m bench.engine_answers [--guardians 30] [--concurrency 1] [--no-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench._common import figure, scratch_postgres
from guardianes.config import Settings
from guardianes.conversations.messages import InboundKind, InboundMessage, Prompt
from guardianes.runtime.bootstrap import build_runtime, load_demo_data_once
from guardianes.services import inbound as inbound_module
from guardianes.services.media import store_media
from guardianes.services.runtime import Runtime
from tests.chat_driver import ChatDriver

PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
CARD_PRESSES = ("Sí", "Bien", "Nada", "No", "Bien", "Bien", "Bien", "Bien")


class TimedDriver(ChatDriver):
    """A chat driver that times only the pipeline call, not reading replies back."""

    timings: list[float]

    async def send(self, kind: InboundKind, **values: object) -> list[Prompt]:
        """Send one message (timed when `timings` is set) and return the prompts."""
        inbound = InboundMessage(
            channel=self.channel,
            user_id=self.user_id,
            external_id=f"{self.user_id}-{len(self.replies)}-{time.monotonic_ns()}",
            kind=kind,
            **values,  # type: ignore[arg-type]
        )
        started = time.perf_counter()
        await inbound_module.handle_inbound(self.runtime, inbound)
        if getattr(self, "timings", None) is not None:
            self.timings.append(time.perf_counter() - started)
        return await self.new_replies()


async def register(driver: TimedDriver, n: int) -> None:
    """Language, consent, name, colonia."""
    await driver.text("hola")
    await driver.press("Español")
    await driver.press("Sí, acepto")
    await driver.text(f"Guardiana {n}")
    await driver.text("Centro")


async def park_card(driver: TimedDriver, media_dir: Path, n: int) -> None:
    """The whole park card (18 answers)."""
    photos = [
        await store_media(media_dir, PNG + f"{n}-{i}".encode(), max_bytes=10**6) for i in (1, 2)
    ]
    driver.timings = []
    await driver.press("Llenar una tarjeta")
    await driver.press("parques")
    await driver.location(28.6355, -106.089)
    await driver.press("Sí, es ese")
    for label in CARD_PRESSES:
        await driver.press(label)
    await driver.press("Omitir")
    for photo in photos:
        await driver.photos(photo)
    await driver.press("Listo")
    await driver.press("4 - Bien")
    await driver.text("Todo en orden")


class Counters:
    """SQL statements and commits on one engine."""

    def __init__(self, runtime: Runtime) -> None:
        self.statements = 0
        self.commits = 0
        sync_engine = runtime.engine.sync_engine
        event.listen(sync_engine, "before_cursor_execute", self._statement)
        event.listen(sync_engine, "commit", self._commit)

    def _statement(self, *_: Any) -> None:
        self.statements += 1

    def _commit(self, *_: Any) -> None:
        self.commits += 1


async def measure(url: str, folder: Path, guardians: int, concurrency: int) -> None:
    """Register, then time the cards; print figures for this database."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=url,
        media_dir=folder / "media",
        scheduler_enabled=False,
        rate_limit_person="100000/second",
    )
    runtime = await build_runtime(settings, migrate_sqlite=True)
    await load_demo_data_once(runtime)
    drivers = [TimedDriver(runtime, user_id=f"g{n}") for n in range(guardians)]
    for n, driver in enumerate(drivers):
        await register(driver, n)
    recorded: list[tuple[Any, ...]] = []
    original = inbound_module.advance

    def recording(*args: Any) -> Any:
        recorded.append(args)
        return original(*args)

    inbound_module.advance = recording  # type: ignore[assignment]
    counters = Counters(runtime)
    gate = asyncio.Semaphore(concurrency)

    async def one(n: int, driver: TimedDriver) -> None:
        async with gate:
            await park_card(driver, settings.media_dir, n)

    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        await asyncio.gather(*(one(n, d) for n, d in enumerate(drivers)))
    finally:
        inbound_module.advance = original  # type: ignore[assignment]
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    answers = sum(len(d.timings) for d in drivers)
    in_pipeline = sum(sum(d.timings) for d in drivers)
    statements, commits = counters.statements, counters.commits
    await runtime.close()

    replay_started = time.perf_counter()
    for args in recorded:
        original(*args)
    engine_rate = len(recorded) / (time.perf_counter() - replay_started)
    name = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    figure(
        f"{name}: answers/s (engine + storage)",
        answers / wall,
        "answers/s",
        baseline=engine_rate,
        baseline_name="engine alone",
        target="≥ 1,500/s (SQLite)" if name == "SQLite" else "",
    )
    figure(
        f"{name}: answers per CPU-second (engine + storage)",
        answers / cpu,
        "answers/s",
        baseline=engine_rate,
        baseline_name="engine alone",
        target="≥ 1,500/s (SQLite)" if name == "SQLite" else "",
    )
    figure(f"{name}: time per answer in the pipeline", 1000 * in_pipeline / answers, "ms")
    figure(f"{name}: SQL statements per answer", statements / answers, "")
    figure(f"{name}: commits per answer", commits / answers, "")


async def run(guardians: int, concurrency: int, postgres: bool) -> None:
    """SQLite, then PostgreSQL when reachable."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        await measure(url, Path(folder), guardians, concurrency)
    if postgres:
        async with scratch_postgres() as url:
            if url is None:
                print("PostgreSQL not reachable: skipped")
                return
            with tempfile.TemporaryDirectory() as folder:
                await measure(url, Path(folder), guardians, concurrency)


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--guardians", type=int, default=30)
    parser.add_argument("--concurrency", type=int, default=1, help="cards filled at once")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args.guardians, args.concurrency, not args.no_postgres))


if __name__ == "__main__":
    main()
