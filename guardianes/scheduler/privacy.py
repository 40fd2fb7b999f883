"""The privacy job: photos past GUARDIANES_MEDIA_RETENTION_DAYS and old export files go.

It runs at start and then every GUARDIANES_PRIVACY_JOB_INTERVAL_SECONDS. Several processes
on one PostgreSQL may run it at once: marking a photo deleted only touches rows not yet
marked, and removing a file that is already gone is not an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from guardianes.services.privacy import RetentionReport, run_retention
from guardianes.services.runtime import Runtime

logger = logging.getLogger(__name__)


async def retention_pass(runtime: Runtime) -> RetentionReport:
    """One pass with the runtime's settings."""
    settings = runtime.settings
    return await run_retention(
        runtime.sessions,
        media_dir=settings.media_dir,
        retention_days=settings.media_retention_days,
        export_retention_hours=settings.privacy_export_retention_hours,
    )


@dataclass
class PrivacyJob:
    """The background loop; `await job.stop()` ends it."""

    runtime: Runtime
    task: asyncio.Task[Any] | None = None
    passes: int = 0
    # Set after every pass, successful or not (tests and shutdown wait on it, never sleep).
    pass_done: asyncio.Event = field(default_factory=asyncio.Event)

    async def run_forever(self) -> None:
        """A pass now, then one every interval; a failed pass is logged and retried later."""
        while True:
            try:
                await retention_pass(self.runtime)
            except Exception:
                logger.exception("privacy retention pass failed")
            self.passes += 1
            self.pass_done.set()
            await asyncio.sleep(self.runtime.settings.privacy_job_interval_seconds)

    def start(self) -> None:
        """Run the loop in the background."""
        self.task = asyncio.create_task(self.run_forever(), name="privacy retention")

    async def stop(self) -> None:
        """Cancel the loop (an interrupted pass rolls back; the next one redoes it)."""
        if self.task is None:
            return
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        self.task = None


async def start_privacy_job(runtime: Runtime) -> PrivacyJob:
    """Start the retention loop; stop it with `await job.stop()`."""
    job = PrivacyJob(runtime)
    job.start()
    return job
