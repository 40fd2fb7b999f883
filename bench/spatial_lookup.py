"""Spatial lookup: point → public space among many synthetic polygons plus the real ones.

The real Chihuahua layers are imported into a scratch database and read back as the
service reads them; `--polygons` synthetic parks (small squares and hexagons on a grid
over the city, some nested in larger areas) are added. Measured: index build time and
memory, and p50/p99 of `space_at` for random points (inside, near and far from spaces).
Baseline, same run: a naive scan (every polygon tested) on a sample of the same points.

What a slow query was doing is measured too, since the machine is shared: the p99 of the
thread's CPU time per query (the lookup's own cost), the share of queries during which
the kernel took the core away (involuntary context switches), the p99 of the others, and
the full garbage collections that ran during the queries.

Usage: python -m bench.spatial_lookup [--polygons 100000] [--queries 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import os
import random
import resource
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from shapely.geometry import Point, Polygon

from bench._common import CHIHUAHUA_DATA, figure, percentile
from guardianes.conversations.messages import GeoPoint
from guardianes.geo.index import IndexedSpace, SpatialGazetteer
from guardianes.geo.loader import load_gazetteer
from guardianes.importers.service import import_layers_csv
from guardianes.storage.db import (
    create_engine,
    create_session_factory,
    unit_of_work,
    upgrade_database,
)

CENTRE = (28.635, -106.089)  # lat, lon
SPAN_DEGREES = 0.25  # synthetic spaces cover about 25 x 25 km
MAX_DISTANCE_M = 150.0


async def real_spaces() -> list[IndexedSpace]:
    """The published layers, as the service indexes them."""
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite+aiosqlite:///{folder}/bench.db")
        await upgrade_database(engine)
        sessions = create_session_factory(engine)
        async with unit_of_work(sessions) as session:
            await import_layers_csv(session, CHIHUAHUA_DATA / "layers.csv")
        async with sessions() as session:
            gazetteer = await load_gazetteer(session, MAX_DISTANCE_M)
        await engine.dispose()
    return list(gazetteer._spaces)


def synthetic_spaces(count: int, first_id: int, rng: random.Random) -> list[IndexedSpace]:
    """`count` small parks scattered over the city, one in ten inside a larger area."""
    spaces = []
    lat0, lon0 = CENTRE[0] - SPAN_DEGREES / 2, CENTRE[1] - SPAN_DEGREES / 2
    for n in range(count):
        lat = lat0 + rng.random() * SPAN_DEGREES
        lon = lon0 + rng.random() * SPAN_DEGREES
        size = 0.0002 + rng.random() * 0.0008 * (5 if n % 10 == 0 else 1)
        sides = rng.choice((4, 6, 8))
        ring = [
            (
                lon + size * math.cos(2 * math.pi * k / sides),
                lat + size * math.sin(2 * math.pi * k / sides),
            )
            for k in range(sides)
        ]
        spaces.append(
            IndexedSpace(
                id=first_id + n,
                name=f"Parque sintético {n}",
                code=f"S-{n}",
                kind="parque",
                service="parks" if n % 3 else "garbage",
                geometry=Polygon(ring),
            )
        )
    return spaces


def naive_space_at(spaces: list[IndexedSpace], point: GeoPoint) -> int | None:
    """Test every polygon (the smallest containing one wins), no index."""
    here = Point(point.longitude, point.latitude)
    inside = [s for s in spaces if s.geometry.contains(here)]
    return min(inside, key=lambda s: s.geometry.area).id if inside else None


def points(count: int, rng: random.Random, spaces: list[IndexedSpace]) -> list[GeoPoint]:
    """Half inside a random space, half anywhere over the city."""
    found = []
    for n in range(count):
        if n % 2 == 0:
            inside = rng.choice(spaces).geometry.representative_point()
            found.append(GeoPoint(latitude=inside.y, longitude=inside.x))
        else:
            found.append(
                GeoPoint(
                    latitude=CENTRE[0] + (rng.random() - 0.5) * SPAN_DEGREES,
                    longitude=CENTRE[1] + (rng.random() - 0.5) * SPAN_DEGREES,
                )
            )
    return found


@dataclass
class Timings:
    """Per query: wall time, the thread's CPU time, and whether the core was taken away."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    preempted: list[bool] = field(default_factory=list)
    full_collections: int = 0

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        """Count full (generation 2) collections (a gc.callbacks hook)."""
        if phase == "stop" and info["generation"] == 2:
            self.full_collections += 1

    def uninterrupted_wall(self) -> list[float]:
        """Wall times of the queries that kept their core throughout."""
        return [w for w, p in zip(self.wall, self.preempted, strict=True) if not p]


def switches() -> int:
    """Involuntary context switches of this thread so far."""
    return resource.getrusage(resource.RUSAGE_THREAD).ru_nivcsw


def time_queries(gazetteer: SpatialGazetteer, sample: list[GeoPoint]) -> Timings:
    """Time `space_at` for every point, with what each query was interrupted by."""
    timings = Timings()
    gc.callbacks.append(timings.on_gc)
    try:
        for point in sample:
            # The counters are read outside the timed window, so they add nothing to it.
            before = switches()
            cpu_started = time.thread_time()
            started = time.perf_counter()
            gazetteer.space_at(point)
            timings.wall.append(time.perf_counter() - started)
            timings.cpu.append(time.thread_time() - cpu_started)
            timings.preempted.append(switches() != before)
    finally:
        gc.callbacks.remove(timings.on_gc)
    return timings


def run(polygons: int, queries: int, naive_queries: int) -> None:
    """Build the index, query it, scan naively; print figures."""
    rng = random.Random(16)
    real = asyncio.run(real_spaces())
    spaces = real + synthetic_spaces(polygons, 10_000_000, rng)
    gc.collect()
    process = psutil.Process()
    before = process.memory_info().rss
    started = time.perf_counter()
    gazetteer = SpatialGazetteer(spaces, [], max_distance_m=MAX_DISTANCE_M)
    build = time.perf_counter() - started
    gc.collect()
    memory = (process.memory_info().rss - before) / 2**20
    sample = points(queries, rng, spaces)
    timings = time_queries(gazetteer, sample)
    naive = []
    for point in sample[:naive_queries]:
        started = time.perf_counter()
        naive_space_at(spaces, point)
        naive.append(time.perf_counter() - started)
    figure("spaces indexed (real + synthetic)", len(spaces), f"({len(real)} real)")
    figure("index build", build, "s")
    figure("index memory (RSS growth while building)", memory, "MiB")
    for name, fraction in (("p50", 0.5), ("p99", 0.99)):
        figure(
            f"space_at {name}",
            1000 * percentile(timings.wall, fraction),
            "ms",
            baseline=1000 * percentile(naive, fraction),
            baseline_name="naive scan",
            target="< 1 ms" if name == "p99" else "",
        )
    figure("space_at p99 CPU time of the thread", 1000 * percentile(timings.cpu, 0.99), "ms")
    figure(
        "queries that lost their core meanwhile",
        100 * sum(timings.preempted) / len(timings.preempted),
        "%",
    )
    figure(
        "space_at p99 of the queries that kept it",
        1000 * percentile(timings.uninterrupted_wall(), 0.99),
        "ms",
    )
    figure("full garbage collections during the queries", timings.full_collections, "")
    figure("load average (1 min) at the end", os.getloadavg()[0], "")


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--polygons", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=5_000)
    parser.add_argument("--naive-queries", type=int, default=20)
    args = parser.parse_args()
    if not Path(CHIHUAHUA_DATA).is_dir():
        raise SystemExit(f"real data not found: {CHIHUAHUA_DATA}")
    run(args.polygons, args.queries, args.naive_queries)


if __name__ == "__main__":
    main()
