"""Broadcasts: one delivery per recipient made up front, each turned into exactly one outbox row.

Lifecycle: `create_broadcast` writes the broadcast and a PENDING delivery per active
recipient in one transaction. `queue_batch` claims PENDING deliveries atomically and writes
one outbox row per delivery in the same transaction, linking them (delivery QUEUED). The
outbox sender paces and sends those rows and carries the outcome back to the delivery
(SENT | FAILED | UNREACHABLE). A crash at any point leaves each recipient either PENDING
(queued again on restart), or with an outbox row the sender will still send, or SENT.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.conversations.dates import format_local_datetime
from guardianes.conversations.messages import text_prompt
from guardianes.domain.enums import BroadcastStatus, DeliveryStatus, GuardianStatus, OutboxKind
from guardianes.locales import translator
from guardianes.services.outbox import needs_template
from guardianes.services.references import check_references
from guardianes.storage.models import Broadcast, Guardian, Visit
from guardianes.storage.repositories import broadcasts as repo
from guardianes.storage.repositories.broadcasts import RecipientFilter
from guardianes.storage.repositories.outbox import NewOutboxRow, add_outbox_rows
from guardianes.storage.repositories.places import get_colonia
from guardianes.storage.types import utcnow

DEFAULT_BATCH_SIZE = 500


class BroadcastNotFoundError(LookupError):
    """No broadcast with that id."""


@dataclass(frozen=True, slots=True)
class BroadcastProgress:
    """Where a broadcast stands; when `status` is done this is its final report."""

    broadcast_id: int
    status: str
    total: int
    pending: int
    queued: int
    sent: int
    failed: int
    unreachable: int
    finished_at: datetime | None

    @property
    def finished(self) -> int:
        """Deliveries that reached an end state."""
        return self.sent + self.failed + self.unreachable


async def create_broadcast(
    session: AsyncSession,
    *,
    text: str,
    recipients: RecipientFilter,
    created_by: str | None,
    kind: OutboxKind = OutboxKind.BROADCAST,
    visit_id: int | None = None,
    now: datetime | None = None,
) -> tuple[Broadcast, int]:
    """Write a broadcast and one PENDING delivery per recipient; returns it and the count."""
    await check_references(session, colonia_id=recipients.colonia_id)
    moment = now or utcnow()
    broadcast = await repo.add_broadcast(
        session,
        Broadcast(
            kind=kind,
            text=text,
            colonia_id=recipients.colonia_id,
            role_filter=recipients.role,
            channel_filter=recipients.channel,
            visit_id=visit_id,
            status=BroadcastStatus.PENDING,
            created_by=created_by,
            # One instant for creation and, with nobody to tell, completion.
            created_at=moment,
            updated_at=moment,
        ),
    )
    count = await repo.add_deliveries(session, broadcast.id, recipients, moment)
    if count == 0:
        # Nobody to tell: the report is final at once.
        await repo.set_broadcast_status(
            session,
            broadcast.id,
            BroadcastStatus.DONE,
            only_from=(BroadcastStatus.PENDING,),
            finished_at=moment,
        )
        broadcast.status = BroadcastStatus.DONE
        broadcast.finished_at = moment
    return broadcast, count


def format_local(moment: datetime, timezone: ZoneInfo) -> str:
    """A UTC time as people in the programme's time zone read it."""
    return format_local_datetime(moment.astimezone(timezone))


def _message_for(
    broadcast: Broadcast,
    guardian: Guardian,
    visit: Visit | None,
    colonia_name: str,
    timezone: ZoneInfo,
) -> str:
    """The text one recipient gets: staff text, or a visit notice in their language."""
    if visit is None:
        return broadcast.text
    return translator(guardian.locale)(
        "visits.notice",
        colonia=colonia_name,
        place=visit.place,
        when=format_local(visit.starts_at, timezone),
        description=visit.description,
    )


async def queue_batch(
    session: AsyncSession,
    broadcast_id: int,
    *,
    timezone: ZoneInfo,
    limit: int = DEFAULT_BATCH_SIZE,
    now: datetime | None = None,
) -> int:
    """Claim up to `limit` PENDING deliveries and write their outbox rows; returns how many."""
    moment = now or utcnow()
    broadcast = await repo.get_broadcast(session, broadcast_id)
    if broadcast is None or broadcast.status not in (
        BroadcastStatus.PENDING,
        BroadcastStatus.SENDING,
    ):
        return 0
    claimed = await repo.claim_pending_deliveries(session, broadcast_id, limit=limit, now=moment)
    if not claimed:
        return 0
    await repo.set_broadcast_status(
        session, broadcast_id, BroadcastStatus.SENDING, only_from=(BroadcastStatus.PENDING,)
    )
    visit = await repo.get_visit(session, broadcast.visit_id) if broadcast.visit_id else None
    colonia_name = ""
    if visit is not None:
        colonia = await get_colonia(session, visit.colonia_id)
        colonia_name = colonia.name if colonia is not None else ""
    guardians = await repo.guardians_by_id(session, [c.guardian_id for c in claimed])
    rows: list[NewOutboxRow] = []
    delivery_ids: list[int] = []
    gone: list[int] = []
    for item in claimed:
        guardian = guardians.get(item.guardian_id)
        if guardian is None or guardian.status != GuardianStatus.ACTIVE:
            # Deactivated or blocked the bot since the broadcast was created.
            gone.append(item.delivery_id)
            continue
        text = _message_for(broadcast, guardian, visit, colonia_name, timezone)
        rows.append(
            NewOutboxRow(
                channel=guardian.channel,
                address=guardian.address,
                guardian_id=guardian.id,
                kind=broadcast.kind,
                locale=guardian.locale,
                payload=text_prompt(text).to_json(),
                as_template=needs_template(guardian.channel, guardian.last_inbound_at, moment),
            )
        )
        delivery_ids.append(item.delivery_id)
    outbox_ids = await add_outbox_rows(session, rows, moment)
    await repo.link_deliveries(session, list(zip(delivery_ids, outbox_ids, strict=True)), moment)
    await repo.close_deliveries(session, gone, DeliveryStatus.UNREACHABLE, moment)
    return len(claimed)


async def refresh_status(
    session: AsyncSession, broadcast_id: int, now: datetime | None = None
) -> str | None:
    """Mark the broadcast DONE once no delivery is pending or queued; returns its status."""
    broadcast = await repo.get_broadcast(session, broadcast_id)
    if broadcast is None:
        return None
    if broadcast.status in (BroadcastStatus.PENDING, BroadcastStatus.SENDING):
        counts = await repo.delivery_counts(session, broadcast_id)
        if not any(counts.get(s, 0) for s in repo.OPEN_DELIVERY_STATUSES):
            await repo.set_broadcast_status(
                session,
                broadcast_id,
                BroadcastStatus.DONE,
                only_from=(BroadcastStatus.PENDING, BroadcastStatus.SENDING),
                finished_at=now or utcnow(),
            )
            await session.refresh(broadcast)
    return broadcast.status


async def progress(session: AsyncSession, broadcast_id: int) -> BroadcastProgress:
    """Counts of a broadcast's deliveries by status."""
    broadcast = await repo.get_broadcast(session, broadcast_id)
    if broadcast is None:
        raise BroadcastNotFoundError(broadcast_id)
    counts = await repo.delivery_counts(session, broadcast_id)
    return BroadcastProgress(
        broadcast_id=broadcast.id,
        status=broadcast.status,
        total=sum(counts.values()),
        pending=counts.get(DeliveryStatus.PENDING, 0),
        queued=counts.get(DeliveryStatus.QUEUED, 0),
        sent=counts.get(DeliveryStatus.SENT, 0),
        failed=counts.get(DeliveryStatus.FAILED, 0),
        unreachable=counts.get(DeliveryStatus.UNREACHABLE, 0),
        finished_at=broadcast.finished_at,
    )


async def cancel_broadcast(
    session: AsyncSession, broadcast_id: int, now: datetime | None = None
) -> bool:
    """Stop a broadcast: recipients not yet queued get nothing; queued rows still go out."""
    moment = now or utcnow()
    if not await repo.set_broadcast_status(
        session,
        broadcast_id,
        BroadcastStatus.CANCELLED,
        only_from=(BroadcastStatus.PENDING, BroadcastStatus.SENDING),
        finished_at=moment,
    ):
        return False
    await repo.cancel_pending_deliveries(session, broadcast_id, moment)
    return True


async def unfinished_broadcasts(session: AsyncSession) -> list[int]:
    """Ids of broadcasts still being sent (what a restart resumes)."""
    return await repo.unfinished_broadcast_ids(session)
