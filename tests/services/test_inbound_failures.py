"""Inbound failure policy: passing errors retried with backoff and a cap, bugs failed at once,
and a periodic sweep that picks up events nobody processed."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from guardianes.conversations.messages import InboundKind, InboundMessage
from guardianes.domain.enums import InboundStatus
from guardianes.services import inbound as inbound_service
from guardianes.services.inbound import (
    handle_inbound,
    is_transient,
    retry_delay,
    store_inbound,
    sweep_inbound,
)
from guardianes.services.runtime import Runtime
from guardianes.storage.models import InboundEvent, OutboxMessage
from guardianes.storage.repositories import inbound as inbound_repo
from guardianes.storage.types import utcnow


class _FlakyEngine:
    """The real engine, failing the first `failures` calls with `error`."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0
        self.real = inbound_service.advance

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return self.real(*args, **kwargs)


def _database_away() -> OperationalError:
    return OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))


@pytest.fixture
def flaky(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Install a flaky engine; the test sets how it fails."""

    def install(failures: int, error: Exception) -> _FlakyEngine:
        engine = _FlakyEngine(failures, error)
        monkeypatch.setattr(inbound_service, "advance", engine)
        return engine

    yield install


@pytest.fixture
def slow_retries(demo_runtime: Runtime) -> Runtime:
    """Retries far in the future, so only the test decides when one happens."""
    demo_runtime.settings = demo_runtime.settings.model_copy(
        update={"inbound_retry_base_seconds": 3600.0, "inbound_max_attempts": 3}
    )
    return demo_runtime


def _hello(n: int = 1) -> InboundMessage:
    return InboundMessage(
        channel="webchat",
        user_id="flaky-user",
        external_id=f"flaky-{n}",
        kind=InboundKind.TEXT,
        text="hola",
    )


async def _event(runtime: Runtime, external_id: str = "flaky-1") -> InboundEvent:
    async with runtime.sessions() as session:
        return (
            await session.execute(
                select(InboundEvent).where(InboundEvent.external_id == external_id)
            )
        ).scalar_one()


async def _replies(runtime: Runtime) -> list[str]:
    async with runtime.sessions() as session:
        rows = (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars()
        return [row.payload["text"] for row in rows]


def test_database_outages_and_timeouts_are_transient_and_bugs_are_not() -> None:
    assert is_transient(_database_away())
    assert is_transient(TimeoutError())
    assert not is_transient(ValueError("a bug"))
    assert not is_transient(KeyError("state"))


def test_backoff_grows_and_stops_at_the_cap(demo_runtime: Runtime) -> None:
    settings = demo_runtime.settings.model_copy(
        update={"inbound_retry_base_seconds": 2.0, "inbound_retry_max_seconds": 30.0}
    )
    delays = [retry_delay(settings, attempt) for attempt in range(1, 8)]

    assert 1.6 <= delays[0] <= 2.0
    assert 3.2 <= delays[1] <= 4.0
    assert all(delay <= 30.0 for delay in delays)
    assert delays[-1] >= 24.0


async def test_a_passing_database_error_leaves_the_event_for_a_retry_without_apology(
    slow_retries: Runtime, flaky: Any
) -> None:
    flaky(1, _database_away())

    await handle_inbound(slow_retries, _hello())

    event = await _event(slow_retries)
    assert event.status == InboundStatus.RECEIVED
    assert event.attempts == 1
    assert event.next_attempt_at is not None and event.next_attempt_at > utcnow()
    assert "OperationalError" in (event.error or "")
    assert await _replies(slow_retries) == []


async def test_the_retry_processes_the_message_normally(slow_retries: Runtime, flaky: Any) -> None:
    flaky(1, _database_away())
    await handle_inbound(slow_retries, _hello())

    processed = await sweep_inbound(slow_retries, now=utcnow() + timedelta(hours=2))

    event = await _event(slow_retries)
    assert processed == 1
    assert event.status == InboundStatus.PROCESSED and event.attempts == 2
    replies = await _replies(slow_retries)
    assert replies and "Guardianes" in replies[0]  # the greeting, not an apology


async def test_after_the_cap_the_event_fails_with_its_reason_and_one_apology(
    slow_retries: Runtime, flaky: Any
) -> None:
    flaky(99, _database_away())
    await handle_inbound(slow_retries, _hello())
    later = utcnow()
    for _ in range(3):
        later += timedelta(days=1)
        await sweep_inbound(slow_retries, now=later)

    event = await _event(slow_retries)
    assert event.status == InboundStatus.FAILED
    assert event.attempts == 3
    assert "gave up after 3 attempts" in (event.error or "")
    assert len(await _replies(slow_retries)) == 1


async def test_a_bug_fails_the_event_at_once_and_the_next_message_still_works(
    slow_retries: Runtime, flaky: Any
) -> None:
    flaky(1, ValueError("a bug"))

    await handle_inbound(slow_retries, _hello(1))
    await handle_inbound(slow_retries, _hello(2))

    assert (await _event(slow_retries, "flaky-1")).status == InboundStatus.FAILED
    assert (await _event(slow_retries, "flaky-2")).status == InboundStatus.PROCESSED


async def test_later_messages_wait_behind_one_being_retried(
    slow_retries: Runtime, flaky: Any
) -> None:
    flaky(1, _database_away())
    await handle_inbound(slow_retries, _hello(1))

    await handle_inbound(slow_retries, _hello(2))

    assert (await _event(slow_retries, "flaky-2")).status == InboundStatus.RECEIVED
    await sweep_inbound(slow_retries, now=utcnow() + timedelta(hours=2))
    assert (await _event(slow_retries, "flaky-1")).status == InboundStatus.PROCESSED
    assert (await _event(slow_retries, "flaky-2")).status == InboundStatus.PROCESSED


async def test_the_sweep_processes_an_event_stored_but_never_processed(
    demo_runtime: Runtime,
) -> None:
    await store_inbound(demo_runtime, _hello())  # stored; its background task was lost

    untouched = await sweep_inbound(demo_runtime)
    processed = await sweep_inbound(demo_runtime, now=utcnow() + timedelta(minutes=10))

    assert untouched == 0  # young events belong to their own task
    assert processed == 1
    assert (await _event(demo_runtime)).status == InboundStatus.PROCESSED


async def test_counts_per_status_and_kind_are_queryable(slow_retries: Runtime, flaky: Any) -> None:
    flaky(1, _database_away())
    await handle_inbound(slow_retries, _hello(1))
    async with slow_retries.sessions() as session:
        await inbound_repo.record_notice(
            session, channel="whatsapp", external_id="wamid.r", kind="reaction"
        )
        await session.commit()
        counts = await inbound_repo.status_counts(session)
        waiting, retries = await inbound_repo.retry_totals(session)

    assert counts[("received", "message")] == 1
    assert counts[("noted", "reaction")] == 1
    assert (waiting, retries) == (1, 1)


async def test_the_running_service_sweeps_stuck_events_periodically(
    demo_runtime: Runtime,
) -> None:
    from guardianes.scheduler.sweeps import start_sweeps

    demo_runtime.settings = demo_runtime.settings.model_copy(
        update={"inbound_sweep_seconds": 0.05, "inbound_stuck_seconds": 0.0}
    )
    await store_inbound(demo_runtime, _hello())  # stored; nobody started its processing
    sweeps = start_sweeps(demo_runtime)
    try:
        deadline = asyncio.get_running_loop().time() + 10
        while (await _event(demo_runtime)).status != InboundStatus.PROCESSED:
            assert asyncio.get_running_loop().time() < deadline, "the sweep never ran"
            await asyncio.sleep(0.05)
    finally:
        for sweep in sweeps:
            await sweep.stop()
