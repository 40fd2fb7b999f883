"""A server under test in a child process: start it, wait until it answers, read its memory.

The WhatsApp, web chat, memory and scale-out benchmarks all drive a real HTTP server on
127.0.0.1 (the Guardianes app, or a bare baseline app from `bench._baseline_apps`), so the
load generator and the server each have their own process, as in production.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from bench._common import REPO_ROOT

START_WITHIN = 120.0
# Everything a load would otherwise trip over: these benchmarks measure speed, not limits.
UNLIMITED = {
    "GUARDIANES_SCHEDULER_ENABLED": "false",
    "GUARDIANES_RATE_LIMIT_PERSON": "100000/second",
    "GUARDIANES_RATE_LIMIT_ADDRESS": "1000000/second",
    "GUARDIANES_RATE_LIMIT_CHAT_SESSIONS": "1000000/hour",
    "GUARDIANES_WHATSAPP_RATE_PER_SECOND": "1000000",
    "GUARDIANES_LOG_LEVEL": "WARNING",
}


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def guardianes_env(folder: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a Guardianes server: a scratch SQLite file unless a URL is given."""
    return {
        **os.environ,
        **UNLIMITED,
        "GUARDIANES_DATABASE_URL": database_url or f"sqlite+aiosqlite:///{folder / 'bench.db'}",
        "GUARDIANES_MEDIA_DIR": str(folder / "media"),
        **extra,
    }


def uvicorn_command(app: str, port: int, workers: int = 1) -> list[str]:
    """uvicorn serving an app factory ("module:function") on 127.0.0.1:port."""
    command = [sys.executable, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    return command + (["--workers", str(workers)] if workers > 1 else [])


@dataclass
class Served:
    """A running server process."""

    process: subprocess.Popen[bytes]
    base_url: str

    @property
    def pid(self) -> int:
        """The process id (uvicorn's supervisor when there are several workers)."""
        return self.process.pid

    def memory(self) -> tuple[float, float]:
        """(VmRSS, VmHWM) in MiB, summed over the process and its children (the workers)."""
        rss = peak = 0.0
        for pid in (self.pid, *_children(self.pid)):
            status = _status(pid)
            rss += status.get("VmRSS", 0.0)
            peak += status.get("VmHWM", 0.0)
        return rss, peak

    def worker_pids(self) -> list[int]:
        """The worker processes (empty for a single-process server)."""
        return _children(self.pid)


def _status(pid: int) -> dict[str, float]:
    """The memory lines of /proc/<pid>/status, in MiB."""
    values: dict[str, float] = {}
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return values
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key.startswith("Vm") and rest.strip().endswith("kB"):
            values[key] = int(rest.split()[0]) / 1024
    return values


def _children(pid: int) -> list[int]:
    """Direct children of a process (uvicorn's workers; its multiprocessing tracker too)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


@asynccontextmanager
async def served(
    command: Sequence[str], port: int, env: dict[str, str], *, log: Path | None = None
) -> AsyncIterator[Served]:
    """Start `command` (listening on `port`), wait for /healthz or any answer, stop it after."""
    process, output = _spawn(command, env, log)
    server = Served(process, f"http://127.0.0.1:{port}")
    try:
        await _answering(server)
        yield server
    finally:
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.to_thread(process.wait, 30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if output is not None:
            output.close()


def _spawn(
    command: Sequence[str], env: dict[str, str], log: Path | None
) -> tuple[subprocess.Popen[bytes], IO[bytes] | None]:
    output = log.open("wb") if log else None
    process = subprocess.Popen(
        list(command),
        env=env,
        cwd=REPO_ROOT,
        stdout=output or subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    return process, output


async def _answering(server: Served) -> None:
    deadline = time.monotonic() + START_WITHIN
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(f"the server exited with {server.process.returncode}")
            try:
                await client.get(f"{server.base_url}/healthz")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise RuntimeError(f"no answer from {server.base_url} within {START_WITHIN:.0f} s")
