"""Helpers shared by the benchmark scripts.

Every script prints its figures with `figure()`. Under the runner (`python -m bench`) the
environment names a file (`BENCH_FIGURES`) and each figure is also appended to it as one
JSON line, with its baseline when the script measured one in the same run.
"""

from __future__ import annotations

import json
import math
import os
import resource
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CHIHUAHUA_DATA = REPO_ROOT.parent / "shared" / "data" / "chihuahua"
FIGURES_ENV = "BENCH_FIGURES"
POSTGRES_ADMIN = os.environ.get(
    "GUARDIANES_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024


def figure(
    name: str,
    value: float,
    unit: str,
    *,
    baseline: float | None = None,
    baseline_name: str = "",
    target: str = "",
) -> None:
    """Print one figure in a fixed, grep-able layout (and record it for the runner)."""
    against = f"   (baseline {baseline:.2f}: {baseline_name})" if baseline is not None else ""
    print(f"{name:<48} {value:>12.2f} {unit}{against}", flush=True)
    path = os.environ.get(FIGURES_ENV)
    if path:
        record = {
            "name": name,
            "value": value,
            "unit": unit,
            "baseline": baseline,
            "baseline_name": baseline_name,
            "target": target,
        }
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (0 < fraction <= 1); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@asynccontextmanager
async def scratch_postgres() -> AsyncIterator[str | None]:
    """A new, migrated PostgreSQL database (its SQLAlchemy URL), dropped afterwards.

    None when the server (GUARDIANES_BENCH_POSTGRES) cannot be reached.
    """
    import asyncpg

    from guardianes.storage.db import create_engine, upgrade_database

    name = f"guardianes_bench_{uuid.uuid4().hex[:10]}"
    try:
        admin = await asyncpg.connect(POSTGRES_ADMIN)
    except (OSError, asyncpg.PostgresError):
        yield None
        return
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        base = POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        url = f"{base}/{name}"
        engine = create_engine(url)
        await upgrade_database(engine)
        await engine.dispose()
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
