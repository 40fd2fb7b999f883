"""Import the real Chihuahua files (maps and 1,932 contracts) and time point lookups.

Usage: python -m bench.import_real_data [DATABASE_URL]
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time

from bench._common import CHIHUAHUA_DATA, figure, peak_rss_mib
from guardianes.conversations.messages import GeoPoint
from guardianes.geo.loader import load_gazetteer
from guardianes.importers.service import import_contracts, import_layers_csv
from guardianes.storage.db import (
    create_engine,
    create_session_factory,
    unit_of_work,
    upgrade_database,
)

LOOKUPS = 20_000


async def run(url: str) -> None:
    """Import, re-import, build the gazetteer and time lookups."""
    engine = create_engine(url)
    await upgrade_database(engine)
    sessions = create_session_factory(engine)
    for label in ("first import", "re-import (idempotent)"):
        started = time.perf_counter()
        async with unit_of_work(sessions) as session:
            await import_layers_csv(session, CHIHUAHUA_DATA / "layers.csv")
        layers_s = time.perf_counter() - started
        started = time.perf_counter()
        async with unit_of_work(sessions) as session:
            await import_contracts(session, CHIHUAHUA_DATA / "contratos_municipio_2018_2020.csv")
        contracts_s = time.perf_counter() - started
        figure(f"{label}: 4 KML layers (450 placemarks)", layers_s, "s")
        figure(f"{label}: 1,932 contracts", contracts_s, "s")
    started = time.perf_counter()
    async with unit_of_work(sessions) as session:
        gazetteer = await load_gazetteer(session, 150.0)
    figure("gazetteer build from database", time.perf_counter() - started, "s")
    rng = random.Random(7)
    points = [
        GeoPoint(rng.uniform(28.55, 28.75), rng.uniform(-106.20, -105.98)) for _ in range(LOOKUPS)
    ]
    started = time.perf_counter()
    found = sum(1 for p in points if gazetteer.space_at(p) is not None)
    elapsed = time.perf_counter() - started
    figure("point -> public space lookups", LOOKUPS / elapsed, "lookups/s")
    figure("lookups that matched a space (150 m)", 100 * found / LOOKUPS, "%")
    figure("peak memory", peak_rss_mib(), "MiB")
    await engine.dispose()


def main() -> None:
    """Run on the given database URL, or a scratch SQLite file."""
    if len(sys.argv) > 1:
        asyncio.run(run(sys.argv[1]))
        return
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(f"sqlite+aiosqlite:///{folder}/bench.db"))


if __name__ == "__main__":
    main()
