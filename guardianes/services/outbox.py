"""Producing outbox rows: every message the bot must send is a row before it is sent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from guardianes.conversations.messages import Prompt, PromptKind
from guardianes.domain.enums import OutboxKind, OutboxStatus
from guardianes.services.delivery import policy_for
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Guardian, OutboxMessage
from guardianes.storage.repositories import outbox as outbox_repo
from guardianes.storage.types import utcnow


def needs_template(channel: str, last_inbound_at: datetime | None, now: datetime) -> bool:
    """Whether the channel's delivery policy allows only a template to reach this person."""
    return policy_for(channel).needs_template(last_inbound_at, now)


async def enqueue_prompts(
    session: AsyncSession,
    *,
    channel: str,
    address: str,
    prompts: Sequence[Prompt],
    guardian_id: int | None,
    locale: str,
    kind: OutboxKind = OutboxKind.REPLY,
    source_message_id: str | None = None,
    as_template: bool = False,
) -> int:
    """Queue prompts for one chat in order (one INSERT); a refreshed prompt edits the pressed
    message. Returns how many were queued."""
    rows = [
        outbox_repo.NewOutboxRow(
            channel=channel,
            address=address,
            payload=prompt.to_json(),
            guardian_id=guardian_id,
            kind=kind,
            locale=locale,
            as_template=as_template,
            edit_message_id=source_message_id if prompt.refresh else None,
        )
        for prompt in prompts
    ]
    return await outbox_repo.queue_rows(session, rows, utcnow())


async def enqueue_to_guardian(
    session: AsyncSession,
    guardian: Guardian,
    prompt: Prompt,
    *,
    kind: OutboxKind,
    now: datetime,
) -> OutboxMessage:
    """Queue a message the bot starts (broadcast, visit, reminder), minding the channel's policy."""
    return await outbox_repo.enqueue(
        session,
        channel=guardian.channel,
        address=guardian.address,
        payload=prompt.to_json(),
        guardian_id=guardian.id,
        kind=kind,
        locale=guardian.locale,
        as_template=needs_template(guardian.channel, guardian.last_inbound_at, now),
    )


async def queue_keyboard_close(
    session: AsyncSession, *, channel: str, address: str, message_id: str
) -> OutboxMessage | None:
    """Queue removing the keyboard of a pressed question, once per message; None if queued.

    The edit counts against the platform's caps like a send, so it goes through the outbox
    and its pacing (in the replies' lane) rather than straight from the inbound handler.
    """
    if await outbox_repo.has_row_editing(
        session, channel, address, OutboxKind.CLOSE_KEYBOARD, message_id
    ):
        return None
    return await outbox_repo.enqueue(
        session,
        channel=channel,
        address=address,
        payload=Prompt(kind=PromptKind.DONE, text="").to_json(),
        kind=OutboxKind.CLOSE_KEYBOARD,
        edit_message_id=message_id,
    )


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a platform reported later about a message it accepted (delivered, read...)."""

    platform_message_id: str
    status: OutboxStatus
    error: str | None = None
    resend_as_template: bool = False  # refused for the channel's policy: send the template


async def record_receipts(
    sessions: async_sessionmaker[AsyncSession], channel: str, receipts: Sequence[Receipt]
) -> None:
    """Record delivery receipts on the outbox rows they concern, in one transaction."""
    if not receipts:
        return
    async with unit_of_work(sessions) as session:
        for receipt in receipts:
            if receipt.resend_as_template:
                await outbox_repo.requeue_as_template(session, channel, receipt.platform_message_id)
                continue
            await outbox_repo.update_status_by_platform_id(
                session, channel, receipt.platform_message_id, receipt.status, receipt.error
            )
