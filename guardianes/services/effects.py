"""Applying the engine's effects to storage, inside the message's unit of work."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.conversations.context import (
    Effect,
    RegisterGuardian,
    SaveQuizAttempt,
    SaveSubmission,
    StaffAction,
    UpdateGuardian,
)
from guardianes.conversations.messages import InboundMessage, StoredMedia
from guardianes.storage.models import (
    FormKind,
    Guardian,
    GuardianRole,
    GuardianStatus,
    QuizAttempt,
    Submission,
    SubmissionMedia,
)
from guardianes.storage.repositories import guardians as guardians_repo
from guardianes.storage.repositories import submissions as submissions_repo

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FormDescription:
    """What storage records about a form version besides its id."""

    kind: FormKind
    title: str
    service_code: str | None
    source_file: str | None


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


async def apply_effects(
    session: AsyncSession,
    *,
    inbound: InboundMessage,
    guardian: Guardian | None,
    effects: Sequence[Effect],
    forms: FormDescriber,
    staff_actions: StaffActionHandler | None,
) -> Guardian | None:
    """Persist every effect; returns the guardian (created by a registration)."""
    for effect in effects:
        match effect:
            case RegisterGuardian():
                guardian = await _register(session, inbound, effect)
            case UpdateGuardian() if guardian is not None:
                if effect.locale is not None:
                    guardian.locale = effect.locale
                if effect.colonia_id is not None:
                    guardian.colonia_id = effect.colonia_id
                if effect.display_name is not None:
                    guardian.display_name = effect.display_name
                await session.flush()
            case SaveSubmission() if guardian is not None:
                await _save_submission(session, inbound, guardian, effect, forms)
            case SaveQuizAttempt() if guardian is not None:
                await submissions_repo.add_quiz_attempt(
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
            case _:
                raise ValueError(f"effect {effect!r} needs a registered guardian")
    return guardian


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
