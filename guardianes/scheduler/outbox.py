"""The outbox sender: claims due rows, sends them paced, and records what happened.

Two lanes: replies (and the keyboard edits that go with them) are claimed and paced ahead
of bulk rows (broadcasts, visit notices, reminders), so a guardian who writes during a
broadcast of thousands is answered at once; bulk rows also wait out the quiet hours.
Pacing is shared through the database by every process of one bot (`SharedPacer`).

A row is claimed with a lease (`GUARDIANES_OUTBOX_LEASE_SECONDS`). A send gets at most
`GUARDIANES_OUTBOX_SEND_TIMEOUT_SECONDS` (shorter than the lease) to be answered, and a
row whose lease would end before its send could is re-leased first, so while a process
lives no other process sends its rows. If the process dies, its claimed rows are sent
again once their lease expires: at least once, never lost. The ones that may then arrive
twice are those the platform had accepted but whose SENT mark was not yet committed: at
most the rows in flight, which each lane caps at `GUARDIANES_OUTBOX_MAX_IN_FLIGHT`. A row
confirmed SENT is never claimed again. Within a lane only the oldest unsent row of a chat
is claimable, so one chat's messages keep their order (a reply may overtake a broadcast
row queued for the same person, never another reply).

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
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.conversations.messages import Prompt
from guardianes.domain.enums import GuardianStatus, OutboxKind, OutboxStatus
from guardianes.observability.metrics import count_rate_limited
from guardianes.scheduler.pacing import (
    Pacer,
    SharedPacer,
    pacers_from_specs,
    record_rate_limited,
    shared_pacers_from_specs,
)
from guardianes.scheduler.quiet import QuietHours
from guardianes.services.delivery import (
    Channel,
    Delivery,
    FailureKind,
    SendFailedError,
    ShownMessage,
)
from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import OutboxMessage
from guardianes.storage.repositories import guardians as guardians_repo
from guardianes.storage.repositories import outbox as outbox_repo
from guardianes.storage.repositories.outbox import Lane, lane_of
from guardianes.storage.types import utcnow

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300.0
UNKNOWN_CHANNEL_RETRY = timedelta(minutes=1)
# Messages nobody asked for just now: not sent once their guardian is no longer active.
UNSOLICITED_KINDS = (OutboxKind.BROADCAST, OutboxKind.VISIT)
INACTIVE_ERROR = "guardian no longer active"
# A send must have this much lease left beyond its timeout, or the claim is renewed first.
LEASE_MARGIN = timedelta(seconds=1)
# A bulk send waits at most this long for replies being made or sent to be out of the way:
# the process's database and event loop go to the person who wrote, without starving the
# broadcast when people write all the time.
BULK_YIELD_SECONDS = 0.25
# How often idle chats' shared pacing rows are cleared.
PACING_CLEANUP_SECONDS = 600.0
WallClock = Callable[[], datetime]


def backoff_delay(attempt: int, *, base: float = 1.0, jitter: float = 0.2) -> float:
    """Exponential backoff with a little jitter, capped at five minutes."""
    delay: float = min(MAX_BACKOFF_SECONDS, base * 2.0 ** max(0, attempt - 1))
    return delay * (1.0 + random.uniform(0, jitter))


def default_pacers(runtime: Runtime) -> Mapping[str, Pacer]:
    """Pacers at each channel's cap (its plugin's spec), shared through the database."""
    if runtime.settings.outbox_shared_pacing:
        return shared_pacers_from_specs(runtime.pacing, runtime.sessions)
    return pacers_from_specs(runtime.pacing)


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
        pacers: Mapping[str, Pacer] | None = None,
        batch_size: int = 100,
        lease: timedelta | None = None,
        send_timeout: float | None = None,
        max_in_flight: int | None = None,
        worker_id: str | None = None,
        clock: WallClock = utcnow,
    ) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.pacers = pacers if pacers is not None else default_pacers(runtime)
        self.batch_size = batch_size
        self.lease = lease or timedelta(seconds=settings.outbox_lease_seconds)
        self.send_timeout = send_timeout or settings.outbox_send_timeout_seconds
        if timedelta(seconds=self.send_timeout) >= self.lease:
            raise ValueError("the send timeout must be shorter than the lease")
        self.max_in_flight = max_in_flight or settings.outbox_max_in_flight
        self.quiet = QuietHours.from_settings(settings)
        self.worker_id = worker_id or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
        self.clock = clock
        self._flight = _InFlight()
        self._recorder = _SentRecorder(self)
        self._draining = False
        self._released: list[int] = []
        self._shown: dict[int, ShownMessage] = {}
        self._claimed = dict.fromkeys(Lane, 0)  # claimed by the lane loops, not yet finished
        self._no_urgent = asyncio.Event()  # set while no reply is claimed and unfinished
        self._no_urgent.set()
        self._wakeups = {lane: asyncio.Event() for lane in Lane}
        self._deliveries: set[asyncio.Task[None]] = set()
        self._next_cleanup = 0.0
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

    def bulk_open(self) -> bool:
        """False inside the quiet hours, when broadcasts and reminders wait."""
        return self.quiet is None or not self.quiet.contains(self.clock())

    async def next_due(self) -> datetime | None:
        """When the next row of this process's channels becomes claimable; None if none."""
        channels = list(self.runtime.channels)
        if not channels:
            return None
        async with self.runtime.sessions() as session:
            urgent = await outbox_repo.next_due_at(session, channels, Lane.URGENT)
            bulk = await outbox_repo.next_due_at(session, channels, Lane.BULK)
        if bulk is not None and self.quiet is not None:
            bulk = self.quiet.ends_after(max(bulk, self.clock()))
        present = [m for m in (urgent, bulk) if m is not None]
        return min(present) if present else None

    def start(self) -> None:
        """Run `run_forever` in the background until `stop`."""
        self._task = asyncio.create_task(self.run_forever(), name="outbox")

    def drain(self) -> None:
        """From now on claim nothing and start no send; sends under way still finish."""
        self._draining = True
        self.runtime.outbox_wakeup.set()
        for wakeup in self._wakeups.values():
            wakeup.set()

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
        """Claim one batch of due rows, replies first, and send them; returns how many."""
        if not self.runtime.channels or self._draining:
            return 0
        rows = await self._claim(Lane.URGENT, self.batch_size)
        if self.bulk_open():
            rows += await self._claim(Lane.BULK, self.batch_size)
        if rows:
            await asyncio.gather(*(self._deliver(row) for row in rows))
        await self._give_back_released()
        return len(rows)

    async def run_until_idle(self) -> int:
        """Deliver until nothing is due (tests and the CLI); returns rows claimed."""
        total = 0
        while claimed := await self.deliver_batch():
            total += claimed
        return total

    async def run_forever(self) -> None:
        """Deliver continuously: one loop per lane, each waking on new rows or every poll."""
        forwarder = asyncio.create_task(self._forward_wakeups(), name="outbox wakeups")
        try:
            await asyncio.gather(self._run_lane(Lane.URGENT), self._run_lane(Lane.BULK))
            if self._deliveries:
                await asyncio.gather(*self._deliveries, return_exceptions=True)
        except asyncio.CancelledError:
            # Stopped hard: sends under way end here too, and their transactions roll back
            # before this returns (nothing of this process writes afterwards).
            for task in self._deliveries:
                task.cancel()
            await asyncio.gather(*self._deliveries, return_exceptions=True)
            raise
        finally:
            forwarder.cancel()
        await self._give_back_released()

    async def _forward_wakeups(self) -> None:
        """Producers set one event; each lane gets its own so neither eats the other's."""
        while True:
            await self.runtime.outbox_wakeup.wait()
            self.runtime.outbox_wakeup.clear()
            for wakeup in self._wakeups.values():
                wakeup.set()

    async def _run_lane(self, lane: Lane) -> None:
        poll = self.runtime.settings.outbox_poll_seconds
        wakeup = self._wakeups[lane]
        # Bulk rows are claimed in handfuls: a claim query per send would be wasted work.
        threshold = 1 if lane is Lane.URGENT else max(1, self.max_in_flight // 2)
        while not self._draining:
            wakeup.clear()
            drained = True
            try:
                free = self.max_in_flight - self._claimed[lane]
                if free >= threshold and (lane is Lane.URGENT or self.bulk_open()):
                    if lane is Lane.BULK:
                        await self._yield_to_replies()
                    limit = min(self.batch_size, free)
                    rows = await self._claim(lane, limit)
                    for row in rows:
                        self._spawn(lane, row)
                    # Fewer rows than asked: none was left to claim. A row due from now on
                    # sets the wakeup (its producer, or the delivery ahead of it in its
                    # chat), so claiming again at once would only find nothing.
                    drained = len(rows) < limit
                await self._give_back_released()
                if lane is Lane.URGENT:
                    await self._forget_idle_pacing()
            except Exception:
                logger.exception("outbox %s claim failed; retrying", lane)
            if not drained and self._claimed[lane] < self.max_in_flight:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), timeout=poll)

    async def _yield_to_replies(self) -> None:
        """Let replies being made (inbound processing) or sent go first, for a short while."""

        async def quiet() -> None:
            while not (self._no_urgent.is_set() and self.runtime.idle.is_set()):
                await self._no_urgent.wait()
                await self.runtime.idle.wait()

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(quiet(), BULK_YIELD_SECONDS)

    def _spawn(self, lane: Lane, row: OutboxMessage) -> None:
        self._claimed[lane] += 1
        if lane is Lane.URGENT:
            self._no_urgent.clear()
        task = asyncio.create_task(
            self._deliver(row, yield_to_replies=lane is Lane.BULK), name=f"outbox row {row.id}"
        )
        self._deliveries.add(task)

        def finished(done: asyncio.Task[None]) -> None:
            self._deliveries.discard(done)
            self._claimed[lane] -= 1
            if not self._claimed[Lane.URGENT]:
                self._no_urgent.set()
            if not done.cancelled() and done.exception() is not None:
                logger.error("delivery of row %s failed", row.id, exc_info=done.exception())
            # Capacity is free, and the chat's next row may be claimable now.
            self._wakeups[lane].set()
            self._wakeups[Lane.BULK].set()

        task.add_done_callback(finished)

    async def _forget_idle_pacing(self) -> None:
        if time.monotonic() < self._next_cleanup:
            return
        self._next_cleanup = time.monotonic() + PACING_CLEANUP_SECONDS
        for pacer in self.pacers.values():
            if isinstance(pacer, SharedPacer):
                await pacer.forget_idle_chats()

    async def _claim(self, lane: Lane, limit: int) -> list[OutboxMessage]:
        """Claim due rows of one lane, closing those of guardians who left meanwhile."""
        channels = list(self.runtime.channels)
        if not channels or limit <= 0:
            return []
        async with unit_of_work(self.runtime.sessions) as session:
            now = self.clock()
            rows = await outbox_repo.claim_due(
                session,
                worker=self.worker_id,
                channels=channels,
                limit=limit,
                lease=self.lease,
                now=now,
                lane=lane,
            )
            rows = await self._drop_inactive(session, rows, now)
            for row in rows:
                if row.edit_message_id:
                    shown = await self._shown_message(session, row)
                    if shown is not None:
                        self._shown[row.id] = shown
        return rows

    async def _shown_message(
        self, session: AsyncSession, row: OutboxMessage
    ) -> ShownMessage | None:
        """What the message this row edits shows now (rows before it in the chat are done)."""
        assert row.edit_message_id is not None
        state = await outbox_repo.message_state(
            session, row.channel, row.address, row.edit_message_id
        )
        if state is None:
            return None
        return ShownMessage(
            prompt=Prompt.from_json(state.payload),
            locale=state.locale,
            keyboard_closed=state.kind == OutboxKind.CLOSE_KEYBOARD,
        )

    async def _give_back_released(self) -> None:
        if self._released:
            released, self._released = self._released, []
            async with unit_of_work(self.runtime.sessions) as session:
                await outbox_repo.release_claims(session, released, worker=self.worker_id)

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
        # The lane loop takes a short claim for "nothing left": there may be more rows.
        self._wakeups[lane_of(rows[0].kind)].set()
        return [r for r in rows if r.id not in skipped]

    async def _keep_claim(self, row: OutboxMessage) -> bool:
        """Make sure the lease outlasts the send; False when another process has the row."""
        now = self.clock()
        if row.claimed_until is not None and row.claimed_until - now > (
            timedelta(seconds=self.send_timeout) + LEASE_MARGIN
        ):
            return True
        until = now + self.lease
        async with unit_of_work(self.runtime.sessions) as session:
            kept = await outbox_repo.extend_claim(
                session, row.id, worker=self.worker_id, until=until
            )
        if kept:
            row.claimed_until = until
        else:
            logger.warning("claim on outbox row %s lost while waiting to send", row.id)
        return kept

    async def _deliver(self, row: OutboxMessage, *, yield_to_replies: bool = False) -> None:
        shown = self._shown.pop(row.id, None)
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
        if yield_to_replies:
            await self._yield_to_replies()
        if pacer is not None:
            await pacer.acquire(row.address, urgent=lane_of(row.kind) is Lane.URGENT)
        if self._draining:
            # Stopping: a row not yet sent goes back to the queue for the next process.
            self._released.append(row.id)
            return
        if not await self._keep_claim(row):
            return
        # No await between the claim check and this count, so `answered()` and `settled()`
        # never miss a send that is about to start.
        self._flight.start()
        answered = False

        def answer() -> None:
            nonlocal answered
            if not answered:
                answered = True
                self._flight.answer()

        try:
            await self._send_and_record(row, channel, pacer, answer, shown)
        finally:
            answer()  # also when cancelled mid-send
            self._flight.finish()

    async def _send_and_record(
        self,
        row: OutboxMessage,
        channel: Channel,
        pacer: Pacer | None,
        answer: Callable[[], None],
        shown: ShownMessage | None,
    ) -> None:
        delivery = Delivery(
            outbox_id=row.id,
            address=row.address,
            prompt=Prompt.from_json(row.payload),
            kind=row.kind,
            edit_message_id=row.edit_message_id,
            locale=row.locale,
            as_template=row.as_template,
            shown=shown,
        )
        failure: SendFailedError | None = None
        try:
            result = await asyncio.wait_for(channel.send(delivery), self.send_timeout)
        except SendFailedError as error:
            failure = error
        except TimeoutError:
            # Unknown outcome: the platform may have it. Retried, so it may arrive twice.
            failure = SendFailedError(
                FailureKind.RETRY, f"no answer within {self.send_timeout:g} s"
            )
        except Exception as error:
            # An adapter bug or an unexpected library error: retry with backoff, keep going.
            logger.exception("send of outbox row %s raised", row.id)
            failure = SendFailedError(FailureKind.RETRY, repr(error))
        wait = 0.0
        if failure is not None and failure.kind == FailureKind.RATE_LIMITED:
            count_rate_limited(row.channel)
            wait = failure.retry_after or backoff_delay(row.attempts)
            record_rate_limited(row.channel)
            if pacer is not None:
                # Before anything else may send: the platform told the whole channel to stop.
                await pacer.pause(wait)
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
