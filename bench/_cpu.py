"""CPU time of the processes a load involves: server workers, PostgreSQL backends, this one.

Read from /proc (Linux), so a benchmark can say how much CPU each update cost and whether
a worker was busy all the time or waiting: on a machine shared with the load generator and
the database, a ratio of updates/s says little without it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of one process so far (0 once it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return 0.0
    # Fields after the command name (which may hold spaces): state is the first, utime the
    # 12th, stime the 13th.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def runqueue_seconds(pid: int) -> float:
    """Time the threads of one process spent runnable but waiting for a core (0 once gone).

    High against the CPU time means the machine, not the process, is the limit: the process
    had work and no core to run it on.
    """
    total = 0
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            total += int((task / "schedstat").read_text(encoding="ascii").split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


def own_cpu_seconds() -> float:
    """CPU time of this process (the load generator and its fakes)."""
    return time.process_time()


async def backend_pids(url: str, database: str) -> list[int]:
    """PostgreSQL server processes connected to `database` now."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1", database
        )
    finally:
        await connection.close()
    return [int(row["pid"]) for row in rows]


@dataclass
class CpuMeter:
    """CPU seconds of some processes between `start` and `stop` (new ones count from zero)."""

    started: dict[int, tuple[float, float]] = field(default_factory=dict)
    used: dict[int, float] = field(default_factory=dict)
    waited: dict[int, float] = field(default_factory=dict)

    def start(self, pids: Iterable[int]) -> None:
        """Note where each process stands now."""
        self.started = {pid: (cpu_seconds(pid), runqueue_seconds(pid)) for pid in pids}

    def stop(self, pids: Iterable[int]) -> None:
        """CPU used and run-queue time since `start` by each process (one gone counts nothing)."""
        for pid in set(self.started) | set(pids):
            cpu, queue = self.started.get(pid, (0.0, 0.0))
            self.used[pid] = max(0.0, cpu_seconds(pid) - cpu)
            self.waited[pid] = max(0.0, runqueue_seconds(pid) - queue)

    @property
    def total(self) -> float:
        """CPU seconds used by all of them."""
        return sum(self.used.values())
