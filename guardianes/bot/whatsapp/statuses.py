"""Status callbacks (sent, delivered, read, failed) applied to the outbox rows they concern."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from guardianes.bot.whatsapp.parse import CHANNEL, DeliveryState, StatusUpdate
from guardianes.domain.enums import OutboxStatus
from guardianes.services.outbox import Receipt, record_receipts

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


def receipt_for(update: StatusUpdate) -> Receipt:
    """The outbox receipt a callback means; 131047 asks for the template instead."""
    outside_window = (
        update.state == DeliveryState.FAILED and update.error_code == OUTSIDE_WINDOW_CODE
    )
    return Receipt(
        platform_message_id=update.platform_message_id,
        status=outbox_status_for(update),
        error=update.error,
        # Accepted, then refused for the 24-hour window: resend as the template.
        resend_as_template=outside_window,
    )


async def apply_statuses(
    sessions: async_sessionmaker[AsyncSession], updates: tuple[StatusUpdate, ...]
) -> None:
    """Record delivered/read/failed callbacks on the outbox rows they concern."""
    await record_receipts(sessions, CHANNEL, [receipt_for(update) for update in updates])
