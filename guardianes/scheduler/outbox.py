"""The outbox sender: claims due rows, sends them paced, and records what happened.

A row is claimed with a lease; if the process dies or a send times out with unknown
outcome, the lease expires and the row is sent again (at least once, never lost). A row
confirmed SENT is never claimed again. Only the oldest unsent row of a chat is claimable,
so one chat's messages keep their order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import uuid
from datetime import timedelta

from guardianes.bot.channel import Delivery, FailureKind, SendFailedError
from guardianes.conversations.messages import Prompt
from guardianes.scheduler.pacing import ChannelPacer
from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import GuardianStatus, OutboxMessage, OutboxStatus
from guardianes.storage.repositories import guardians as guardians_repo
from guardianes.storage.repositories import outbox as outbox_repo
from guardianes.storage.types import utcnow

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300.0
UNKNOWN_CHANNEL_RETRY = timedelta(minutes=1)


def backoff_delay(attempt: int, *, base: float = 1.0, jitter: float = 0.2) -> float:
    """Exponential backoff with a little jitter, capped at five minutes."""
    delay: float = min(MAX_BACKOFF_SECONDS, base * 2.0 ** max(0, attempt - 1))
    return delay * (1.0 + random.uniform(0, jitter))


def default_pacers(runtime: Runtime) -> dict[str, ChannelPacer]:
    """Pacers at each platform's documented cap (configurable in settings)."""
    settings = runtime.settings
    return {
        "telegram": ChannelPacer(
            settings.telegram_rate_per_second,
            burst=settings.telegram_rate_per_second,
            per_chat_rate=settings.telegram_rate_per_chat_per_second,
        ),
        "whatsapp": ChannelPacer(
            settings.whatsapp_rate_per_second, burst=settings.whatsapp_rate_per_second
        ),
    }


class OutboxSender:
    """Delivers outbox rows for the channels this process has."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        pacers: dict[str, ChannelPacer] | None = None,
        batch_size: int = 100,
        lease: timedelta = timedelta(seconds=60),
        worker_id: str | None = None,
    ) -> None:
        self.runtime = runtime
        self.pacers = pacers if pacers is not None else default_pacers(runtime)
        self.batch_size = batch_size
        self.lease = lease
        self.worker_id = worker_id or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"

    async def deliver_batch(self) -> int:
        """Claim one batch of due rows and send them; returns how many were claimed."""
        channels = list(self.runtime.channels)
        if not channels:
            return 0
        async with unit_of_work(self.runtime.sessions) as session:
            rows = await outbox_repo.claim_due(
                session,
                worker=self.worker_id,
                channels=channels,
                limit=self.batch_size,
                lease=self.lease,
            )
        if rows:
            await asyncio.gather(*(self._deliver(row) for row in rows))
        return len(rows)

    async def run_until_idle(self) -> int:
        """Deliver until nothing is due (tests and the CLI); returns rows claimed."""
        total = 0
        while claimed := await self.deliver_batch():
            total += claimed
        return total

    async def run_forever(self) -> None:
        """Deliver continuously, waking on new rows or every poll interval."""
        poll = self.runtime.settings.outbox_poll_seconds
        while True:
            try:
                claimed = await self.deliver_batch()
            except Exception:
                logger.exception("outbox batch failed; retrying")
                claimed = 0
            if claimed:
                continue
            self.runtime.outbox_wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.runtime.outbox_wakeup.wait(), timeout=poll)

    async def _deliver(self, row: OutboxMessage) -> None:
        channel = self.runtime.channels.get(row.channel)
        if channel is None:
            async with unit_of_work(self.runtime.sessions) as session:
                await outbox_repo.reschedule(
                    session,
                    row.id,
                    at=utcnow() + UNKNOWN_CHANNEL_RETRY,
                    error=f"channel {row.channel} not running",
                )
            return
        pacer = self.pacers.get(row.channel)
        if pacer is not None:
            await pacer.acquire(row.address)
        delivery = Delivery(
            outbox_id=row.id,
            address=row.address,
            prompt=Prompt.from_json(row.payload),
            kind=row.kind,
            edit_message_id=row.edit_message_id,
            locale=row.locale,
            as_template=row.as_template,
        )
        try:
            result = await channel.send(delivery)
        except SendFailedError as failure:
            await self._record_failure(row, failure, pacer)
            return
        except Exception as error:
            # An adapter bug or an unexpected library error: retry with backoff, keep going.
            logger.exception("send of outbox row %s raised", row.id)
            await self._record_failure(row, SendFailedError(FailureKind.RETRY, repr(error)), pacer)
            return
        async with unit_of_work(self.runtime.sessions) as session:
            if await outbox_repo.mark_sent(
                session, row.id, self.worker_id, result.platform_message_id
            ):
                await outbox_repo.sync_linked_deliveries(session, [row.id], OutboxStatus.SENT)

    async def _record_failure(
        self, row: OutboxMessage, failure: SendFailedError, pacer: ChannelPacer | None
    ) -> None:
        settings = self.runtime.settings
        now = utcnow()
        async with unit_of_work(self.runtime.sessions) as session:
            match failure.kind:
                case FailureKind.RATE_LIMITED:
                    wait = failure.retry_after or backoff_delay(row.attempts)
                    if pacer is not None:
                        pacer.pause(wait)
                    await outbox_repo.reschedule(
                        session, row.id, at=now + timedelta(seconds=wait), error=failure.detail
                    )
                case FailureKind.OUTSIDE_WINDOW if not row.as_template:
                    await outbox_repo.reschedule(
                        session, row.id, at=now, error=failure.detail, as_template=True
                    )
                case FailureKind.RETRY if row.attempts < settings.outbox_max_attempts:
                    delay = backoff_delay(row.attempts)
                    await outbox_repo.reschedule(
                        session, row.id, at=now + timedelta(seconds=delay), error=failure.detail
                    )
                case FailureKind.UNREACHABLE:
                    closed = [row.id]
                    await outbox_repo.close_row(
                        session, row.id, OutboxStatus.UNREACHABLE, failure.detail
                    )
                    closed += await outbox_repo.close_pending_for_address(
                        session, row.channel, row.address, OutboxStatus.UNREACHABLE, failure.detail
                    )
                    if row.guardian_id is not None:
                        await guardians_repo.set_guardian_status(
                            session, row.guardian_id, GuardianStatus.UNREACHABLE
                        )
                    await outbox_repo.sync_linked_deliveries(
                        session, closed, OutboxStatus.UNREACHABLE
                    )
                case _:
                    logger.warning("outbox row %s failed: %s", row.id, failure)
                    await outbox_repo.close_row(
                        session, row.id, OutboxStatus.FAILED, failure.detail
                    )
                    await outbox_repo.sync_linked_deliveries(session, [row.id], OutboxStatus.FAILED)
        if failure.kind in (FailureKind.OUTSIDE_WINDOW, FailureKind.RATE_LIMITED):
            self.runtime.outbox_wakeup.set()
