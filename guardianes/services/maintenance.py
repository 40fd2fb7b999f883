"""Periodic upkeep while the service runs: stuck inbound events and orphan photo files.

Both jobs run in every process (each is safe to run concurrently: events are processed
under the conversation lock, and a file is removed only when nothing refers to it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from guardianes.services.inbound import sweep_inbound
from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.repositories.media_refs import referenced_media_paths

logger = logging.getLogger(__name__)

Job = Callable[[Runtime], Awaitable[int]]


# Only what the media store writes (`ab/<sha256>.<ext>`, or its `.part` while writing) is
# ever swept: other files under the media directory belong to someone else.
_STORED_PHOTO = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{64}\.(jpg|png|webp|gif|heic)(\.part)?$")


def _files_older_than(root: Path, cutoff: float) -> list[Path]:
    if not root.is_dir():
        return []
    old: list[Path] = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            if not _STORED_PHOTO.match(path.relative_to(root).as_posix()):
                continue
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < cutoff:
                    old.append(path)
    return old


async def sweep_orphan_media(runtime: Runtime, *, now: float | None = None) -> int:
    """Remove photo files older than the grace time that nothing refers to; how many.

    A file is young while a message carrying it waits to be processed or a card is being
    filled; the grace time covers the moment between storing a file and recording it.
    """
    settings = runtime.settings
    root = settings.media_dir
    cutoff = (now or time.time()) - settings.media_orphan_grace_seconds
    candidates = await asyncio.to_thread(_files_older_than, root, cutoff)
    if not candidates:
        return 0
    async with unit_of_work(runtime.sessions) as session:
        referenced = await referenced_media_paths(session)
    removed = 0
    for path in candidates:
        if path.relative_to(root).as_posix() in referenced:
            continue
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(path.unlink)
            removed += 1
    if removed:
        logger.info("removed %d photo files nothing refers to", removed)
    return removed


class Maintenance:
    """Runs each job every so many seconds until stopped; a failing run is logged."""

    def __init__(self, runtime: Runtime) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.jobs: list[tuple[str, Job, float]] = [
            ("inbound sweep", sweep_inbound, settings.inbound_sweep_seconds),
            ("orphan media sweep", sweep_orphan_media, settings.media_sweep_seconds),
        ]
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start one loop per job."""
        for name, job, every in self.jobs:
            self._tasks.append(asyncio.create_task(self._loop(name, job, every), name=name))

    async def stop(self) -> None:
        """Stop the loops (a run under way is cancelled; its work is idempotent)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _loop(self, name: str, job: Job, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                done = await job(self.runtime)
            except Exception:
                logger.exception("%s failed; next run in %.0f s", name, every)
                continue
            if done:
                logger.info("%s: %d", name, done)
