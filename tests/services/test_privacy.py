"""ARCO rights, consent and retention through the real inbound pipeline (SQLite, PostgreSQL)."""

from __future__ import annotations

import json
import os
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from guardianes.conversations.context import ErasureKind
from guardianes.conversations.messages import PromptKind
from guardianes.domain.enums import DiscrepancyKind, GuardianStatus, OutboxStatus
from guardianes.services import privacy, staff_tokens
from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import (
    ConversationState,
    Guardian,
    OutboxMessage,
    PublicSpace,
    Submission,
    SubmissionMedia,
)
from guardianes.storage.models_evidence import (
    Discrepancy,
    DiscrepancyEvidence,
    GuardianConfirmation,
)
from guardianes.storage.models_privacy import ConsentEvent, PrivacyRequest
from guardianes.storage.models_training import CourseProgressRow, MunicipalReport
from guardianes.storage.repositories import guardians as guardians_repo
from guardianes.storage.types import utcnow
from tests.chat_driver import ChatDriver
from tests.privacy_helpers import JPEG, file_card
from tests.services.conftest import register


@pytest.fixture
async def ana(any_runtime: Runtime) -> ChatDriver:
    """A guardian registered on the web chat in Centro."""
    chat = ChatDriver(any_runtime, user_id="ana-browser-0000001")
    await register(chat)
    return chat


async def _guardian(runtime: Runtime, chat: ChatDriver) -> Guardian | None:
    async with unit_of_work(runtime.sessions) as session:
        return await guardians_repo.find_guardian(session, chat.channel, chat.user_id)


async def _rows(runtime: Runtime, model: type) -> list:  # type: ignore[type-arg]
    async with runtime.sessions() as session:
        return list((await session.execute(select(model))).scalars().all())


async def _count(runtime: Runtime, model: type) -> int:
    async with runtime.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


# ---------------------------------------------------------------- consent


async def test_registration_stores_the_accepted_notice_version_and_time(
    any_runtime: Runtime, ana: ChatDriver
) -> None:
    [event] = await _rows(any_runtime, ConsentEvent)
    guardian = await _guardian(any_runtime, ana)
    assert guardian is not None
    assert (event.guardian_id, event.action, event.notice_version, event.channel) == (
        guardian.id,
        "accepted",
        any_runtime.settings.privacy_notice_version,
        "webchat",
    )
    assert event.at == guardian.consent_at


async def test_a_new_notice_version_is_accepted_again_before_the_next_card(
    any_runtime: Runtime, ana: ChatDriver
) -> None:
    any_runtime.settings = any_runtime.settings.model_copy(
        update={"privacy_notice_version": "2027-01"}
    )
    await ana.text("menú")
    shown = await ana.press("Llenar una tarjeta")
    assert "versión 2027-01" in ana.all_text(shown)
    assert all("parques" not in c.label.lower() for c in shown[-1].choices)
    cards = await ana.press("Sí, acepto")
    assert any("parques" in c.label.lower() for c in cards[-1].choices)
    events = await _rows(any_runtime, ConsentEvent)
    assert [(e.action, e.notice_version) for e in events][-1] == ("accepted", "2027-01")
    guardian = await _guardian(any_runtime, ana)
    assert guardian is not None and guardian.privacy_notice_version == "2027-01"


async def test_declining_a_new_notice_is_recorded_and_keeps_the_old_acceptance(
    any_runtime: Runtime, ana: ChatDriver
) -> None:
    old = any_runtime.settings.privacy_notice_version
    any_runtime.settings = any_runtime.settings.model_copy(
        update={"privacy_notice_version": "2027-01"}
    )
    await ana.text("menú")
    await ana.press("Llenar una tarjeta")
    offered = await ana.press("No acepto")
    assert "Borrar mis datos" in [c.label for c in offered[-1].choices]
    events = await _rows(any_runtime, ConsentEvent)
    assert [(e.action, e.notice_version) for e in events] == [
        ("accepted", old),
        ("declined", "2027-01"),
    ]
    guardian = await _guardian(any_runtime, ana)
    assert guardian is not None and guardian.privacy_notice_version == old


# ---------------------------------------------------------------- access and rectification


async def test_my_data_sends_a_json_file_with_everything_then_the_photos(
    any_runtime: Runtime, ana: ChatDriver
) -> None:
    submission_id, photo = await file_card(any_runtime, ana.channel, ana.user_id)
    replies = await ana.text("mis datos")
    document, image = replies[0], replies[1]
    assert (document.kind, image.kind) == (PromptKind.DOCUMENT, PromptKind.IMAGE)
    assert document.attachment is not None and image.attachment is not None
    assert document.attachment.mime_type == "application/json"
    exported = json.loads((any_runtime.settings.media_dir / document.attachment.path).read_text())
    assert exported["guardian"]["display_name"] == "Ana López"
    assert exported["guardian"]["colonia"]["name"] == "Centro"
    assert [c["action"] for c in exported["consent_history"]] == ["accepted"]
    assert exported["platform_identities"][0]["user_id"] == ana.user_id
    [card] = exported["submissions"]
    assert card["id"] == submission_id
    assert card["answers"]["comentario"].startswith("Mi vecino")
    assert exported["quiz_attempts"] == []
    assert exported["conversation_state"]
    assert (any_runtime.settings.media_dir / image.attachment.path) == photo
    assert "Cambiar nombre" in [c.label for c in replies[-1].choices]
    [request] = await _rows(any_runtime, PrivacyRequest)
    assert (request.kind, request.counts["photos"]) == ("access", 1)


async def test_correcting_the_name_changes_it_and_logs_a_rectification(
    any_runtime: Runtime, ana: ChatDriver
) -> None:
    await ana.text("mis datos")
    await ana.press("Cambiar nombre")
    await ana.text("Ana María López")
    guardian = await _guardian(any_runtime, ana)
    assert guardian is not None and guardian.display_name == "Ana María López"
    kinds = [r.kind for r in await _rows(any_runtime, PrivacyRequest)]
    assert kinds == ["access", "rectification"]


# ---------------------------------------------------------------- cancellation and opposition


async def test_erasing_deletes_the_person_and_keeps_only_an_anonymous_card(
    any_runtime: Runtime, ana: ChatDriver
) -> None:
    submission_id, photo = await file_card(any_runtime, ana.channel, ana.user_id)
    await ana.text("borrar mis datos")
    goodbye = await ana.press("Sí, borrar todo")

    assert goodbye[-1].kind is PromptKind.DONE
    assert await _guardian(any_runtime, ana) is None
    assert await _count(any_runtime, ConversationState) == 0
    assert await _count(any_runtime, ConsentEvent) == 0
    [card] = await _rows(any_runtime, Submission)
    assert (card.id, card.guardian_id) == (submission_id, None)
    assert card.answers == {"ubicacion": "28.6355 -106.089", "poda": "si", "arboles_cuantos": 2}
    [media] = await _rows(any_runtime, SubmissionMedia)
    assert media.deleted_at is not None and media.deletion_reason == "cancellation"
    assert not photo.exists()
    [request] = await _rows(any_runtime, PrivacyRequest)
    assert (request.kind, request.outcome, request.counts["submissions_anonymized"]) == (
        "cancellation",
        "done",
        1,
    )


async def test_erasing_cancels_unsent_messages_and_empties_sent_ones(
    any_runtime: Runtime, ana: ChatDriver
) -> None:
    await ana.text("borrar mis datos")
    await ana.press("Sí, borrar todo")
    rows = sorted(await _rows(any_runtime, OutboxMessage), key=lambda r: r.id)
    *before, goodbye = rows
    assert {r.status for r in before} == {OutboxStatus.CANCELLED}
    assert {r.address for r in before} == {"erased"}
    assert all(not r.payload["text"] for r in before)
    assert (goodbye.address, goodbye.status) == (ana.user_id, OutboxStatus.QUEUED)


async def test_erasure_is_idempotent(any_runtime: Runtime, ana: ChatDriver) -> None:
    await file_card(any_runtime, ana.channel, ana.user_id)
    guardian = await _guardian(any_runtime, ana)
    assert guardian is not None
    outcomes = []
    for _ in range(2):
        async with unit_of_work(any_runtime.sessions) as session:
            found = await guardians_repo.find_guardian(session, ana.channel, ana.user_id)
            report = await privacy.erase_person(
                session,
                media_dir=any_runtime.settings.media_dir,
                closed_questions=privacy.closed_questions_from(any_runtime.catalog),
                channel=ana.channel,
                user_id=ana.user_id,
                addresses=(ana.user_id,),
                guardian=found,
                kind=ErasureKind.CANCELLATION,
                source=privacy.PrivacyRequestSource.CHAT,
            )
            outcomes.append(report.outcome)
    assert outcomes == ["done", "nothing_stored"]
    assert await _count(any_runtime, Submission) == 1
    assert await _count(any_runtime, Guardian) == 0


async def test_opposition_erases_and_is_logged_as_opposition(
    any_runtime: Runtime, ana: ChatDriver
) -> None:
    replies = await ana.text("no quiero que usen mis datos")
    assert "Respetamos tu decisión" in ana.all_text(replies)
    await ana.press("Sí, borrar todo")
    assert await _guardian(any_runtime, ana) is None
    [request] = await _rows(any_runtime, PrivacyRequest)
    assert request.kind == "opposition"


async def test_keeping_the_data_at_the_confirmation_deletes_nothing(
    any_runtime: Runtime, ana: ChatDriver
) -> None:
    await ana.text("borrar mis datos")
    await ana.press("No, conservarlos")
    assert await _guardian(any_runtime, ana) is not None
    assert await _count(any_runtime, PrivacyRequest) == 0


async def test_a_photo_another_card_shares_stays_on_disk(
    any_runtime: Runtime, ana: ChatDriver
) -> None:
    beto = ChatDriver(any_runtime, user_id="beto-browser-000001")
    await register(beto, name="Beto")
    await file_card(any_runtime, beto.channel, beto.user_id)
    _, photo = await file_card(
        any_runtime, ana.channel, ana.user_id
    )  # the very same bytes: one file
    await ana.text("borrar mis datos")
    await ana.press("Sí, borrar todo")
    assert photo.exists()


# ---------------------------------------------------------------- deactivated guardians


async def test_a_deactivated_guardian_is_told_and_cannot_file_a_card(
    any_runtime: Runtime, ana: ChatDriver
) -> None:
    guardian = await _guardian(any_runtime, ana)
    assert guardian is not None
    async with unit_of_work(any_runtime.sessions) as session:
        await staff_tokens.deactivate_guardian(session, guardian.id)
    replies = await ana.text("menú")
    assert "desactivada" in ana.all_text(replies)
    assert all(not p.choices for p in replies)
    replies = await ana.text("1")
    assert "desactivada" in ana.all_text(replies)
    still = await _guardian(any_runtime, ana)
    assert still is not None and still.status == GuardianStatus.DEACTIVATED


# ---------------------------------------------------------------- retention


async def test_retention_deletes_photos_older_than_the_setting_and_keeps_newer_ones(
    any_runtime: Runtime, ana: ChatDriver
) -> None:
    old_id, old_photo = await file_card(
        any_runtime, ana.channel, ana.user_id, JPEG + b"old", age=timedelta(days=400)
    )
    new_id, new_photo = await file_card(
        any_runtime, ana.channel, ana.user_id, JPEG + b"new", age=timedelta(days=10)
    )
    report = await privacy.run_retention(
        any_runtime.sessions,
        media_dir=any_runtime.settings.media_dir,
        retention_days=365,
        export_retention_hours=24,
    )
    assert report.photos_deleted == 1
    media = {m.submission_id: m for m in await _rows(any_runtime, SubmissionMedia)}
    assert media[old_id].deletion_reason == "retention"
    assert media[new_id].deleted_at is None
    assert (old_photo.exists(), new_photo.exists()) == (False, True)
    again = await privacy.run_retention(
        any_runtime.sessions,
        media_dir=any_runtime.settings.media_dir,
        retention_days=365,
        export_retention_hours=24,
    )
    assert again.photos_deleted == 0


async def test_retention_removes_a_file_a_crash_left_after_marking_it_deleted(
    any_runtime: Runtime, ana: ChatDriver
) -> None:
    _, photo = await file_card(any_runtime, ana.channel, ana.user_id, age=timedelta(days=400))
    content = photo.read_bytes()
    await privacy.run_retention(
        any_runtime.sessions,
        media_dir=any_runtime.settings.media_dir,
        retention_days=365,
        export_retention_hours=24,
    )
    photo.write_bytes(content)  # as if the process died between the commit and the unlink
    await privacy.run_retention(
        any_runtime.sessions,
        media_dir=any_runtime.settings.media_dir,
        retention_days=365,
        export_retention_hours=24,
    )
    assert not photo.exists()


async def test_export_files_are_removed_after_their_retention(
    any_runtime: Runtime, ana: ChatDriver
) -> None:
    [document, *_] = await ana.text("mis datos")
    assert document.attachment is not None
    path = any_runtime.settings.media_dir / document.attachment.path
    day_old = (utcnow() - timedelta(hours=25)).timestamp()
    os.utime(path, (day_old, day_old))
    report = await privacy.run_retention(
        any_runtime.sessions,
        media_dir=any_runtime.settings.media_dir,
        retention_days=365,
        export_retention_hours=24,
    )
    assert (report.exports_removed, path.exists()) == (1, False)


async def test_my_data_and_erasure_cover_evidence_confirmations_course_and_complaint_reports(
    any_runtime: Runtime, ana: ChatDriver
) -> None:
    submission_id, _ = await file_card(any_runtime, ana.channel, ana.user_id)
    guardian = await _guardian(any_runtime, ana)
    assert guardian is not None
    now = utcnow()
    async with unit_of_work(any_runtime.sessions) as session:
        space_id = (await session.execute(select(PublicSpace.id).limit(1))).scalar_one()
        discrepancy = Discrepancy(
            public_space_id=space_id,
            service_code="green_space_maintenance",
            obligation="trees",
            period_start=date(2026, 11, 1),
            period_end=date(2026, 11, 30),
            kind=DiscrepancyKind.NOT_REPORTED,
            first_observed_at=now,
            last_observed_at=now,
        )
        session.add(discrepancy)
        await session.flush()
        discrepancy_id = discrepancy.id
        session.add_all(
            [
                DiscrepancyEvidence(
                    discrepancy_id=discrepancy_id,
                    submission_id=submission_id,
                    guardian_id=guardian.id,
                    question="poda",
                    answer="si",
                    observed_at=now,
                ),
                GuardianConfirmation(
                    discrepancy_id=discrepancy_id, guardian_id=guardian.id, answer="no"
                ),
                MunicipalReport(
                    guardian_id=guardian.id,
                    submission_id=submission_id,
                    service_code="green_space_maintenance",
                    reported_at=now,
                ),
                CourseProgressRow(guardian_id=guardian.id, course_id="chihuahua", lesson_id="l1"),
            ]
        )

    replies = await ana.text("mis datos")
    assert replies[0].attachment is not None
    exported = json.loads((any_runtime.settings.media_dir / replies[0].attachment.path).read_text())
    assert [e["discrepancy_id"] for e in exported["discrepancy_evidence"]] == [discrepancy_id]
    assert [c["answer"] for c in exported["confirmations"]] == ["no"]
    assert [r["service"] for r in exported["reported_to_municipality"]] == [
        "green_space_maintenance"
    ]
    assert [c["lesson_id"] for c in exported["course_progress"]] == ["l1"]

    await ana.press("Borrar mis datos")
    await ana.press("Sí, borrar todo")
    assert await _guardian(any_runtime, ana) is None
    [evidence] = await _rows(any_runtime, DiscrepancyEvidence)
    assert (evidence.submission_id, evidence.guardian_id) == (submission_id, None)
    [report] = await _rows(any_runtime, MunicipalReport)
    assert report.guardian_id is None
    assert await _count(any_runtime, GuardianConfirmation) == 0
    assert await _count(any_runtime, CourseProgressRow) == 0
