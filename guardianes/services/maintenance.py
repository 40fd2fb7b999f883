"""Upkeep of photo files: the ones nothing refers to go (run by `scheduler.sweeps`).

Safe to run in every process at once: a file is removed only when nothing refers to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
from pathlib import Path

from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.repositories.media_refs import referenced_media_paths

logger = logging.getLogger(__name__)

# Only what the media store writes (`ab/<sha256>.<ext>`, or its `.part` while writing) is
# ever swept: other files under the media directory belong to someone else.
_STORED_PHOTO = re.compile(
    r"^[0-9a-f]{2}/[0-9a-f]{64}\.(jpg|png|webp|gif|heic|ogg|mp3|m4a|amr|wav)(\.part)?$"
)


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
