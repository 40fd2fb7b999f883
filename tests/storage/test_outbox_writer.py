"""Every outbox row is written by one function: a single message and a bulk batch look alike."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.domain.enums import OutboxKind, OutboxStatus
from guardianes.storage.models import OutboxMessage
from guardianes.storage.repositories import outbox as repo

NOW = datetime(2026, 11, 28, 18, tzinfo=UTC)
PAYLOAD = {"kind": "text", "text": "hola"}


def _shape(row: OutboxMessage) -> tuple[object, ...]:
    return (row.channel, row.address, row.kind, row.locale, row.payload, row.status, row.attempts)


async def test_a_bulk_row_is_queued_like_a_single_message(session: AsyncSession) -> None:
    single = await repo.enqueue(
        session, channel="webchat", address="ana", payload=PAYLOAD, kind=OutboxKind.BROADCAST
    )
    [bulk_id] = await repo.add_outbox_rows(
        session,
        [repo.NewOutboxRow("webchat", "ana", PAYLOAD, kind=OutboxKind.BROADCAST)],
        NOW,
    )
    bulk = await session.get(OutboxMessage, bulk_id)

    assert bulk is not None
    assert _shape(bulk) == _shape(single)
    assert bulk.status is OutboxStatus.QUEUED


async def test_bulk_ids_come_back_in_the_order_given(session: AsyncSession) -> None:
    rows = [repo.NewOutboxRow("webchat", name, PAYLOAD) for name in ("ana", "beto", "carla")]

    ids = await repo.add_outbox_rows(session, rows, NOW)

    stored = await session.execute(select(OutboxMessage.id, OutboxMessage.address))
    address_of = dict(stored.all())
    assert [address_of[row_id] for row_id in ids] == ["ana", "beto", "carla"]
