"""Memory a server process spends on huge unauthenticated posts (body limits at work).

Starts the app under uvicorn in a child process on 127.0.0.1 with WhatsApp on, then posts
N bodies of SIZE MiB at once, streamed from generators, to the WhatsApp webhook and to a
staff API route, and prints the server's RSS growth and how long the refusals took.
Usage: python -m bench.body_limits_memory [SIZE_MIB] [N]
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import psutil

from bench._common import figure

CHUNK = b"x" * (256 * 1024)
SERVER = """
import uvicorn
from guardianes.app import create_app
from guardianes.config import Settings
uvicorn.run(create_app(Settings()), host="127.0.0.1", port={port}, log_level="warning")
"""


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _body(size: int) -> AsyncIterator[bytes]:
    sent = 0
    while sent < size:
        yield CHUNK
        sent += len(CHUNK)


async def _post(client: httpx.AsyncClient, url: str, size: int) -> str:
    try:
        response = await client.post(url, content=_body(size))
    except httpx.TransportError:
        return "closed"
    return str(response.status_code)


async def _measure(url: str, process: psutil.Process, size: int, count: int) -> None:
    async with httpx.AsyncClient(timeout=120) as client:
        await client.post(url, content=b"{}")
        before = process.memory_info().rss
        peak = before
        started = time.perf_counter()
        tasks = [asyncio.create_task(_post(client, url, size)) for _ in range(count)]
        while not all(task.done() for task in tasks):
            peak = max(peak, process.memory_info().rss)
            await asyncio.sleep(0.02)
        elapsed = time.perf_counter() - started
        answers = sorted({task.result() for task in tasks})
    name = url.split("127.0.0.1", 1)[1].split("/", 1)[1]
    figure(f"{name}: RSS growth ({', '.join(answers)})", (peak - before) / 2**20, "MiB")
    figure(f"{name}: time to refuse {count} posts", elapsed * 1000, "ms")


def main() -> None:
    size = int(sys.argv[1]) * 2**20 if len(sys.argv) > 1 else 300 * 2**20
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    port = _port()
    with tempfile.TemporaryDirectory() as folder:
        environment = {
            **os.environ,
            "GUARDIANES_DATABASE_URL": f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}",
            "GUARDIANES_MEDIA_DIR": str(Path(folder) / "media"),
            "GUARDIANES_SCHEDULER_ENABLED": "false",
            "WHATSAPP_TOKEN": "bench",
            "WHATSAPP_PHONE_NUMBER_ID": "1",
            "WHATSAPP_APP_SECRET": "bench",
        }
        child = subprocess.Popen([sys.executable, "-c", SERVER.format(port=port)], env=environment)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            process = psutil.Process(child.pid)
            figure("server RSS at start", process.memory_info().rss / 2**20, "MiB")
            for path in ("/webhooks/whatsapp", "/api/v1/broadcasts"):
                asyncio.run(_measure(base + path, process, size, count))
        finally:
            child.terminate()
            child.wait(timeout=20)


if __name__ == "__main__":
    main()
