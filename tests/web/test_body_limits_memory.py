"""Huge unauthenticated posts to a real uvicorn server cost it almost no memory.

The server runs in its own process (so its RSS is its own) on 127.0.0.1; the bodies are
streamed from generators, never built in memory, and refused while they stream in.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest

MEGABYTE = 1024 * 1024
POST_BYTES = 300 * MEGABYTE
CHUNK = b"x" * (256 * 1024)
# Importing the app (aiogram's types above all) takes seconds; far longer when the suite's
# parallel workers and Chromium share the two cores.
START_DEADLINE_SECONDS = 120.0
MAX_GROWTH_BYTES = 50 * MEGABYTE

SERVER_CODE = """
import uvicorn
from guardianes.app import create_app
from guardianes.config import Settings
uvicorn.run(create_app(Settings()), host="127.0.0.1", port={port}, log_level="warning")
"""


@dataclass(frozen=True)
class ServerProcess:
    """The app in its own process."""

    url: str
    process: psutil.Process


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_serving(url: str, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if child.poll() is not None:
            pytest.fail(f"the server exited with {child.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail("the server did not start")


@pytest.fixture
def server_process(tmp_path: Path, migrated_sqlite: Path) -> Iterator[ServerProcess]:
    """`create_app` under uvicorn in a child process, WhatsApp on (so its webhook exists)."""
    shutil.copyfile(migrated_sqlite, tmp_path / "server.db")
    port = _free_port()
    environment = {
        **os.environ,
        "GUARDIANES_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'server.db'}",
        "GUARDIANES_MEDIA_DIR": str(tmp_path / "media"),
        "GUARDIANES_SCHEDULER_ENABLED": "false",
        "WHATSAPP_TOKEN": "test-token",
        "WHATSAPP_PHONE_NUMBER_ID": "1234567890",
        "WHATSAPP_APP_SECRET": "app-secret",
        "WHATSAPP_API_BASE": "http://127.0.0.1:9/v23.0",
        "TELEGRAM_BOT_TOKEN": "",
    }
    environment.pop("TELEGRAM_BOT_TOKEN")
    child = subprocess.Popen(
        [sys.executable, "-c", SERVER_CODE.format(port=port)],
        env=environment,
        cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, child)
        yield ServerProcess(url, psutil.Process(child.pid))
    finally:
        child.terminate()
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


async def _huge_body() -> AsyncIterator[bytes]:
    sent = 0
    while sent < POST_BYTES:
        yield CHUNK
        sent += len(CHUNK)


async def _post_huge(client: httpx.AsyncClient, url: str) -> int | None:
    """The status the server answered, or None when it closed the connection mid-upload."""
    try:
        response = await client.post(
            url, content=_huge_body(), headers={"Content-Type": "application/json"}
        )
    except httpx.TransportError:
        return None
    return response.status_code


async def _peak_rss(process: psutil.Process, stop: asyncio.Event) -> int:
    peak = process.memory_info().rss
    while not stop.is_set():
        peak = max(peak, process.memory_info().rss)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.02)
    return max(peak, process.memory_info().rss)


@pytest.mark.parametrize("path", ["/webhooks/whatsapp", "/api/v1/broadcasts"])
async def test_three_unauthenticated_300_mb_posts_at_once_grow_the_server_under_50_mb(
    server_process: ServerProcess, path: str
) -> None:
    async with httpx.AsyncClient(timeout=60.0) as client:
        # One small request first, so lazily built parts of the app are not counted.
        await client.post(f"{server_process.url}{path}", content=b"{}")
        before = server_process.process.memory_info().rss
        stop = asyncio.Event()
        watcher = asyncio.create_task(_peak_rss(server_process.process, stop))
        statuses = await asyncio.gather(
            *(_post_huge(client, f"{server_process.url}{path}") for _ in range(3))
        )
        stop.set()
        peak = await watcher

    assert all(status in (413, None) for status in statuses), statuses
    assert peak - before < MAX_GROWTH_BYTES, f"grew {(peak - before) / MEGABYTE:.1f} MB"


async def test_a_declared_300_mb_body_is_refused_before_it_is_sent(
    server_process: ServerProcess,
) -> None:
    # The server answers from the headers alone; the client never needs to send the body.
    reader, writer = await asyncio.open_connection(*server_process.url[7:].split(":"))
    writer.write(
        b"POST /webhooks/whatsapp HTTP/1.1\r\nHost: test\r\n"
        + f"Content-Length: {POST_BYTES}\r\n\r\n".encode()
    )
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), timeout=10)
    writer.close()

    assert status_line.startswith(b"HTTP/1.1 413")
