"""The e-mail loop: escalates overdue discrepancies and drains the evidence e-mail outbox.

Runs beside the reminder loop when SMTP is configured. Every pass is idempotent and every
claim atomic, so several processes may run it against one PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from guardianes.services.reports.mail import EmailDispatcher
from guardianes.services.runtime import Runtime

logger = logging.getLogger(__name__)


@dataclass
class EmailLoopHandle:
    """The running e-mail loop; `await handle.stop()` ends it."""

    dispatcher: EmailDispatcher
    poll_seconds: float
    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[Any] | None = None

    async def run_forever(self) -> None:
        """Escalate, then send what is due, every poll interval (or when woken)."""
        while True:
            for step in (self.dispatcher.escalate, self.dispatcher.run_once):
                try:
                    await step()
                except Exception:
                    # A database or SMTP hiccup must not stop the loop; the next pass retries.
                    logger.exception("e-mail step %s failed", step.__qualname__)
            self.wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wakeup.wait(), timeout=self.poll_seconds)

    async def stop(self) -> None:
        """Cancel the loop; a send under way is recorded as due again when its claim expires."""
        if self.task is None:
            return
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        self.task = None


async def start_email_loop(runtime: Runtime) -> EmailLoopHandle:
    """Start the e-mail loop in the background."""
    handle = EmailLoopHandle(
        dispatcher=EmailDispatcher(runtime.sessions, runtime.settings),
        poll_seconds=runtime.settings.email_poll_seconds,
    )
    handle.task = asyncio.create_task(handle.run_forever(), name="evidence-email")
    return handle
