"""Staff in chat: a staff guardian's finished command becomes a broadcast or a visit.

The engine runs the in-chat flow and refuses plain guardians; this handler only acts on
`StaffAction` effects from staff, inside the message's unit of work, and answers the staff
member with what will be sent. Visit details: `place`, `starts_at` (ISO 8601; without an
offset it is local time in GUARDIANES_TIMEZONE) and optional `description`. Status details:
`broadcast_id`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.conversations.context import StaffAction
from guardianes.conversations.messages import text_prompt
from guardianes.locales import translator
from guardianes.services import broadcasts as broadcasts_service
from guardianes.services import visits as visits_service
from guardianes.services.broadcasts import BroadcastNotFoundError, format_local
from guardianes.services.outbox import enqueue_to_guardian
from guardianes.storage.models import Guardian, OutboxKind
from guardianes.storage.repositories.broadcasts import RecipientFilter
from guardianes.storage.repositories.catalog import get_colonia
from guardianes.storage.types import utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StaffChatHandler:
    """Implements `StaffActionHandler` for the engine (set as `runtime.staff_actions`)."""

    timezone: ZoneInfo
    reminder_hour: int = visits_service.DEFAULT_REMINDER_HOUR

    async def __call__(self, session: AsyncSession, staff: Guardian, action: StaffAction) -> None:
        """Create the broadcast or visit, or report a broadcast's progress, and reply."""
        now = utcnow()
        t = translator(staff.locale)
        colonia = await get_colonia(session, action.colonia_id) if action.colonia_id else None
        colonia_name = colonia.name if colonia is not None else t("staff_chat.all_colonias")
        match action.action:
            case "broadcast":
                broadcast, count = await broadcasts_service.create_broadcast(
                    session,
                    text=action.text,
                    recipients=RecipientFilter(colonia_id=action.colonia_id),
                    created_by=f"guardian:{staff.id}",
                    now=now,
                )
                reply = t(
                    "staff_chat.broadcast_created",
                    broadcast_id=broadcast.id,
                    count=count,
                    colonia=colonia_name,
                )
            case "visit":
                reply = await self._visit(session, staff, action, colonia_name, now)
            case "status":
                reply = await self._status(session, staff, action)
            case _:
                logger.warning("unknown staff action %r", action.action)
                reply = t("staff_chat.unknown_action")
        await enqueue_to_guardian(
            session, staff, text_prompt(reply), kind=OutboxKind.REPLY, now=now
        )

    async def _visit(
        self,
        session: AsyncSession,
        staff: Guardian,
        action: StaffAction,
        colonia_name: str,
        now: datetime,
    ) -> str:
        t = translator(staff.locale)
        place = str(action.details.get("place") or "").strip()
        raw_start = str(action.details.get("starts_at") or "")
        try:
            starts_at = datetime.fromisoformat(raw_start)
        except ValueError:
            return t("staff_chat.visit_invalid")
        if action.colonia_id is None or not place:
            return t("staff_chat.visit_invalid")
        try:
            created = await visits_service.create_visit(
                session,
                colonia_id=action.colonia_id,
                place=place,
                starts_at=starts_at,
                description=str(action.details.get("description") or action.text or ""),
                created_by=f"guardian:{staff.id}",
                timezone=self.timezone,
                reminder_hour=self.reminder_hour,
                now=now,
            )
        except visits_service.ColoniaNotFoundError:
            return t("staff_chat.visit_invalid")
        return t(
            "staff_chat.visit_created",
            colonia=colonia_name,
            place=place,
            when=format_local(created.visit.starts_at, self.timezone),
            count=created.recipients,
            broadcast_id=created.broadcast.id,
        )

    async def _status(self, session: AsyncSession, staff: Guardian, action: StaffAction) -> str:
        t = translator(staff.locale)
        try:
            broadcast_id = int(action.details.get("broadcast_id", ""))
            report = await broadcasts_service.progress(session, broadcast_id)
        except (ValueError, TypeError, BroadcastNotFoundError):
            return t("staff_chat.status_unknown")
        return t(
            "staff_chat.status",
            broadcast_id=report.broadcast_id,
            total=report.total,
            sent=report.sent,
            queued=report.queued + report.pending,
            failed=report.failed,
            unreachable=report.unreachable,
        )
