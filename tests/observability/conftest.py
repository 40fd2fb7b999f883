"""Fixtures of the operations tests: `guardianes serve` in a subprocess, log capture."""

from __future__ import annotations

import io
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from guardianes.app import create_app
from guardianes.config import Settings
from guardianes.observability.logs import configure_logging

START_DEADLINE_SECONDS = 90.0
STOP_DEADLINE_SECONDS = 60.0
# Variables of the developer's shell that would switch channels on in the child process.
PLATFORM_VARIABLES = (
    "TELEGRAM_",
    "WHATSAPP_",
    "GUARDIANES_",
)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Served:
    """A `guardianes serve` process: where it listens and what it wrote to stderr."""

    process: subprocess.Popen[bytes]
    base_url: str
    stderr_path: Path

    @property
    def stderr(self) -> str:
        """Everything the process logged so far."""
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")


@contextmanager
def serve_process(tmp_path: Path, environment: dict[str, str]) -> Iterator[Served]:
    """Start `python -m guardianes serve` with `environment`, wait until it answers, stop it.

    It runs in `tmp_path` (no `.env` of the developer is read) and is stopped with SIGINT,
    as Ctrl-C or a service manager would.
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(PLATFORM_VARIABLES)}
    env.update(
        {
            "GUARDIANES_MEDIA_DIR": str(tmp_path / "media"),
            "GUARDIANES_PORT": str(port),
            "PYTHONUNBUFFERED": "1",
            **environment,
        }
    )
    stderr_path = tmp_path / f"serve-{port}.log"
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "guardianes", "serve"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    served = Served(process, f"http://127.0.0.1:{port}", stderr_path)
    try:
        _wait_until_live(served)
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=STOP_DEADLINE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_live(served: Served) -> None:
    deadline = time.monotonic() + START_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            pytest.fail(f"serve exited with {served.process.returncode}:\n{served.stderr}")
        try:
            if httpx.get(f"{served.base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # polling a starting process: there is no event to await
    pytest.fail(f"serve did not answer within {START_DEADLINE_SECONDS} s:\n{served.stderr}")


@pytest.fixture
def capture_logs() -> Iterator[Callable[[Settings], io.StringIO]]:
    """Configure the service's logging for some settings into a buffer; restored after."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)

    def configure(settings: Settings) -> io.StringIO:
        buffer = io.StringIO()
        configure_logging(settings, stream=buffer)
        return buffer

    yield configure
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


@asynccontextmanager
async def running_app(
    settings: Settings, *, client: tuple[str, int] = ("127.0.0.1", 50000), demo: bool = True
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The whole app with its lifespan, and an HTTP client connecting from `client`."""
    app = create_app(settings, demo=demo)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=client)
        async with httpx.AsyncClient(transport=transport, base_url="http://ops.test") as http:
            yield app, http


@pytest.fixture
async def ops_app(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app on the sample data, scraped from loopback."""
    async with running_app(settings) as started:
        yield started


def sample(exposition: str, name: str, **labels: str) -> float | None:
    """The value of one sample of a Prometheus text exposition, or None when absent."""
    for family in text_string_to_metric_families(exposition):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return float(found.value)
    return None
