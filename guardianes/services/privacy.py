"""Privacy under Mexico's LFPDPPP: consent, the ARCO rights, media retention.

- **Consent**: every acceptance or refusal of a notice version is a `ConsentEvent`; the
  guardian row keeps the version last accepted, which the engine compares with
  GUARDIANES_PRIVACY_NOTICE_VERSION before a card or quiz.
- **Access** («mis datos»): a JSON document with everything stored about the person, written
  under `GUARDIANES_MEDIA_DIR/exports/` and sent as a file, followed by their photos, through
  the outbox of their own channel. Export files are removed after
  GUARDIANES_PRIVACY_EXPORT_RETENTION_HOURS.
- **Rectification**: name, colonia and language changed in chat (logged, no data in the log).
- **Cancellation and opposition** (`erase_person`): in the caller's one transaction, the
  guardian row, consent history, quiz attempts, deliveries, reminders, conversation state,
  WhatsApp identifiers and photos go; unsent messages are cancelled and sent ones emptied.
  Submissions stay as anonymous public evidence: `guardian_id` becomes NULL and only closed
  answers (choices, numbers, dates, the location of the public space) are kept; free text
  and photos are dropped. Files are removed once the transaction commits. Running it again
  finds nothing and logs `nothing_stored`: it is idempotent.
- **Retention**: `apply_retention` marks photos of cards older than
  GUARDIANES_MEDIA_RETENTION_DAYS deleted and removes their files.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from guardianes.conversations.catalog import FormCatalog
from guardianes.conversations.context import ErasureKind, RecordConsent
from guardianes.conversations.messages import Attachment, InboundMessage, Prompt, PromptKind
from guardianes.conversations.xlsform import QuestionType
from guardianes.domain.enums import (
    ConsentAction,
    PrivacyRequestKind,
    PrivacyRequestOutcome,
    PrivacyRequestSource,
)
from guardianes.locales import translator
from guardianes.services.outbox import enqueue_prompts
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Guardian, Submission, SubmissionMedia
from guardianes.storage.repositories import privacy as privacy_repo
from guardianes.storage.repositories import webchat_history
from guardianes.storage.types import utcnow

logger = logging.getLogger(__name__)

EXPORTS_FOLDER = "exports"
EXPORT_FORMAT = "guardianes-personal-data/1"
# Answers that carry no personal data and stay as evidence once the author is erased.
CLOSED_TYPES = frozenset(
    {
        QuestionType.SELECT_ONE,
        QuestionType.SELECT_MULTIPLE,
        QuestionType.INTEGER,
        QuestionType.DECIMAL,
        QuestionType.DATE,
        QuestionType.GEOPOINT,
        QuestionType.CALCULATE,
    }
)
RETENTION_BATCH = 500
# Files of photos deleted this recently are looked for again on disk (a crash may have left
# one between the commit and the removal).
RESWEEP_WINDOW = timedelta(days=7)


# ---------------------------------------------------------------- files


def media_file(media_dir: Path, relative: str) -> Path | None:
    """A stored file's path, refusing anything outside the media folder."""
    root = media_dir.resolve()
    path = (root / relative).resolve()
    return path if path.is_relative_to(root) else None


def remove_files_after_commit(session: AsyncSession, files: list[Path]) -> None:
    """Delete files once the session's transaction commits (never if it rolls back)."""
    if not files:
        return

    def remove(_: Session) -> None:
        for path in files:
            try:
                path.unlink(missing_ok=True)
            except OSError:
                # The retention job looks for it again; the database already says deleted.
                logger.warning("could not delete %s", path, exc_info=True)

    event.listen(session.sync_session, "after_commit", remove, once=True)


def _export_files_of(media_dir: Path, guardian_id: int) -> list[Path]:
    folder = media_dir / EXPORTS_FOLDER
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"{guardian_id}-*.json"))


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".part")
    temporary.write_bytes(data)
    temporary.replace(path)


# ---------------------------------------------------------------- consent


async def record_consent(
    session: AsyncSession, guardian: Guardian, channel: str, effect: RecordConsent
) -> None:
    """Store an acceptance (the guardian's current version) or a refusal of a notice."""
    action = ConsentAction.ACCEPTED if effect.accepted else ConsentAction.DECLINED
    await privacy_repo.add_consent_event(
        session,
        guardian_id=guardian.id,
        action=action,
        notice_version=effect.notice_version,
        channel=channel,
        at=effect.at,
    )
    if effect.accepted:
        guardian.consent_at = effect.at
        guardian.privacy_notice_version = effect.notice_version
        await session.flush()


async def record_registration_consent(
    session: AsyncSession, guardian: Guardian, *, version: str, at: datetime
) -> None:
    """The acceptance given at sign-up starts the consent history."""
    await privacy_repo.add_consent_event(
        session,
        guardian_id=guardian.id,
        action=ConsentAction.ACCEPTED,
        notice_version=version,
        channel=guardian.channel,
        at=at,
    )


async def log_rectification(session: AsyncSession, channel: str) -> None:
    """A guardian corrected their own data in chat."""
    await privacy_repo.log_request(
        session,
        kind=PrivacyRequestKind.RECTIFICATION,
        source=PrivacyRequestSource.CHAT,
        channel=channel,
        outcome=PrivacyRequestOutcome.DONE,
        counts={},
        at=utcnow(),
    )


# ---------------------------------------------------------------- access


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _photo_json(media: SubmissionMedia) -> dict[str, Any]:
    return {
        "question": media.question,
        "file_name": Path(media.path).name,
        "sha256": media.sha256,
        "mime_type": media.mime_type,
        "size": media.size,
        "deleted_at": _iso(media.deleted_at),
        "deletion_reason": media.deletion_reason,
    }


@dataclass(frozen=True, slots=True)
class PersonalData:
    """Everything stored about one guardian, as a JSON document, and their photos on disk."""

    document: dict[str, Any]
    photos: list[tuple[SubmissionMedia, Submission]] = field(default_factory=list)


async def collect_personal_data(
    session: AsyncSession, guardian: Guardian, *, notice_version: str, now: datetime
) -> PersonalData:
    """Gather the guardian's record and everything linked to it."""
    colonia = guardian.colonia
    consent = await privacy_repo.consent_history(session, guardian.id)
    submissions = await privacy_repo.submissions_of(session, guardian.id)
    definitions = await privacy_repo.card_definitions(
        session, [s.card_definition_id for s in submissions]
    )
    quizzes = await privacy_repo.quiz_attempts_of(session, guardian.id)
    deliveries = await privacy_repo.deliveries_of(session, guardian.id)
    reminders, occurrences = await privacy_repo.reminders_of(session, guardian.id)
    states = await privacy_repo.conversation_states_of(
        session, guardian.channel, guardian.channel_user_id, guardian.id
    )
    courses = await privacy_repo.course_progress_of(session, guardian.id)
    municipal_reports = await privacy_repo.municipal_reports_of(session, guardian.id)
    confirmations = await privacy_repo.confirmations_of(session, guardian.id)
    evidence = await privacy_repo.evidence_of(session, guardian.id)
    identities: list[dict[str, Any]] = [
        {
            "channel": guardian.channel,
            "user_id": guardian.channel_user_id,
            "address": guardian.address,
            "phone": guardian.phone,
        }
    ]
    if guardian.channel == "whatsapp":
        whatsapp = await privacy_repo.whatsapp_identity(session, guardian.channel_user_id)
        if whatsapp is not None:
            identities.append(
                {"channel": "whatsapp", "wa_id": whatsapp.wa_id, "bsuid": whatsapp.bsuid}
            )
    photos: list[tuple[SubmissionMedia, Submission]] = []
    submission_rows = []
    for submission in submissions:
        definition = definitions.get(submission.card_definition_id)
        submission_rows.append(
            {
                "id": submission.id,
                "form_id": definition.form_id if definition else None,
                "form_version": definition.version if definition else None,
                "form_title": definition.title if definition else None,
                "channel": submission.channel,
                "answers": submission.answers,
                "latitude": submission.latitude,
                "longitude": submission.longitude,
                "public_space_id": submission.public_space_id,
                "colonia_id": submission.colonia_id,
                "contract_id": submission.contract_id,
                "responsible_name": submission.responsible_name,
                "started_at": _iso(submission.started_at),
                "completed_at": _iso(submission.completed_at),
                "photos": [_photo_json(m) for m in submission.media],
            }
        )
        photos.extend((m, submission) for m in submission.media if m.deleted_at is None)
    document: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "generated_at": now.isoformat(),
        "current_privacy_notice_version": notice_version,
        "guardian": {
            "id": guardian.id,
            "display_name": guardian.display_name,
            "colonia": {"id": colonia.id, "name": colonia.name} if colonia else None,
            "role": guardian.role,
            "status": guardian.status,
            "locale": guardian.locale,
            "training_date": guardian.training_date.isoformat() if guardian.training_date else None,
            "consent_at": _iso(guardian.consent_at),
            "privacy_notice_version": guardian.privacy_notice_version,
            "created_at": _iso(guardian.created_at),
            "updated_at": _iso(guardian.updated_at),
            "last_inbound_at": _iso(guardian.last_inbound_at),
        },
        "platform_identities": identities,
        "consent_history": [
            {
                "action": c.action,
                "notice_version": c.notice_version,
                "channel": c.channel,
                "at": _iso(c.at),
            }
            for c in consent
        ],
        "submissions": submission_rows,
        "quiz_attempts": [
            {
                "id": q.id,
                "form_id": q.form_id,
                "form_version": q.form_version,
                "phase": q.phase,
                "answers": q.answers,
                "score": q.score,
                "max_score": q.max_score,
                "started_at": _iso(q.started_at),
                "completed_at": _iso(q.completed_at),
            }
            for q in quizzes
        ],
        "deliveries": [
            {
                "broadcast_id": broadcast.id,
                "kind": broadcast.kind,
                "text": broadcast.text,
                "status": delivery.status,
                "updated_at": _iso(delivery.updated_at),
            }
            for delivery, broadcast in deliveries
        ],
        "reminders": [
            {"id": r.id, "name": r.name, "cron": r.cron, "active": r.active} for r in reminders
        ],
        "reminder_occurrences": [
            {
                "reminder_id": o.reminder_id,
                "scheduled_for": _iso(o.scheduled_for),
                "status": o.status,
            }
            for o in occurrences
        ],
        "conversation_state": [s.state for s in states],
        "course_progress": [
            {
                "course_id": c.course_id,
                "lesson_id": c.lesson_id,
                "lessons_done": c.lessons_done,
                "started_at": _iso(c.started_at),
                "last_activity_at": _iso(c.last_activity_at),
                "completed_at": _iso(c.completed_at),
            }
            for c in courses
        ],
        "reported_to_municipality": [
            {
                "service": r.service_code,
                "submission_id": r.submission_id,
                "colonia_id": r.colonia_id,
                "reported_at": _iso(r.reported_at),
            }
            for r in municipal_reports
        ],
        "discrepancy_evidence": [
            {
                "discrepancy_id": e.discrepancy_id,
                "submission_id": e.submission_id,
                "question": e.question,
                "answer": e.answer,
                "is_repeat": e.is_repeat,
                "observed_at": _iso(e.observed_at),
            }
            for e in evidence
        ],
        "confirmations": [
            {
                "discrepancy_id": c.discrepancy_id,
                "asked_at": _iso(c.asked_at),
                "answer": c.answer,
                "answered_at": _iso(c.answered_at),
                "photo": c.media_path,
            }
            for c in confirmations
        ],
    }
    return PersonalData(document=document, photos=photos)


async def export_personal_data(
    session: AsyncSession,
    *,
    media_dir: Path,
    guardian: Guardian,
    inbound: InboundMessage,
    notice_version: str,
) -> PersonalData:
    """Write the JSON file and queue it, then each photo, to the guardian's chat."""
    now = utcnow()
    data = await collect_personal_data(session, guardian, notice_version=notice_version, now=now)
    relative = f"{EXPORTS_FOLDER}/{guardian.id}-{secrets.token_urlsafe(12)}.json"
    target = media_file(media_dir, relative)
    assert target is not None
    body = json.dumps(data.document, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    await asyncio.to_thread(_write_file, target, body)
    t = translator(guardian.locale)
    photos = [
        (media, submission, path)
        for media, submission in data.photos
        if (path := media_file(media_dir, media.path)) is not None and path.is_file()
    ]
    caption_key = "privacy.export.caption" if photos else "privacy.export.caption_no_photos"
    prompts = [
        Prompt(
            kind=PromptKind.DOCUMENT,
            text=t(
                caption_key,
                submissions=len(data.document["submissions"]),
                quizzes=len(data.document["quiz_attempts"]),
                photos=len(photos),
            ),
            attachment=Attachment(
                path=relative,
                file_name=t("privacy.export.file_name", date=now.date().isoformat()),
                mime_type="application/json",
            ),
        )
    ]
    for number, (media, submission, _) in enumerate(photos, start=1):
        prompts.append(
            Prompt(
                kind=PromptKind.IMAGE,
                text=t(
                    "privacy.export.photo_caption",
                    number=number,
                    total=len(photos),
                    date=submission.completed_at.date().isoformat(),
                ),
                attachment=Attachment(
                    path=media.path, file_name=Path(media.path).name, mime_type=media.mime_type
                ),
            )
        )
    await enqueue_prompts(
        session,
        channel=inbound.channel,
        address=inbound.address or inbound.user_id,
        prompts=prompts,
        guardian_id=guardian.id,
        locale=guardian.locale,
    )
    await privacy_repo.log_request(
        session,
        kind=PrivacyRequestKind.ACCESS,
        source=PrivacyRequestSource.CHAT,
        channel=inbound.channel,
        outcome=PrivacyRequestOutcome.DONE,
        counts={
            "submissions": len(data.document["submissions"]),
            "quiz_attempts": len(data.document["quiz_attempts"]),
            "photos": len(photos),
        },
        at=now,
    )
    return data


# ---------------------------------------------------------------- cancellation and opposition

ClosedQuestions = Callable[[str | None], frozenset[str] | None]


def closed_questions_from(catalog: FormCatalog) -> ClosedQuestions:
    """For a form id, the names of its questions whose answers hold no personal data."""

    def closed(form_id: str | None) -> frozenset[str] | None:
        form = catalog.get(form_id) if form_id else None
        if form is None:
            return None
        return frozenset(q.name for q in form.questions if q.type in CLOSED_TYPES)

    return closed


def anonymous_answers(answers: dict[str, Any], closed: frozenset[str] | None) -> dict[str, Any]:
    """The answers that stay as evidence: closed ones only; nothing for an unknown form."""
    if closed is None:
        return {}
    return {name: value for name, value in answers.items() if name in closed}


@dataclass(frozen=True, slots=True)
class ErasureReport:
    """What an erasure did, in anonymous counts."""

    outcome: PrivacyRequestOutcome
    counts: dict[str, int]


async def erase_person(
    session: AsyncSession,
    *,
    media_dir: Path,
    closed_questions: ClosedQuestions,
    channel: str,
    user_id: str,
    addresses: tuple[str, ...],
    guardian: Guardian | None,
    kind: ErasureKind,
    source: PrivacyRequestSource,
) -> ErasureReport:
    """Delete a person's data in the session's transaction; files go after the commit."""
    now = utcnow()
    counts: dict[str, int] = {}
    files: list[Path] = []
    guardian_id = guardian.id if guardian is not None else None
    if guardian is not None:
        submissions = await privacy_repo.submissions_of(session, guardian.id)
        definitions = await privacy_repo.card_definitions(
            session, [s.card_definition_id for s in submissions]
        )
        media = [m for s in submissions for m in s.media if m.deleted_at is None]
        await privacy_repo.mark_media_deleted(
            session, [m.id for m in media], reason=kind.value, at=now
        )
        for submission in submissions:
            definition = definitions.get(submission.card_definition_id)
            closed = closed_questions(definition.form_id if definition else None)
            await privacy_repo.anonymize_submission(
                session, submission.id, anonymous_answers(submission.answers, closed)
            )
        paths = {m.path for m in media}
        still_used = await privacy_repo.paths_still_used(session, paths)
        files.extend(
            path
            for relative in sorted(paths - still_used)
            if (path := media_file(media_dir, relative)) is not None
        )
        files.extend(_export_files_of(media_dir, guardian.id))
        confirmation_photos = {
            c.media_path
            for c in await privacy_repo.confirmations_of(session, guardian.id)
            if c.media_path
        }
        files.extend(
            path
            for relative in sorted(confirmation_photos - paths)
            if (path := media_file(media_dir, relative)) is not None
        )
        counts["submissions_anonymized"] = len(submissions)
        counts["photos_deleted"] = len(media)
        counts.update(await privacy_repo.delete_person_rows(session, guardian.id))
        # The ORM must not write the deleted row back; bulk statements did the work.
        session.expunge(guardian)
    counts["messages_cancelled"] = await privacy_repo.scrub_outbox(
        session, channel=channel, addresses=addresses, guardian_id=guardian_id
    )
    if channel == "webchat":
        # The web chat shows guardians what they sent: after erasure there is nothing.
        await webchat_history.forget_own_messages(session, user_id=user_id)
    counts["identities_deleted"] = await privacy_repo.delete_identity(
        session, channel=channel, user_id=user_id, guardian_id=guardian_id
    )
    outcome = (
        PrivacyRequestOutcome.DONE if guardian is not None else PrivacyRequestOutcome.NOTHING_STORED
    )
    request_kind = (
        PrivacyRequestKind.OPPOSITION
        if kind is ErasureKind.OPPOSITION
        else PrivacyRequestKind.CANCELLATION
    )
    await privacy_repo.log_request(
        session,
        kind=request_kind,
        source=source,
        channel=channel,
        outcome=outcome,
        counts=counts,
        at=now,
    )
    remove_files_after_commit(session, files)
    return ErasureReport(outcome=outcome, counts=counts)


# ---------------------------------------------------------------- the chat's handler


@dataclass(frozen=True, slots=True)
class PrivacyService:
    """Carries out the engine's privacy effects for the inbound pipeline."""

    media_dir: Path
    catalog: FormCatalog
    notice_version: str

    async def record_consent(
        self,
        session: AsyncSession,
        guardian: Guardian,
        inbound: InboundMessage,
        effect: RecordConsent,
    ) -> None:
        """A new notice accepted or declined."""
        await record_consent(session, guardian, inbound.channel, effect)

    async def export(
        self, session: AsyncSession, guardian: Guardian, inbound: InboundMessage
    ) -> None:
        """Send the guardian everything stored about them."""
        await export_personal_data(
            session,
            media_dir=self.media_dir,
            guardian=guardian,
            inbound=inbound,
            notice_version=self.notice_version,
        )

    async def erase(
        self,
        session: AsyncSession,
        guardian: Guardian | None,
        inbound: InboundMessage,
        kind: ErasureKind,
    ) -> None:
        """Erase the person writing, confirmed in chat."""
        addresses = {inbound.user_id}
        if inbound.address:
            addresses.add(inbound.address)
        if guardian is not None:
            addresses.add(guardian.address)
        await erase_person(
            session,
            media_dir=self.media_dir,
            closed_questions=closed_questions_from(self.catalog),
            channel=inbound.channel,
            user_id=inbound.user_id,
            addresses=tuple(sorted(addresses)),
            guardian=guardian,
            kind=kind,
            source=PrivacyRequestSource.CHAT,
        )


async def erase_guardian_by_staff(
    session: AsyncSession,
    *,
    media_dir: Path,
    catalog: FormCatalog,
    guardian: Guardian,
    kind: ErasureKind,
) -> ErasureReport:
    """Erase a guardian on a written ARCO request received by staff."""
    return await erase_person(
        session,
        media_dir=media_dir,
        closed_questions=closed_questions_from(catalog),
        channel=guardian.channel,
        user_id=guardian.channel_user_id,
        addresses=tuple(sorted({guardian.address, guardian.channel_user_id})),
        guardian=guardian,
        kind=kind,
        source=PrivacyRequestSource.STAFF,
    )


# ---------------------------------------------------------------- retention


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """What one retention pass removed."""

    photos_deleted: int
    files_removed: int
    exports_removed: int


async def expire_media(
    session: AsyncSession, *, media_dir: Path, retention_days: int, now: datetime
) -> tuple[int, list[Path]]:
    """Mark photos past retention deleted; returns how many and the files to remove."""
    cutoff = now - timedelta(days=retention_days)
    total = 0
    paths: set[str] = set()
    while True:
        batch = await privacy_repo.media_older_than(session, cutoff, limit=RETENTION_BATCH)
        if not batch:
            break
        await privacy_repo.mark_media_deleted(
            session, [m.id for m in batch], reason="retention", at=now
        )
        total += len(batch)
        paths.update(m.path for m in batch)
        if len(batch) < RETENTION_BATCH:
            break
    # Also files of photos deleted lately whose removal a crash may have interrupted.
    paths.update(await privacy_repo.deleted_media_paths_since(session, now - RESWEEP_WINDOW))
    still_used = await privacy_repo.paths_still_used(session, paths)
    files = [
        path
        for relative in sorted(paths - still_used)
        if (path := media_file(media_dir, relative)) is not None and path.exists()
    ]
    return total, files


def expire_exports(media_dir: Path, *, retention_hours: int, now: datetime) -> int:
    """Remove "my data" files older than the export retention; returns how many."""
    folder = media_dir / EXPORTS_FOLDER
    if not folder.is_dir():
        return 0
    cutoff = (now - timedelta(hours=retention_hours)).timestamp()
    removed = 0
    for path in folder.iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


async def run_retention(
    sessions: async_sessionmaker[AsyncSession],
    *,
    media_dir: Path,
    retention_days: int,
    export_retention_hours: int,
    now: datetime | None = None,
) -> RetentionReport:
    """One retention pass: old photos marked deleted and removed, old export files removed."""
    moment = now or utcnow()
    async with unit_of_work(sessions) as session:
        deleted, files = await expire_media(
            session, media_dir=media_dir, retention_days=retention_days, now=moment
        )
        remove_files_after_commit(session, files)
    exports = await asyncio.to_thread(
        expire_exports, media_dir, retention_hours=export_retention_hours, now=moment
    )
    if deleted or files or exports:
        logger.info(
            "retention: %d photos marked deleted, %d files and %d export files removed",
            deleted,
            len(files),
            exports,
        )
    return RetentionReport(
        photos_deleted=deleted, files_removed=len(files), exports_removed=exports
    )
