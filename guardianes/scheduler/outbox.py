"""The outbox sender: claims due rows, sends them paced, and records what happened.

A row is claimed with a lease; if the process dies or a send times out with unknown
outcome, the lease expires and the row is sent again (at least once, never lost). A row
confirmed SENT is never claimed again. Only the oldest unsent row of a chat is claimable,
so one chat's messages keep their order.

Every time the sender uses (claims, leases, retry times) comes from its injectable `clock`,
and pacing from the pacers' own clock, so a test can run a long paced broadcast on one
virtual clock without waiting. Broadcast rows of a guardian deactivated after the row was
queued are closed instead of sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.bot.channel import Channel, Delivery, FailureKind, SendFailedError
from guardianes.conversations.messages import Prompt
from guardianes.observability.metrics import count_rate_limited
from guardianes.scheduler.pacing import ChannelPacer, pacers_from_settings
from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import GuardianStatus, OutboxKind, OutboxMessage, OutboxStatus
from guardianes.storage.repositories import guardians as guardians_repo
from guardianes.storage.repositories import outbox as outbox_repo
from guardianes.storage.types import utcnow

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300.0
UNKNOWN_CHANNEL_RETRY = timedelta(minutes=1)
# Messages nobody asked for just now: not sent once their guardian is no longer active.
UNSOLICITED_KINDS = (OutboxKind.BROADCAST, OutboxKind.VISIT)
INACTIVE_ERROR = "guardian no longer active"
WallClock = Callable[[], datetime]


def backoff_delay(attempt: int, *, base: float = 1.0, jitter: float = 0.2) -> float:
    """Exponential backoff with a little jitter, capped at five minutes."""
    delay: float = min(MAX_BACKOFF_SECONDS, base * 2.0 ** max(0, attempt - 1))
    return delay * (1.0 + random.uniform(0, jitter))


def default_pacers(runtime: Runtime) -> dict[str, ChannelPacer]:
    """Pacers at each platform's documented cap (configurable in settings)."""
    return pacers_from_settings(runtime.settings)


class _InFlight:
    """Sends past their pacer: first waiting for the platform's answer, then for their record."""

    def __init__(self) -> None:
        self.unanswered = 0
        self.unrecorded = 0
        self.answered = asyncio.Event()
        self.recorded = asyncio.Event()
        self.answered.set()
        self.recorded.set()

    def start(self) -> None:
        """A send was granted by its pacer."""
        self.unanswered += 1
        self.unrecorded += 1
        self.answered.clear()
        self.recorded.clear()

    def answer(self) -> None:
        """The platform answered one send (or the send failed)."""
        self.unanswered -= 1
        if not self.unanswered:
            self.answered.set()

    def finish(self) -> None:
        """One send's outcome is recorded (or abandoned)."""
        self.unrecorded -= 1
        if not self.unrecorded:
            self.recorded.set()


class _SentRecorder:
    """Records confirmed sends with group commit: one transaction for all that are waiting.

    While one commit runs, the sends confirmed meanwhile queue up and go in the next one, so
    a busy channel costs a few commits per second instead of one per message (SQLite has a
    single writer; concurrent commits would mostly wait on its lock).
    """

    def __init__(self, sender: OutboxSender) -> None:
        self._sender = sender
        self._waiting: list[tuple[int, str | None, asyncio.Future[None]]] = []
        self._lock = asyncio.Lock()

    async def record(self, outbox_id: int, platform_message_id: str | None) -> None:
        """Mark one row SENT (and its broadcast delivery); returns once committed."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((outbox_id, platform_message_id, done))
        async with self._lock:
            if not done.done():
                await self._commit_waiting()
        await done

    async def _commit_waiting(self) -> None:
        batch, self._waiting = self._waiting, []
        try:
            async with unit_of_work(self._sender.runtime.sessions) as session:
                now = self._sender.clock()
                marked = await outbox_repo.mark_sent_many(
                    session,
                    [(outbox_id, platform_id) for outbox_id, platform_id, _ in batch],
                    now=now,
                )
                await outbox_repo.sync_linked_deliveries(
                    session, marked, OutboxStatus.SENT, now=now
                )
        except asyncio.CancelledError:
            # Marking is idempotent: whoever holds the lock next commits these again.
            self._waiting = batch + self._waiting
            raise
        except Exception as error:
            for _, _, done in batch:
                done.set_exception(error)
            return
        for _, _, done in batch:
            done.set_result(None)


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
        clock: WallClock = utcnow,
    ) -> None:
        self.runtime = runtime
        self.pacers = pacers if pacers is not None else default_pacers(runtime)
        self.batch_size = batch_size
        self.lease = lease
        self.worker_id = worker_id or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self.clock = clock
        self._flight = _InFlight()
        self._recorder = _SentRecorder(self)
        self._draining = False
        self._released: list[int] = []
        self._task: asyncio.Task[None] | None = None

    @property
    def in_flight(self) -> int:
        """Sends past their pacer whose outcome is not recorded yet."""
        return self._flight.unrecorded

    async def answered(self) -> None:
        """Wait until no send is waiting for the platform's answer."""
        await self._flight.answered.wait()

    async def settled(self) -> None:
        """Wait until every started send has its outcome recorded.

        A process stopped at that moment leaves no message that reached the platform
        without its SENT mark, so nothing is sent twice after a restart.
        """
        await self._flight.recorded.wait()

    async def next_due(self) -> datetime | None:
        """When the next row of this process's channels becomes claimable; None if none."""
        channels = list(self.runtime.channels)
        if not channels:
            return None
        async with self.runtime.sessions() as session:
            return await outbox_repo.next_due_at(session, channels)

    def start(self) -> None:
        """Run `run_forever` in the background until `stop`."""
        self._task = asyncio.create_task(self.run_forever(), name="outbox")

    def drain(self) -> None:
        """From now on claim nothing and start no send; sends under way still finish."""
        self._draining = True
        self.runtime.outbox_wakeup.set()

    async def stop(self, *, grace: float) -> None:
        """Drain, let sends under way be recorded (up to `grace` seconds), then end the loop.

        A send cut off mid-flight would be sent again after its lease (the platform may
        already have it); one recorded before stopping never is.
        """
        self.drain()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace)
        except TimeoutError:
            logger.warning("outbox sender still busy after %.0f s; stopping it", grace)
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def deliver_batch(self) -> int:
        """Claim one batch of due rows and send them; returns how many were claimed."""
        channels = list(self.runtime.channels)
        if not channels or self._draining:
            return 0
        async with unit_of_work(self.runtime.sessions) as session:
            now = self.clock()
            rows = await outbox_repo.claim_due(
                session,
                worker=self.worker_id,
                channels=channels,
                limit=self.batch_size,
                lease=self.lease,
                now=now,
            )
            rows = await self._drop_inactive(session, rows, now)
        if rows:
            await asyncio.gather(*(self._deliver(row) for row in rows))
        if self._released:
            released, self._released = self._released, []
            async with unit_of_work(self.runtime.sessions) as session:
                await outbox_repo.release_claims(session, released, worker=self.worker_id)
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
        while not self._draining:
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

    async def _drop_inactive(
        self, session: AsyncSession, rows: list[OutboxMessage], now: datetime
    ) -> list[OutboxMessage]:
        """Close claimed broadcast rows whose guardian left meanwhile; returns the rest."""
        unsolicited = [r.id for r in rows if r.kind in UNSOLICITED_KINDS]
        gone = await outbox_repo.rows_of_inactive_guardians(session, unsolicited, UNSOLICITED_KINDS)
        if not gone:
            return rows
        for row_id in gone:
            await outbox_repo.close_row(
                session, row_id, OutboxStatus.UNREACHABLE, INACTIVE_ERROR, now=now
            )
        await outbox_repo.sync_linked_deliveries(session, gone, OutboxStatus.UNREACHABLE, now=now)
        skipped = set(gone)
        return [r for r in rows if r.id not in skipped]

    async def _deliver(self, row: OutboxMessage) -> None:
        channel = self.runtime.channels.get(row.channel)
        if channel is None:
            async with unit_of_work(self.runtime.sessions) as session:
                await outbox_repo.reschedule(
                    session,
                    row.id,
                    at=self.clock() + UNKNOWN_CHANNEL_RETRY,
                    error=f"channel {row.channel} not running",
                )
            return
        pacer = self.pacers.get(row.channel)
        if pacer is not None:
            await pacer.acquire(row.address)
        if self._draining:
            # Stopping: a row not yet sent goes back to the queue for the next process.
            self._released.append(row.id)
            return
        # No await between the pacer's grant and this count, so `answered()` and `settled()`
        # never miss a send that was granted a token.
        self._flight.start()
        answered = False

        def answer() -> None:
            nonlocal answered
            if not answered:
                answered = True
                self._flight.answer()

        try:
            await self._send_and_record(row, channel, pacer, answer)
        finally:
            answer()  # also when cancelled mid-send
            self._flight.finish()

    async def _send_and_record(
        self,
        row: OutboxMessage,
        channel: Channel,
        pacer: ChannelPacer | None,
        answer: Callable[[], None],
    ) -> None:
        delivery = Delivery(
            outbox_id=row.id,
            address=row.address,
            prompt=Prompt.from_json(row.payload),
            kind=row.kind,
            edit_message_id=row.edit_message_id,
            locale=row.locale,
            as_template=row.as_template,
        )
        failure: SendFailedError | None = None
        try:
            result = await channel.send(delivery)
        except SendFailedError as error:
            failure = error
        except Exception as error:
            # An adapter bug or an unexpected library error: retry with backoff, keep going.
            logger.exception("send of outbox row %s raised", row.id)
            failure = SendFailedError(FailureKind.RETRY, repr(error))
        wait = 0.0
        if failure is not None and failure.kind == FailureKind.RATE_LIMITED:
            count_rate_limited(row.channel)
            wait = failure.retry_after or backoff_delay(row.attempts)
            if pacer is not None:
                # Before anything else may send: the platform told the whole channel to stop.
                pacer.pause(wait)
        answer()
        if failure is not None:
            await self._record_failure(row, failure, wait)
            return
        await self._recorder.record(row.id, result.platform_message_id)

    async def _record_failure(
        self, row: OutboxMessage, failure: SendFailedError, wait: float
    ) -> None:
        settings = self.runtime.settings
        now = self.clock()
        async with unit_of_work(self.runtime.sessions) as session:
            match failure.kind:
                case FailureKind.RATE_LIMITED:
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
                        session, row.id, OutboxStatus.UNREACHABLE, failure.detail, now=now
                    )
                    closed += await outbox_repo.close_pending_for_address(
                        session,
                        row.channel,
                        row.address,
                        OutboxStatus.UNREACHABLE,
                        failure.detail,
                        now=now,
                    )
                    if row.guardian_id is not None:
                        await guardians_repo.set_guardian_status(
                            session, row.guardian_id, GuardianStatus.UNREACHABLE
                        )
                    await outbox_repo.sync_linked_deliveries(
                        session, closed, OutboxStatus.UNREACHABLE, now=now
                    )
                case _:
                    logger.warning("outbox row %s failed: %s", row.id, failure)
                    await outbox_repo.close_row(
                        session, row.id, OutboxStatus.FAILED, failure.detail, now=now
                    )
                    await outbox_repo.sync_linked_deliveries(
                        session, [row.id], OutboxStatus.FAILED, now=now
                    )
        if failure.kind in (FailureKind.OUTSIDE_WINDOW, FailureKind.RATE_LIMITED):
            self.runtime.outbox_wakeup.set()
