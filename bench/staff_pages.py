"""The staff discrepancy queue with 10,000 discrepancies: server time and first render.

Seeds the real Chihuahua layers, then `--discrepancies` discrepancies spread over their
spaces, services and weeks; logs a viewer in and measures /staff/discrepancias (first page,
a filtered page, the last page) over HTTP, then its first contentful paint in headless
Chromium from a warm server.

Usage: python -m bench.staff_pages [--discrepancies 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright
from sqlalchemy import insert, select

from bench._common import figure
from bench.public_map import CHROMIUM, CHROMIUM_ARGS, bench_settings, seed, serve
from guardianes.conversations.obligations import obligations_of_service
from guardianes.domain.enums import (
    DiscrepancyKind,
    DiscrepancyStatus,
    EvidenceStrength,
    StaffTokenRole,
)
from guardianes.services import staff_tokens
from guardianes.storage.db import create_engine, create_session_factory, unit_of_work
from guardianes.storage.models import Layer, PublicSpace
from guardianes.storage.models_evidence import Discrepancy

QUEUE = "/staff/discrepancias"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
FIRST_WEEK = date(2025, 1, 6)  # a Monday
BATCH = 2000
# What the page waits for: the first paint with content, else the DOM being ready.
FIRST_RENDER_JS = """() => {
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  const nav = performance.getEntriesByType('navigation')[0];
  return paint ? paint.startTime : nav.domContentLoadedEventEnd;
}"""


async def seed_discrepancies(url: str, count: int) -> str:
    """`count` discrepancies over the spaces and weeks; returns a viewer's plain token."""
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    statuses, strengths = list(DiscrepancyStatus), list(EvidenceStrength)
    async with unit_of_work(sessions) as session:
        rows = (
            await session.execute(
                select(PublicSpace.id, Layer.service_code, Layer.contract_number).join(
                    Layer, Layer.id == PublicSpace.layer_id
                )
            )
        ).all()
        keys = [
            (space_id, service, contract, obligation)
            for space_id, service, contract in rows
            for obligation in obligations_of_service(service) or ("general",)
        ]
        now = datetime.now(UTC)
        values = []
        for index in range(count):
            space_id, service, contract, obligation = keys[index % len(keys)]
            week = FIRST_WEEK + timedelta(weeks=index // len(keys))
            seen = now - timedelta(minutes=index)
            values.append(
                {
                    "public_space_id": space_id,
                    "service_code": service,
                    "obligation": obligation,
                    "period_start": week,
                    "period_end": week + timedelta(days=6),
                    "kind": DiscrepancyKind.NOT_REPORTED,
                    "status": statuses[index % len(statuses)],
                    "contract_number": contract,
                    "strength": strengths[index % len(strengths)],
                    "guardian_count": 1 + index % 3,
                    "evidence_count": 1 + index % 4,
                    "first_observed_at": seen,
                    "last_observed_at": seen,
                    "created_at": seen,
                    "updated_at": seen,
                }
            )
        for start in range(0, count, BATCH):
            await session.execute(insert(Discrepancy), values[start : start + BATCH])
        _, token = await staff_tokens.create_token(
            session, name="bench", role=StaffTokenRole.VIEWER
        )
    await engine.dispose()
    return token


def _log_in(client: httpx.Client, token: str) -> None:
    form = client.get("/staff/login").text
    found = CSRF_INPUT.search(form)
    assert found, "the login form has no CSRF value"
    answer = client.post("/staff/login", data={"token": token, "csrf_token": found.group(1)})
    assert answer.status_code == 303, answer.text


def _timed(client: httpx.Client, path: str) -> float:
    start = time.perf_counter()
    answer = client.get(path)
    elapsed = (time.perf_counter() - start) * 1000
    assert answer.status_code == 200, answer.text[:300]
    return elapsed


def measure(base: str, token: str, count: int, runs: int) -> None:
    """Print the queue's server times and its first render in Chromium."""
    last = f"{QUEUE}?offset={max(0, count - 50)}"
    with httpx.Client(base_url=base, timeout=60) as client:
        _log_in(client, token)
        figure("queue page, cold (first request)", _timed(client, QUEUE), "ms")
        for name, path in (
            ("queue page 1", QUEUE),
            ("queue filtered (status=open)", f"{QUEUE}?status=open"),
            ("queue last page", last),
        ):
            times = [_timed(client, path) for _ in range(runs)]
            figure(f"{name}, warm (median)", statistics.median(times), "ms")
        cookies = [
            {"name": cookie.name, "value": cookie.value or "", "url": base}
            for cookie in client.cookies.jar
        ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        renders = []
        for _ in range(runs):
            # A fresh context each time: no browser cache, the server stays warm.
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_cookies(cookies)  # type: ignore[arg-type]
            page = context.new_page()
            page.goto(base + QUEUE)
            page.wait_for_selector("table tbody tr")
            renders.append(float(page.evaluate(FIRST_RENDER_JS)))
            context.close()
        browser.close()
    figure("queue first render, warm server (median)", statistics.median(renders), "ms")
    figure("queue first render, warm server (max)", max(renders), "ms")
    # Times are wall-clock: on a shared machine they grow with the load, so it is printed too.
    figure("load average (1 min) after the run", os.getloadavg()[0], "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--discrepancies", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-staff-"))
    url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    asyncio.run(seed(url, 1))
    token = asyncio.run(seed_discrepancies(url, args.discrepancies))
    figure("discrepancies", args.discrepancies, "")
    with serve(bench_settings(folder, url)) as base:
        measure(base, token, args.discrepancies, args.runs)


if __name__ == "__main__":
    main()
