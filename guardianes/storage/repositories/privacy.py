"""Privacy queries: consent history, ARCO log, staff audit, a person's data, erasure, retention."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.domain.enums import OutboxStatus
from guardianes.storage.models import (
    Broadcast,
    BroadcastDelivery,
    CardDefinition,
    ConversationState,
    Guardian,
    OutboxMessage,
    QuizAttempt,
    Reminder,
    ReminderOccurrence,
    Submission,
    SubmissionMedia,
)
from guardianes.storage.models_evidence import DiscrepancyEvidence, GuardianConfirmation
from guardianes.storage.models_privacy import (
    ConsentEvent,
    PrivacyRequest,
    StaffAuditEntry,
)
from guardianes.storage.models_training import CourseProgressRow, MunicipalReport
from guardianes.storage.models_whatsapp import WhatsAppIdentity
from guardianes.storage.repositories.pagination import PageRows, paginate

ERASED_ADDRESS = "erased"  # what an erased person's past outbox rows are addressed to
EMPTY_PAYLOAD: dict[str, Any] = {"kind": "text", "text": ""}

# ---------------------------------------------------------------- consent and ARCO log


async def add_consent_event(
    session: AsyncSession,
    *,
    guardian_id: int,
    action: str,
    notice_version: str,
    channel: str,
    at: datetime,
) -> ConsentEvent:
    """Record one acceptance, refusal or withdrawal."""
    event = ConsentEvent(
        guardian_id=guardian_id,
        action=action,
        notice_version=notice_version,
        channel=channel,
        at=at,
    )
    session.add(event)
    await session.flush()
    return event


async def consent_history(session: AsyncSession, guardian_id: int) -> Sequence[ConsentEvent]:
    """A guardian's consent events, oldest first."""
    result = await session.execute(
        select(ConsentEvent)
        .where(ConsentEvent.guardian_id == guardian_id)
        .order_by(ConsentEvent.at, ConsentEvent.id)
    )
    return result.scalars().all()


async def log_request(
    session: AsyncSession,
    *,
    kind: str,
    source: str,
    channel: str | None,
    outcome: str,
    counts: dict[str, int],
    at: datetime,
) -> PrivacyRequest:
    """Append one ARCO request to the log."""
    request = PrivacyRequest(
        kind=kind, source=source, channel=channel, outcome=outcome, counts=counts, at=at
    )
    session.add(request)
    await session.flush()
    return request


async def list_requests(
    session: AsyncSession, *, kind: str | None, limit: int, offset: int
) -> PageRows[PrivacyRequest]:
    """ARCO requests, newest first."""
    statement = select(PrivacyRequest).order_by(PrivacyRequest.at.desc(), PrivacyRequest.id.desc())
    if kind is not None:
        statement = statement.where(PrivacyRequest.kind == kind)
    return await paginate(session, statement, limit=limit, offset=offset)


# ---------------------------------------------------------------- staff audit


async def add_audit_entry(session: AsyncSession, entry: StaffAuditEntry) -> None:
    """Record a staff read of personal data."""
    session.add(entry)
    await session.flush()


async def list_audit(
    session: AsyncSession, *, token_id: int | None, limit: int, offset: int
) -> PageRows[StaffAuditEntry]:
    """Audit entries, newest first, optionally of one token."""
    statement = select(StaffAuditEntry).order_by(
        StaffAuditEntry.at.desc(), StaffAuditEntry.id.desc()
    )
    if token_id is not None:
        statement = statement.where(StaffAuditEntry.token_id == token_id)
    return await paginate(session, statement, limit=limit, offset=offset)


# ---------------------------------------------------------------- one person's data


async def submissions_of(session: AsyncSession, guardian_id: int) -> Sequence[Submission]:
    """A guardian's submissions with their photos, oldest first."""
    result = await session.execute(
        select(Submission)
        .where(Submission.guardian_id == guardian_id)
        .order_by(Submission.completed_at, Submission.id)
    )
    return result.scalars().all()


async def card_definitions(
    session: AsyncSession, definition_ids: Iterable[int]
) -> dict[int, CardDefinition]:
    """Card definitions by id."""
    ids = set(definition_ids)
    if not ids:
        return {}
    result = await session.execute(select(CardDefinition).where(CardDefinition.id.in_(ids)))
    return {d.id: d for d in result.scalars().all()}


async def quiz_attempts_of(session: AsyncSession, guardian_id: int) -> Sequence[QuizAttempt]:
    """A guardian's quiz attempts, oldest first."""
    result = await session.execute(
        select(QuizAttempt)
        .where(QuizAttempt.guardian_id == guardian_id)
        .order_by(QuizAttempt.completed_at, QuizAttempt.id)
    )
    return result.scalars().all()


async def deliveries_of(
    session: AsyncSession, guardian_id: int
) -> Sequence[tuple[BroadcastDelivery, Broadcast]]:
    """The broadcasts (notices, visits) sent to a guardian, with their delivery status."""
    result = await session.execute(
        select(BroadcastDelivery, Broadcast)
        .join(Broadcast, Broadcast.id == BroadcastDelivery.broadcast_id)
        .where(BroadcastDelivery.guardian_id == guardian_id)
        .order_by(BroadcastDelivery.id)
    )
    return [(row[0], row[1]) for row in result.all()]


async def reminders_of(
    session: AsyncSession, guardian_id: int
) -> tuple[Sequence[Reminder], Sequence[ReminderOccurrence]]:
    """Reminders addressed to the guardian, and every reminder occurrence sent to them."""
    reminders = await session.execute(
        select(Reminder).where(Reminder.guardian_id == guardian_id).order_by(Reminder.id)
    )
    occurrences = await session.execute(
        select(ReminderOccurrence)
        .where(ReminderOccurrence.guardian_id == guardian_id)
        .order_by(ReminderOccurrence.scheduled_for, ReminderOccurrence.id)
    )
    return reminders.scalars().all(), occurrences.scalars().all()


async def whatsapp_identity(session: AsyncSession, user_id: str) -> WhatsAppIdentity | None:
    """The WhatsApp identifiers linked to a stable WhatsApp user id."""
    result = await session.execute(
        select(WhatsAppIdentity).where(WhatsAppIdentity.user_id == user_id)
    )
    return result.scalar_one_or_none()


async def conversation_states_of(
    session: AsyncSession, channel: str, user_id: str, guardian_id: int | None
) -> Sequence[ConversationState]:
    """The stored conversation state of a person."""
    condition = (ConversationState.channel == channel) & (
        ConversationState.channel_user_id == user_id
    )
    if guardian_id is not None:
        condition = condition | (ConversationState.guardian_id == guardian_id)
    result = await session.execute(select(ConversationState).where(condition))
    return result.scalars().all()


async def attachment_row(
    session: AsyncSession, channel: str, address: str, outbox_id: int
) -> OutboxMessage | None:
    """One outbox row of a chat (the web chat serves its attachment to that chat only)."""
    result = await session.execute(
        select(OutboxMessage).where(
            OutboxMessage.id == outbox_id,
            OutboxMessage.channel == channel,
            OutboxMessage.address == address,
        )
    )
    return result.scalar_one_or_none()


async def course_progress_of(
    session: AsyncSession, guardian_id: int
) -> Sequence[CourseProgressRow]:
    """The guardian's place in each training course."""
    result = await session.execute(
        select(CourseProgressRow).where(CourseProgressRow.guardian_id == guardian_id)
    )
    return result.scalars().all()


async def municipal_reports_of(
    session: AsyncSession, guardian_id: int
) -> Sequence[MunicipalReport]:
    """The guardian's "ya lo reporté" records."""
    result = await session.execute(
        select(MunicipalReport)
        .where(MunicipalReport.guardian_id == guardian_id)
        .order_by(MunicipalReport.id)
    )
    return result.scalars().all()


async def confirmations_of(
    session: AsyncSession, guardian_id: int
) -> Sequence[GuardianConfirmation]:
    """The guardian's answers to "¿Ya quedó?"."""
    result = await session.execute(
        select(GuardianConfirmation)
        .where(GuardianConfirmation.guardian_id == guardian_id)
        .order_by(GuardianConfirmation.id)
    )
    return result.scalars().all()


async def evidence_of(session: AsyncSession, guardian_id: int) -> Sequence[DiscrepancyEvidence]:
    """Where the guardian's cards are evidence of a discrepancy."""
    result = await session.execute(
        select(DiscrepancyEvidence)
        .where(DiscrepancyEvidence.guardian_id == guardian_id)
        .order_by(DiscrepancyEvidence.id)
    )
    return result.scalars().all()


# ---------------------------------------------------------------- erasure


async def mark_media_deleted(
    session: AsyncSession, media_ids: Sequence[int], *, reason: str, at: datetime
) -> None:
    """Mark photos deleted (their files go once the transaction commits)."""
    if not media_ids:
        return
    await session.execute(
        update(SubmissionMedia)
        .where(SubmissionMedia.id.in_(media_ids), SubmissionMedia.deleted_at.is_(None))
        .values(deleted_at=at, deletion_reason=reason)
        .execution_options(synchronize_session=False)
    )


async def paths_still_used(session: AsyncSession, paths: Iterable[str]) -> set[str]:
    """Of these files, those another photo not yet deleted still points to (same content)."""
    wanted = set(paths)
    if not wanted:
        return set()
    result = await session.execute(
        select(SubmissionMedia.path)
        .where(SubmissionMedia.path.in_(wanted), SubmissionMedia.deleted_at.is_(None))
        .distinct()
    )
    return set(result.scalars().all())


async def anonymize_submission(
    session: AsyncSession, submission_id: int, answers: dict[str, Any]
) -> None:
    """Detach a submission from its guardian and keep only answers free of personal data."""
    await session.execute(
        update(Submission)
        .where(Submission.id == submission_id)
        .values(guardian_id=None, answers=answers)
        .execution_options(synchronize_session=False)
    )


async def delete_person_rows(session: AsyncSession, guardian_id: int) -> dict[str, int]:
    """Delete what only makes sense with the person (quizzes, consent, deliveries, reminders,
    "¿Ya quedó?" answers, course progress); detach what still counts anonymously."""
    counts: dict[str, int] = {}
    reminder_ids = select(Reminder.id).where(Reminder.guardian_id == guardian_id)
    statements: list[tuple[str, Any]] = [
        (
            "quiz_attempts_deleted",
            delete(QuizAttempt).where(QuizAttempt.guardian_id == guardian_id),
        ),
        (
            "consent_events_deleted",
            delete(ConsentEvent).where(ConsentEvent.guardian_id == guardian_id),
        ),
        (
            "deliveries_deleted",
            delete(BroadcastDelivery).where(BroadcastDelivery.guardian_id == guardian_id),
        ),
        (
            "reminder_occurrences_deleted",
            delete(ReminderOccurrence).where(
                or_(
                    ReminderOccurrence.guardian_id == guardian_id,
                    ReminderOccurrence.reminder_id.in_(reminder_ids),
                )
            ),
        ),
        ("reminders_deleted", delete(Reminder).where(Reminder.guardian_id == guardian_id)),
        (
            "confirmations_deleted",
            delete(GuardianConfirmation).where(GuardianConfirmation.guardian_id == guardian_id),
        ),
        (
            "course_progress_deleted",
            delete(CourseProgressRow).where(CourseProgressRow.guardian_id == guardian_id),
        ),
        # Kept, anonymous: the evidence still counts, and so does the complaint they filed.
        (
            "evidence_anonymized",
            update(DiscrepancyEvidence)
            .where(DiscrepancyEvidence.guardian_id == guardian_id)
            .values(guardian_id=None),
        ),
        (
            "municipal_reports_anonymized",
            update(MunicipalReport)
            .where(MunicipalReport.guardian_id == guardian_id)
            .values(guardian_id=None),
        ),
    ]
    for name, statement in statements:
        result = await session.execute(statement.execution_options(synchronize_session=False))
        counts[name] = int(getattr(result, "rowcount", 0) or 0)
    return counts


async def scrub_outbox(
    session: AsyncSession, *, channel: str, addresses: Sequence[str], guardian_id: int | None
) -> int:
    """Cancel unsent messages to the person and empty every message they were sent."""
    conditions: list[ColumnElement[bool]] = [
        (OutboxMessage.channel == channel) & OutboxMessage.address.in_(addresses)
    ]
    if guardian_id is not None:
        conditions.append(OutboxMessage.guardian_id == guardian_id)
    mine = or_(*conditions)
    cancelled = await session.execute(
        update(OutboxMessage)
        .where(mine, OutboxMessage.status == OutboxStatus.QUEUED)
        .values(status=OutboxStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(OutboxMessage)
        .where(mine)
        .values(
            address=ERASED_ADDRESS,
            guardian_id=None,
            payload=EMPTY_PAYLOAD,
            edit_message_id=None,
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(cancelled, "rowcount", 0) or 0)


async def delete_identity(
    session: AsyncSession, *, channel: str, user_id: str, guardian_id: int | None
) -> int:
    """Delete the conversation state, the WhatsApp identifiers and the guardian row."""
    removed = 0
    state_condition = (ConversationState.channel == channel) & (
        ConversationState.channel_user_id == user_id
    )
    if guardian_id is not None:
        state_condition = state_condition | (ConversationState.guardian_id == guardian_id)
    await session.execute(delete(ConversationState).where(state_condition))
    if channel == "whatsapp":
        result = await session.execute(
            delete(WhatsAppIdentity).where(WhatsAppIdentity.user_id == user_id)
        )
        removed += int(getattr(result, "rowcount", 0) or 0)
    if guardian_id is not None:
        await session.execute(delete(Guardian).where(Guardian.id == guardian_id))
        removed += 1
    await session.flush()
    return removed


# ---------------------------------------------------------------- retention


async def media_older_than(
    session: AsyncSession, cutoff: datetime, *, limit: int
) -> Sequence[SubmissionMedia]:
    """Photos not yet deleted of submissions completed before `cutoff`, oldest first."""
    result = await session.execute(
        select(SubmissionMedia)
        .join(Submission, Submission.id == SubmissionMedia.submission_id)
        .where(Submission.completed_at < cutoff, SubmissionMedia.deleted_at.is_(None))
        .order_by(Submission.completed_at, SubmissionMedia.id)
        .limit(limit)
    )
    return result.scalars().all()


async def deleted_media_paths_since(session: AsyncSession, since: datetime) -> set[str]:
    """Files of photos marked deleted since `since` (to remove any a crash left on disk)."""
    result = await session.execute(
        select(SubmissionMedia.path).where(SubmissionMedia.deleted_at >= since).distinct()
    )
    return set(result.scalars().all())


async def guardian_by_id(session: AsyncSession, guardian_id: int) -> Guardian | None:
    """A guardian by id (for erasure on a written request)."""
    return await session.get(Guardian, guardian_id)
