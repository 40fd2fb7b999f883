"""Applying the engine's effects to storage, inside the message's unit of work."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.config import Settings
from guardianes.conversations.context import (
    AnswerConfirmation,
    AttachConfirmationPhoto,
    Effect,
    EraseMyData,
    ErasureKind,
    ExportMyData,
    RecordConsent,
    RecordMunicipalReport,
    RegisterGuardian,
    SaveCourseProgress,
    SaveQuizAttempt,
    SaveSubmission,
    StaffAction,
    UpdateGuardian,
)
from guardianes.conversations.messages import InboundMessage, StoredMedia
from guardianes.conversations.obligations import ObligationRule
from guardianes.domain.enums import FormKind, GuardianRole, GuardianStatus
from guardianes.services import evidence, privacy, training
from guardianes.storage.models import Guardian, QuizAttempt, Submission, SubmissionMedia
from guardianes.storage.repositories import guardians as guardians_repo
from guardianes.storage.repositories import quiz_attempts as quiz_attempts_repo
from guardianes.storage.repositories import submissions as submissions_repo

logger = logging.getLogger(__name__)
EVIDENCE_ATTEMPTS = 2


@dataclass(frozen=True, slots=True)
class FormDescription:
    """What storage records about a form version besides its id."""

    kind: FormKind
    title: str
    service_code: str | None
    source_file: str | None
    # How the form's tagged questions mark a failed obligation, stored with the version.
    obligation_rules: tuple[ObligationRule, ...] = ()


class FormDescriber(Protocol):
    """Answers how a form should be recorded; implemented over the form catalog."""

    def describe(self, form_id: str) -> FormDescription:
        """The kind, title and service of a form."""
        ...


class StaffActionHandler(Protocol):
    """Carries out a staff command from chat (broadcast, visit, audience, status) and replies."""

    async def __call__(self, session: AsyncSession, staff: Guardian, action: StaffAction) -> None:
        """Create the broadcast or visit, or report; queue the answer to the staff member."""
        ...


class PrivacyHandler(Protocol):
    """Carries out the ARCO rights asked in chat: consent, access (export), erasure."""

    async def record_consent(
        self,
        session: AsyncSession,
        guardian: Guardian,
        inbound: InboundMessage,
        effect: RecordConsent,
    ) -> None:
        """A new privacy notice accepted or declined."""
        ...

    async def export(
        self, session: AsyncSession, guardian: Guardian, inbound: InboundMessage
    ) -> None:
        """Queue everything stored about the guardian (a JSON file, their photos)."""
        ...

    async def erase(
        self,
        session: AsyncSession,
        guardian: Guardian | None,
        inbound: InboundMessage,
        kind: ErasureKind,
    ) -> None:
        """Delete the person's data in this transaction."""
        ...


def _privacy(handler: PrivacyHandler | None) -> PrivacyHandler:
    if handler is None:
        # Never silently skip a deletion: the pipeline records the failure and apologises.
        raise RuntimeError("no privacy handler: ARCO requests cannot be carried out")
    return handler


async def apply_effects(
    session: AsyncSession,
    *,
    inbound: InboundMessage,
    guardian: Guardian | None,
    effects: Sequence[Effect],
    forms: FormDescriber,
    staff_actions: StaffActionHandler | None,
    privacy_handler: PrivacyHandler | None = None,
    settings: Settings | None = None,
) -> Guardian | None:
    """Persist every effect; returns the guardian (created by a registration, None if erased).

    With `settings`, a stored card also updates the discrepancies it is evidence of, in
    this same unit of work (so a card is never stored without its consequences).
    """
    for effect in effects:
        match effect:
            case RegisterGuardian():
                guardian = await _register(session, inbound, effect)
                await privacy.record_registration_consent(
                    session, guardian, version=effect.consent_version, at=effect.consented_at
                )
            case UpdateGuardian() if guardian is not None:
                if effect.locale is not None:
                    guardian.locale = effect.locale
                if effect.colonia_id is not None:
                    guardian.colonia_id = effect.colonia_id
                if effect.display_name is not None:
                    guardian.display_name = effect.display_name
                await session.flush()
                # Only "my data" changes the guardian's own data: ARCO rectification.
                await privacy.log_rectification(session, inbound.channel)
            case RecordConsent() if guardian is not None:
                await _privacy(privacy_handler).record_consent(session, guardian, inbound, effect)
            case ExportMyData() if guardian is not None:
                await _privacy(privacy_handler).export(session, guardian, inbound)
            case EraseMyData():
                await _privacy(privacy_handler).erase(session, guardian, inbound, effect.kind)
                guardian = None
            case SaveSubmission() if guardian is not None:
                submission = await _save_submission(session, inbound, guardian, effect, forms)
                if settings is not None:
                    await _refresh_evidence(session, submission.id, settings)
            case AnswerConfirmation() if guardian is not None:
                await evidence.answer_confirmation(
                    session, guardian, effect.confirmation_id, effect.answer
                )
            case AttachConfirmationPhoto() if guardian is not None:
                await evidence.attach_confirmation_photo(
                    session, guardian, effect.confirmation_id, effect.photo
                )
            case SaveQuizAttempt() if guardian is not None:
                await quiz_attempts_repo.add_quiz_attempt(
                    session,
                    QuizAttempt(
                        guardian_id=guardian.id,
                        form_id=effect.form_id,
                        form_version=effect.form_version,
                        phase=effect.phase.value,
                        answers=effect.answers,
                        score=effect.score,
                        max_score=effect.max_score,
                        started_at=effect.started_at,
                        completed_at=effect.completed_at,
                    ),
                )
            case StaffAction() if guardian is not None:
                await _staff_action(session, guardian, effect, staff_actions)
            case SaveCourseProgress() if guardian is not None:
                await training.save_course_progress(session, guardian, effect)
            case RecordMunicipalReport() if guardian is not None:
                await training.record_municipal_report(session, guardian, effect)
            case _:
                raise ValueError(f"effect {effect!r} needs a registered guardian")
    return guardian


async def _refresh_evidence(session: AsyncSession, submission_id: int, settings: Settings) -> None:
    """Update the discrepancies a new card is evidence of, without ever losing the card.

    A savepoint isolates it: should computing evidence fail, the card, the guardian's
    state and replies still commit, and `guardianes evidence refresh` catches up later.
    """
    for attempt in range(EVIDENCE_ATTEMPTS):
        try:
            async with session.begin_nested():
                await evidence.refresh_for_submission(session, submission_id, settings=settings)
            return
        except IntegrityError:
            # Another process stored the same discrepancy first (two cards of one place at
            # once); its row is committed now, so one more pass updates it instead.
            if attempt + 1 < EVIDENCE_ATTEMPTS:
                continue
            logger.exception("evidence of submission %s kept colliding", submission_id)
        except Exception:
            logger.exception(
                "evidence of submission %s not computed; `guardianes evidence refresh` will",
                submission_id,
            )
            return


async def _staff_action(
    session: AsyncSession,
    guardian: Guardian,
    effect: StaffAction,
    staff_actions: StaffActionHandler | None,
) -> None:
    # The engine offers staff tools only to staff; the role is checked again here because
    # it is what stands between a chat message and a message to a whole colonia.
    if guardian.role != GuardianRole.STAFF:
        logger.warning("guardian %s is not staff: %s refused", guardian.id, effect.action)
    elif staff_actions is None:
        logger.warning(
            "no staff action handler: %s of guardian %s dropped", effect.action, guardian.id
        )
    else:
        await staff_actions(session, guardian, effect)


async def _register(
    session: AsyncSession, inbound: InboundMessage, effect: RegisterGuardian
) -> Guardian:
    existing = await guardians_repo.find_guardian(session, inbound.channel, inbound.user_id)
    if existing is not None:
        # Registering again (e.g. after a reset) refreshes consent instead of duplicating.
        existing.display_name = effect.display_name
        existing.locale = effect.locale
        existing.colonia_id = effect.colonia_id
        existing.city_id = effect.city_id
        existing.consent_at = effect.consented_at
        existing.privacy_notice_version = effect.consent_version
        existing.status = GuardianStatus.ACTIVE
        await session.flush()
        return existing
    return await guardians_repo.add_guardian(
        session,
        Guardian(
            channel=inbound.channel,
            channel_user_id=inbound.user_id,
            address=inbound.address or inbound.user_id,
            display_name=effect.display_name,
            locale=effect.locale,
            colonia_id=effect.colonia_id,
            city_id=effect.city_id,
            consent_at=effect.consented_at,
            privacy_notice_version=effect.consent_version,
            role=GuardianRole.GUARDIAN,
            status=GuardianStatus.ACTIVE,
            last_inbound_at=inbound.received_at,
        ),
    )


async def _save_submission(
    session: AsyncSession,
    inbound: InboundMessage,
    guardian: Guardian,
    effect: SaveSubmission,
    forms: FormDescriber,
) -> Submission:
    description = forms.describe(effect.form_id)
    definition = await submissions_repo.get_or_create_card_definition(
        session,
        form_id=effect.form_id,
        version=effect.form_version,
        kind=description.kind,
        title=description.title,
        service_code=description.service_code,
        source_file=description.source_file,
        questions=[rule.to_json() for rule in description.obligation_rules],
    )
    contract_id = responsible = colonia_id = None
    if effect.space_id is not None:
        contract_id, responsible, colonia_id = await submissions_repo.space_responsibility(
            session, effect.space_id
        )
    media = [
        SubmissionMedia(
            question=question,
            position=position,
            path=photo.path,
            sha256=photo.sha256,
            mime_type=photo.mime_type,
            size=photo.size,
            perceptual_hash=photo.perceptual_hash,
            caption=photo.caption,
        )
        for position, (question, photo) in enumerate(_photos_by_question(effect))
    ]
    return await submissions_repo.add_submission(
        session,
        Submission(
            guardian_id=guardian.id,
            card_definition_id=definition.id,
            channel=inbound.channel,
            answers=effect.answers,
            latitude=effect.location.latitude if effect.location else None,
            longitude=effect.location.longitude if effect.location else None,
            public_space_id=effect.space_id,
            contract_id=contract_id,
            colonia_id=colonia_id or guardian.colonia_id,
            responsible_name=responsible,
            started_at=effect.started_at,
            completed_at=effect.completed_at,
            media=media,
        ),
    )


def _photos_by_question(effect: SaveSubmission) -> list[tuple[str, StoredMedia]]:
    """Pair each photo with the image question whose answer lists its stored path."""
    question_of: dict[str, str] = {}
    for name, value in effect.answers.items():
        if isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    question_of.setdefault(item, name)
    return [(question_of.get(photo.path, "photos"), photo) for photo in effect.photos]
