"""The privacy job: photos past GUARDIANES_MEDIA_RETENTION_DAYS and old export files go.

It runs at start and then every GUARDIANES_PRIVACY_JOB_INTERVAL_SECONDS. Several processes
on one PostgreSQL may run it at once: marking a photo deleted only touches rows not yet
marked, and removing a file that is already gone is not an error.
"""

from __future__ import annotations

from guardianes.scheduler.periodic import Periodic, run_every
from guardianes.services.privacy import RetentionReport, run_retention
from guardianes.services.runtime import Runtime


async def retention_pass(runtime: Runtime) -> RetentionReport:
    """One pass with the runtime's settings."""
    settings = runtime.settings
    return await run_retention(
        runtime.sessions,
        media_dir=settings.media_dir,
        retention_days=settings.media_retention_days,
        export_retention_hours=settings.privacy_export_retention_hours,
    )


async def start_privacy_job(runtime: Runtime) -> Periodic:
    """A retention pass now, then one every interval; stop it with `await job.stop()`."""

    async def retention() -> RetentionReport:
        return await retention_pass(runtime)

    return run_every("privacy retention", runtime.settings.privacy_job_interval_seconds, retention)
