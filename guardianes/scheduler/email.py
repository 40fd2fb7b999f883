"""The e-mail loop: escalates overdue discrepancies and drains the evidence e-mail outbox.

Runs beside the reminder loop when SMTP is configured. Every pass is idempotent and every
claim atomic, so several processes may run it against one PostgreSQL database.
"""

from __future__ import annotations

from guardianes.scheduler.periodic import Periodic, run_every
from guardianes.services.reports.mail import EmailDispatcher
from guardianes.services.runtime import Runtime


async def start_email_loop(runtime: Runtime) -> Periodic:
    """Escalate, then send what is due, every poll interval, in the background."""
    dispatcher = EmailDispatcher(runtime.sessions, runtime.settings)
    return run_every(
        "evidence-email",
        runtime.settings.email_poll_seconds,
        dispatcher.escalate,
        dispatcher.run_once,
    )
