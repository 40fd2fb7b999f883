"""Staff in chat: a staff guardian's commands become broadcasts, visits and status reports.

The engine runs the in-chat flow and refuses plain guardians; this handler only acts on
`StaffAction` effects from staff, inside the message's unit of work, and answers the staff
member. Its reply is queued before the engine's own prompts of the same turn, so an
"audience" answer ("N guardians of <colonia> will get it") precedes the confirmation
question and a "status" report precedes the staff menu shown again.

Visit details: `place`, `starts_at` (ISO 8601; without an offset it is local time in
GUARDIANES_TIMEZONE) and `description`. Status lists the latest notices this staff
member sent, with their delivery counts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.conversations.context import StaffAction, StaffActionKind
from guardianes.conversations.messages import text_prompt
from guardianes.domain.enums import OutboxKind
from guardianes.locales import Translator, translator
from guardianes.services import broadcasts as broadcasts_service
from guardianes.services import visits as visits_service
from guardianes.services.broadcasts import BroadcastProgress, format_local
from guardianes.services.outbox import enqueue_to_guardian
from guardianes.services.references import UnknownReferenceError
from guardianes.storage.models import Broadcast, Guardian
from guardianes.storage.repositories import broadcasts as broadcasts_repo
from guardianes.storage.repositories.broadcasts import RecipientFilter
from guardianes.storage.repositories.places import get_colonia
from guardianes.storage.types import utcnow

logger = logging.getLogger(__name__)

STATUS_LATEST = 5  # notices listed by "status of my notices": enough for a phone screen
SNIPPET_LENGTH = 60


def created_by(staff: Guardian) -> str:
    """How broadcasts and visits made in chat record their author."""
    return f"guardian:{staff.id}"


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_LENGTH else flat[: SNIPPET_LENGTH - 1] + "…"


@dataclass(frozen=True, slots=True)
class StaffChatHandler:
    """Implements `StaffActionHandler` for the engine (set as `runtime.staff_actions`)."""

    timezone: ZoneInfo
    reminder_hour: int = visits_service.DEFAULT_REMINDER_HOUR

    async def __call__(self, session: AsyncSession, staff: Guardian, action: StaffAction) -> None:
        """Create the broadcast or visit, count its audience or report progress; reply."""
        now = utcnow()
        t = translator(staff.locale)
        colonia = await get_colonia(session, action.colonia_id) if action.colonia_id else None
        colonia_name = colonia.name if colonia is not None else t("staff_chat.all_colonias")
        match action.action:
            case StaffActionKind.BROADCAST:
                broadcast, count = await broadcasts_service.create_broadcast(
                    session,
                    text=action.text,
                    recipients=RecipientFilter(colonia_id=action.colonia_id),
                    created_by=created_by(staff),
                    now=now,
                )
                reply = t(
                    "staff_chat.broadcast_created",
                    broadcast_id=broadcast.id,
                    count=count,
                    colonia=colonia_name,
                )
            case StaffActionKind.VISIT:
                reply = await self._visit(session, staff, action, colonia_name, now)
            case StaffActionKind.AUDIENCE:
                reply = await self._audience(session, t, action.colonia_id, colonia_name)
            case StaffActionKind.STATUS:
                reply = await self._status(session, staff)
            case _:
                logger.warning("unknown staff action %r", action.action)
                reply = t("staff_chat.unknown_action")
        await enqueue_to_guardian(
            session, staff, text_prompt(reply), kind=OutboxKind.REPLY, now=now
        )

    async def _audience(
        self, session: AsyncSession, t: Translator, colonia_id: int | None, colonia_name: str
    ) -> str:
        count = await broadcasts_repo.count_recipients(
            session, RecipientFilter(colonia_id=colonia_id)
        )
        if count == 0:
            return t("staff_chat.audience_none", colonia=colonia_name)
        return t("staff_chat.audience", count=count, colonia=colonia_name)

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
            starts_at = visits_service.as_aware(datetime.fromisoformat(raw_start), self.timezone)
        except ValueError:
            return t("staff_chat.visit_invalid")
        if action.colonia_id is None or not place:
            return t("staff_chat.visit_invalid")
        if starts_at <= now:
            # The flow refuses past dates; this catches a confirmation pressed too late.
            return t("staff_chat.visit_past", when=format_local(starts_at, self.timezone))
        try:
            created = await visits_service.create_visit(
                session,
                colonia_id=action.colonia_id,
                place=place,
                starts_at=starts_at,
                description=str(action.details.get("description") or action.text or ""),
                created_by=created_by(staff),
                timezone=self.timezone,
                reminder_hour=self.reminder_hour,
                now=now,
            )
        except UnknownReferenceError:
            return t("staff_chat.visit_invalid")
        key = "staff_chat.visit_created" if created.reminder else "staff_chat.visit_created_soon"
        return t(
            key,
            colonia=colonia_name,
            place=place,
            when=format_local(created.visit.starts_at, self.timezone),
            count=created.recipients,
            broadcast_id=created.broadcast.id,
        )

    async def _status(self, session: AsyncSession, staff: Guardian) -> str:
        t = translator(staff.locale)
        page = await broadcasts_repo.list_broadcasts(
            session, status=None, limit=STATUS_LATEST, offset=0, created_by=created_by(staff)
        )
        mine = page.items
        if not mine:
            return t("staff_chat.status_none")
        lines = [t("staff_chat.status_title")]
        for broadcast in mine:
            report = await broadcasts_service.progress(session, broadcast.id)
            lines.append(await self._status_line(session, t, broadcast, report))
        return "\n\n".join(lines)

    async def _status_line(
        self,
        session: AsyncSession,
        t: Translator,
        broadcast: Broadcast,
        report: BroadcastProgress,
    ) -> str:
        colonia = await get_colonia(session, broadcast.colonia_id) if broadcast.colonia_id else None
        return t(
            "staff_chat.status_line",
            broadcast_id=broadcast.id,
            kind=t(f"staff_chat.kind.{broadcast.kind}"),
            colonia=colonia.name if colonia is not None else t("staff_chat.all_colonias"),
            created=format_local(broadcast.created_at, self.timezone),
            text=_snippet(broadcast.text),
            total=report.total,
            sent=report.sent,
            pending=report.pending + report.queued,
            failed=report.failed,
            unreachable=report.unreachable,
        )
