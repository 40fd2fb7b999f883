"""Status callbacks (sent, delivered, read, failed) applied to the outbox rows they concern."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from guardianes.bot.whatsapp.parse import CHANNEL, DeliveryState, StatusUpdate
from guardianes.domain.enums import OutboxStatus
from guardianes.storage.db import unit_of_work
from guardianes.storage.repositories import outbox as outbox_repo

UNDELIVERABLE_CODE = 131026
OUTSIDE_WINDOW_CODE = 131047
_OUTBOX_STATUS = {
    DeliveryState.SENT: OutboxStatus.SENT,
    DeliveryState.DELIVERED: OutboxStatus.DELIVERED,
    DeliveryState.READ: OutboxStatus.READ,
    DeliveryState.FAILED: OutboxStatus.FAILED,
}


def outbox_status_for(update: StatusUpdate) -> OutboxStatus:
    """The outbox status a callback means (an undeliverable number is UNREACHABLE)."""
    if update.state == DeliveryState.FAILED and update.error_code == UNDELIVERABLE_CODE:
        return OutboxStatus.UNREACHABLE
    return _OUTBOX_STATUS[update.state]


async def apply_statuses(
    sessions: async_sessionmaker[AsyncSession], updates: tuple[StatusUpdate, ...]
) -> None:
    """Record delivered/read/failed callbacks on the outbox rows they concern."""
    if not updates:
        return
    async with unit_of_work(sessions) as session:
        for update in updates:
            if update.state == DeliveryState.FAILED and update.error_code == OUTSIDE_WINDOW_CODE:
                # Accepted, then refused for the 24-hour window: resend as the template.
                await outbox_repo.requeue_as_template(session, CHANNEL, update.platform_message_id)
                continue
            await outbox_repo.update_status_by_platform_id(
                session,
                CHANNEL,
                update.platform_message_id,
                outbox_status_for(update),
                update.error,
            )
