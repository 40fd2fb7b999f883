"""Cost of operations: a /metrics scrape over big tables, and backup + restore.

Fills the tables the scrape reads (inbound events, outbox rows, a broadcast in progress)
with ROWS rows each, plus PHOTOS media files, then times the scrape's database snapshot
and exposition, a backup and a restore into a fresh database.
Usage: python -m bench.operations [ROWS] [PHOTOS] [DATABASE_URL SCRATCH_DATABASE_URL]
(without URLs: SQLite files in a temporary folder; with them: both must be empty databases).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from bench._common import figure, peak_rss_mib
from guardianes.config import Settings
from guardianes.observability.metrics import read_snapshot, render
from guardianes.services.backup import create_backup, restore_backup
from guardianes.storage.db import create_engine, create_session_factory, upgrade_database
from guardianes.storage.models import (
    Broadcast,
    BroadcastDelivery,
    Colonia,
    Guardian,
    InboundEvent,
    OutboxMessage,
)
from guardianes.storage.types import utcnow

BATCH = 5_000
STATUSES = ("queued", "sent", "sent", "sent", "failed")


async def _fill(url: str, rows: int) -> None:
    engine = create_engine(url)
    await upgrade_database(engine)
    now = utcnow()
    async with engine.begin() as conn:
        await conn.execute(insert(Colonia).values(id=1, name="Centro", normalized_name="centro"))
        await conn.execute(
            insert(Guardian).values(
                id=1,
                channel="telegram",
                channel_user_id="1",
                address="1",
                display_name="Bench",
                consent_at=now,
                privacy_notice_version="bench",
                colonia_id=1,
            )
        )
        await conn.execute(insert(Broadcast).values(id=1, text="bench", status="sending"))
        for start in range(0, rows, BATCH):
            size = min(BATCH, rows - start)
            await conn.execute(
                insert(InboundEvent),
                [
                    {
                        "channel": "telegram",
                        "external_id": str(start + i),
                        "status": "processed" if i % 10 else "received",
                        "received_at": now,
                    }
                    for i in range(size)
                ],
            )
            await conn.execute(
                insert(OutboxMessage),
                [
                    {
                        "channel": "telegram",
                        "address": str(i % 1000),
                        "payload": {"text": "bench"},
                        "status": STATUSES[i % len(STATUSES)],
                        "created_at": now - timedelta(seconds=i),
                        "next_attempt_at": now,
                    }
                    for i in range(size)
                ],
            )
        await conn.execute(
            insert(BroadcastDelivery),
            [{"broadcast_id": 1, "guardian_id": 1, "status": "pending", "updated_at": now}],
        )
    await engine.dispose()


def _photos(media: Path, count: int) -> None:
    for number in range(count):
        folder = media / f"{number % 256:02x}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{number:064x}.jpg").write_bytes(b"\xff\xd8\xff" + os.urandom(200_000))


async def run(rows: int, photos: int, url: str, scratch_url: str, folder: Path) -> None:
    """Fill, scrape, back up, restore; print figures."""
    await _fill(url, rows)
    _photos(folder / "media", photos)
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    await read_snapshot(sessions, ["telegram"])  # warm the pool and caches
    started = time.perf_counter()
    scrapes = 10
    for _ in range(scrapes):
        body = render(await read_snapshot(sessions, ["telegram"]))
    scrape = (time.perf_counter() - started) / scrapes
    await engine.dispose()
    figure(f"{engine.dialect.name}: rows per scraped table", rows, "")
    figure("/metrics snapshot + exposition", 1000 * scrape, "ms")
    figure("exposition size", len(body) / 1024, "KiB")

    settings = Settings(_env_file=None, database_url=url, media_dir=folder / "media")  # type: ignore[call-arg]
    started = time.perf_counter()
    report = await create_backup(settings, folder / "backup")
    backup = time.perf_counter() - started
    figure("backup", backup, "s")
    figure("backup size", report.size / 1024 / 1024, "MiB")

    target = Settings(_env_file=None, database_url=scratch_url, media_dir=folder / "restored")  # type: ignore[call-arg]
    started = time.perf_counter()
    await restore_backup(target, folder / "backup")
    figure("restore (checksums, load, row check, media)", time.perf_counter() - started, "s")
    figure("peak memory", peak_rss_mib(), "MiB")


def main() -> None:
    """Command-line entry point."""
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    photos = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        url = sys.argv[3] if len(sys.argv) > 3 else f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        scratch_url = (
            sys.argv[4] if len(sys.argv) > 4 else f"sqlite+aiosqlite:///{folder / 'restored.db'}"
        )
        asyncio.run(run(rows, photos, url, scratch_url, folder))


if __name__ == "__main__":
    main()
