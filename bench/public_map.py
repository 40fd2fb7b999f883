"""The public map on the real Chihuahua layers: GeoJSON cold, warm and revalidated (304),
and the page's first render in headless Chromium from a warm server.

The published data has about 450 spaces; `--copies N` adds N-1 shifted copies of every
layer so the map also carries 1,500+ polygons (4 copies: about 1,800).

Usage: python -m bench.public_map [--copies 4] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from playwright.sync_api import sync_playwright
from sqlalchemy import select

from bench._common import CHIHUAHUA_DATA, figure
from guardianes.app import create_app
from guardianes.config import Settings
from guardianes.importers.service import import_contracts, import_layers_csv
from guardianes.storage.db import (
    create_engine,
    create_session_factory,
    unit_of_work,
    upgrade_database,
)
from guardianes.storage.models import Layer, PublicSpace

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHIFT_DEGREES = 0.25  # each copy sits this far east of the previous one


def _shifted(geometry: dict, dx: float) -> dict:
    def move(c):
        if isinstance(c[0], (int, float)):
            return [c[0] + dx, *c[1:]]
        return [move(x) for x in c]

    return {**geometry, "coordinates": move(geometry["coordinates"])}


async def seed(url: str, copies: int) -> int:
    """Import the real data, then copies of every layer; returns how many spaces exist."""
    engine = create_engine(url)
    await upgrade_database(engine)
    sessions = create_session_factory(engine)
    async with unit_of_work(sessions) as session:
        await import_layers_csv(session, CHIHUAHUA_DATA / "layers.csv")
        await import_contracts(session, CHIHUAHUA_DATA / "contratos_municipio_2018_2020.csv")
    async with unit_of_work(sessions) as session:
        layers = list((await session.scalars(select(Layer))).all())
        spaces = list((await session.scalars(select(PublicSpace))).all())
        for copy in range(1, copies):
            dx = SHIFT_DEGREES * copy
            for layer in layers:
                twin = Layer(
                    file_name=f"{layer.file_name}#copy{copy}",
                    title=layer.title,
                    service_code=layer.service_code,
                    year=layer.year,
                    contract_number=layer.contract_number,
                    responsible_name=layer.responsible_name,
                    responsible_type=layer.responsible_type,
                )
                session.add(twin)
                await session.flush()
                for space in (s for s in spaces if s.layer_id == layer.id):
                    session.add(
                        PublicSpace(
                            layer_id=twin.id,
                            placemark_key=space.placemark_key,
                            source_code=space.source_code,
                            name=space.name,
                            kind=space.kind,
                            geometry_geojson=_shifted(space.geometry_geojson, dx),
                            centroid_lat=space.centroid_lat,
                            centroid_lon=space.centroid_lon + dx,
                            min_lat=space.min_lat,
                            min_lon=space.min_lon + dx,
                            max_lat=space.max_lat,
                            max_lon=space.max_lon + dx,
                        )
                    )
    async with unit_of_work(sessions) as session:
        total = len((await session.scalars(select(PublicSpace.id))).all())
    await engine.dispose()
    return total


class _Server(uvicorn.Server):
    def __init__(self, settings: Settings) -> None:
        super().__init__(uvicorn.Config(create_app(settings), log_level="warning"))
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self.ready.set()


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """The app on loopback in a background thread; yields its base URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    server = _Server(settings)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    server.ready.wait(60)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(30)
        listener.close()


def bench_settings(folder: Path, url: str) -> Settings:
    """Settings of a bench server: its own database, no scheduler, no tiles (no internet)."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=url,
        media_dir=folder / "media",
        scheduler_enabled=False,
        map_tiles_url="",
    )


def _timed_get(client: httpx.Client, url: str, **headers: str) -> tuple[float, httpx.Response]:
    start = time.perf_counter()
    response = client.get(url, headers=headers)
    return (time.perf_counter() - start) * 1000, response


def measure(base: str, runs: int) -> None:
    """Print the GeoJSON and first-render figures."""
    with httpx.Client(timeout=60) as client:
        url = f"{base}/mapa/api/espacios.geojson?zoom=10"
        cold, first = _timed_get(client, url)
        warm = [_timed_get(client, url)[0] for _ in range(runs)]
        etag = first.headers["etag"]
        revalidated = [_timed_get(client, url, **{"If-None-Match": etag}) for _ in range(runs)]
        assert all(r.status_code == 304 for _, r in revalidated)
        figure("geojson features", len(first.json()["features"]), "")
        figure("geojson size (zoom 10)", len(first.content) / 1024, "KiB")
        sent = int(first.headers.get("content-length", len(first.content)))
        figure("geojson size sent, gzip (zoom 10)", sent / 1024, "KiB")
        figure("geojson cold (first request)", cold, "ms")
        figure("geojson warm (median)", statistics.median(warm), "ms")
        figure("geojson 304 with ETag (median)", statistics.median(t for t, _ in revalidated), "ms")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        renders = []
        for index in range(runs + 1):
            # A fresh context each time: no browser cache, the server stays warm.
            context = browser.new_context(viewport={"width": 390, "height": 844})
            page = context.new_page()
            page.goto(f"{base}/mapa")
            page.wait_for_selector("body[data-ready='true']", timeout=60_000)
            if index:  # the first load warms the server's caches
                renders.append(float(page.locator("body").get_attribute("data-ready-ms") or 0))
            context.close()
        browser.close()
    figure("first render, warm server (median)", statistics.median(renders), "ms")
    figure("first render, warm server (max)", max(renders), "ms")
    # Times are wall-clock: on a shared machine they grow with the load, so it is printed too.
    figure("load average (1 min) after the run", os.getloadavg()[0], "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--copies", type=int, default=1, help="copies of every layer (1 = as published)"
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-map-"))
    url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    total = asyncio.run(seed(url, args.copies))
    figure("public spaces", total, "")
    with serve(bench_settings(folder, url)) as base:
        measure(base, args.runs)


if __name__ == "__main__":
    main()
