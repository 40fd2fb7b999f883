"""Periodic upkeep while the service runs: stuck inbound events and orphan photo files.

Both sweeps run in every process (each is safe to run concurrently: events are processed
under the conversation lock, and a file is removed only when nothing refers to it).
"""

from __future__ import annotations

from functools import partial

from guardianes.scheduler.periodic import Periodic, run_every
from guardianes.services.inbound import sweep_inbound
from guardianes.services.maintenance import sweep_orphan_media
from guardianes.services.runtime import Runtime


def start_sweeps(runtime: Runtime) -> list[Periodic]:
    """Start both sweeps, each first one interval after start; stop each with `stop()`."""
    settings = runtime.settings
    return [
        run_every(
            "inbound sweep",
            settings.inbound_sweep_seconds,
            partial(sweep_inbound, runtime),
            first_run_now=False,
            log_counts=True,
        ),
        run_every(
            "orphan media sweep",
            settings.media_sweep_seconds,
            partial(sweep_orphan_media, runtime),
            first_run_now=False,
            log_counts=True,
        ),
    ]
