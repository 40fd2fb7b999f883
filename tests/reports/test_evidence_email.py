"""Evidence e-mail to the directorate: queued in a durable outbox, sent over SMTP to a real
local server, retried with backoff and reported when it fails, never lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from guardianes.config import Settings
from guardianes.domain.enums import DiscrepancyStatus, EmailKind, EmailStatus
from guardianes.services.reports import mail
from guardianes.services.reports.mail import EmailDispatcher
from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Directorate
from guardianes.storage.models_evidence import Discrepancy
from guardianes.storage.models_reports import EvidenceEmail
from guardianes.storage.repositories import evidence as evidence_repo
from tests.api.conftest import BASE, Tokens, World, bearer
from tests.reports.conftest import (
    HEAD_EMAIL,
    PARKS_EMAIL,
    SENDER,
    Inbox,
    pdf_text,
    seed_discrepancy,
)


def dispatcher_for(runtime: Runtime, port: int, **changes: object) -> EmailDispatcher:
    settings: Settings = runtime.settings.model_copy(update={"smtp_port": port, **changes})
    return EmailDispatcher(runtime.sessions, settings)


async def _email(runtime: Runtime, email_id: int) -> EvidenceEmail:
    async with unit_of_work(runtime.sessions) as session:
        email = await session.get(EvidenceEmail, email_id)
        assert email is not None
        return email


async def _discrepancy(runtime: Runtime, discrepancy_id: int) -> Discrepancy:
    async with unit_of_work(runtime.sessions) as session:
        found = await session.get(Discrepancy, discrepancy_id)
        assert found is not None
        return found


async def test_notify_sends_the_report_with_its_pdf_and_moves_it_to_notified(
    client: httpx.AsyncClient,
    api_runtime: Runtime,
    tokens: Tokens,
    world: World,
    smtp_server: Inbox,
) -> None:
    seeded = await seed_discrepancy(api_runtime, world)
    queued = await client.post(
        f"{BASE}/discrepancies/{seeded.discrepancy}/notify", headers=bearer(tokens.staff)
    )
    assert queued.status_code == 202, queued.text
    [email] = queued.json()
    assert email["status"] == "queued" and email["recipient"] == PARKS_EMAIL
    report = await dispatcher_for(api_runtime, smtp_server.port).run_once()
    assert report.sent == [email["id"]]
    [message] = smtp_server.messages()
    assert message["To"] == PARKS_EMAIL and message["From"] == SENDER
    assert "Jardines Demo del Centro" in message["Subject"]
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    text = pdf_text(attachment.get_content())
    assert "Jardines Demo del Centro" in text and seeded.contract_number in text
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and seeded.contract_number in body.get_content()
    discrepancy = await _discrepancy(api_runtime, seeded.discrepancy)
    assert discrepancy.status == DiscrepancyStatus.NOTIFIED
    async with unit_of_work(api_runtime.sessions) as session:
        events = await evidence_repo.events_of(session, seeded.discrepancy)
    assert [(e.to_status, e.actor) for e in events][-1] == ("notified", "system")
    shown = await client.get(f"{BASE}/evidence-emails/{email['id']}", headers=bearer(tokens.viewer))
    assert shown.json()["status"] == "sent"


async def test_a_failed_send_is_retried_with_backoff_and_reported(
    client: httpx.AsyncClient, api_runtime: Runtime, tokens: Tokens, world: World
) -> None:
    seeded = await seed_discrepancy(api_runtime, world)
    start = datetime(2026, 11, 28, 9, tzinfo=UTC)
    async with unit_of_work(api_runtime.sessions) as session:
        [queued] = await mail.queue_notification(
            session, [seeded.discrepancy], requested_by="t", now=start
        )
    closed_port = dispatcher_for(api_runtime, 9, email_retry_base_seconds=60.0)
    first = await closed_port.run_once(now=start)
    assert first.retried == [queued.id]
    email = await _email(api_runtime, queued.id)
    assert email.status == EmailStatus.QUEUED and email.attempts == 1
    assert email.next_attempt_at == start + timedelta(seconds=60)
    assert email.last_error
    assert (await closed_port.run_once(now=start + timedelta(seconds=30))).retried == []
    await closed_port.run_once(now=start + timedelta(seconds=60))
    email = await _email(api_runtime, queued.id)
    assert email.attempts == 2 and email.next_attempt_at == start + timedelta(seconds=180)
    listed = await client.get(
        f"{BASE}/evidence-emails",
        params={"discrepancy_id": seeded.discrepancy},
        headers=bearer(tokens.viewer),
    )
    assert listed.json()["items"][0]["last_error"]
    assert (await _discrepancy(api_runtime, seeded.discrepancy)).status == DiscrepancyStatus.OPEN


async def test_after_the_last_attempt_it_stays_failed_until_staff_retry_it(
    client: httpx.AsyncClient,
    api_runtime: Runtime,
    tokens: Tokens,
    world: World,
    smtp_server: Inbox,
) -> None:
    seeded = await seed_discrepancy(api_runtime, world)
    async with unit_of_work(api_runtime.sessions) as session:
        [queued] = await mail.queue_notification(session, [seeded.discrepancy], requested_by="t")
    broken = dispatcher_for(api_runtime, 9, email_max_attempts=1)
    assert (await broken.run_once()).failed == [queued.id]
    assert (await _email(api_runtime, queued.id)).status == EmailStatus.FAILED
    failed = await client.get(
        f"{BASE}/evidence-emails", params={"status": "failed"}, headers=bearer(tokens.viewer)
    )
    assert [e["id"] for e in failed.json()["items"]] == [queued.id]
    retried = await client.post(
        f"{BASE}/evidence-emails/{queued.id}/retry", headers=bearer(tokens.staff)
    )
    assert retried.status_code == 200 and retried.json()["status"] == "queued"
    assert (await dispatcher_for(api_runtime, smtp_server.port).run_once()).sent == [queued.id]
    again = await client.post(
        f"{BASE}/evidence-emails/{queued.id}/retry", headers=bearer(tokens.staff)
    )
    assert again.status_code == 409


async def test_a_send_cut_off_midway_is_sent_again_when_its_claim_expires(
    api_runtime: Runtime, world: World, smtp_server: Inbox
) -> None:
    seeded = await seed_discrepancy(api_runtime, world)
    start = datetime(2026, 11, 28, 9, tzinfo=UTC)
    async with unit_of_work(api_runtime.sessions) as session:
        [queued] = await mail.queue_notification(
            session, [seeded.discrepancy], requested_by="t", now=start
        )
    async with unit_of_work(api_runtime.sessions) as session:
        from guardianes.storage.repositories import evidence_emails

        claimed = await evidence_emails.claim_due(
            session, now=start, lease=timedelta(seconds=300), limit=5
        )
    assert [e.id for e in claimed] == [queued.id]  # then the process died
    dispatcher = dispatcher_for(api_runtime, smtp_server.port)
    assert (await dispatcher.run_once(now=start + timedelta(seconds=10))).sent == []
    assert (await dispatcher.run_once(now=start + timedelta(seconds=301))).sent == [queued.id]


async def test_a_batch_goes_in_one_email_per_directorate(
    client: httpx.AsyncClient, api_runtime: Runtime, tokens: Tokens, world: World
) -> None:
    first = await seed_discrepancy(api_runtime, world)
    second = await seed_discrepancy(api_runtime, world, obligation="litter")
    response = await client.post(
        f"{BASE}/evidence-emails",
        json={"discrepancy_ids": [first.discrepancy, second.discrepancy]},
        headers=bearer(tokens.staff),
    )
    assert response.status_code == 202
    [email] = response.json()
    assert email["kind"] == "batch"
    assert email["discrepancy_ids"] == [first.discrepancy, second.discrepancy]


async def test_a_directorate_without_an_address_is_refused_with_the_reason(
    client: httpx.AsyncClient, api_runtime: Runtime, tokens: Tokens, world: World
) -> None:
    seeded = await seed_discrepancy(api_runtime, world, notification_email=None)
    response = await client.post(
        f"{BASE}/discrepancies/{seeded.discrepancy}/notify", headers=bearer(tokens.staff)
    )
    assert response.status_code == 422
    assert "has no notification e-mail" in response.json()["detail"]


async def test_notify_says_so_when_email_is_off(
    client: httpx.AsyncClient, api_runtime: Runtime, tokens: Tokens, world: World
) -> None:
    seeded = await seed_discrepancy(api_runtime, world)
    api_runtime.settings = api_runtime.settings.model_copy(update={"smtp_host": None})
    response = await client.post(
        f"{BASE}/discrepancies/{seeded.discrepancy}/notify", headers=bearer(tokens.staff)
    )
    assert response.status_code == 409


async def test_an_overdue_discrepancy_is_escalated_to_the_head_once(
    api_runtime: Runtime, world: World, smtp_server: Inbox
) -> None:
    now = datetime(2026, 11, 28, 9, tzinfo=UTC)
    seeded = await seed_discrepancy(
        api_runtime, world, due_at=now - timedelta(days=1), status=DiscrepancyStatus.OPEN
    )
    dispatcher = dispatcher_for(api_runtime, smtp_server.port)
    assert await dispatcher.escalate(now) == 1
    assert await dispatcher.escalate(now + timedelta(hours=1)) == 0
    await dispatcher.run_once(now=now)
    [message] = smtp_server.messages()
    assert message["To"] == HEAD_EMAIL
    assert "Vencidas sin atender" in message["Subject"]
    discrepancy = await _discrepancy(api_runtime, seeded.discrepancy)
    assert discrepancy.escalated_at == now
    # An escalation tells the head; it does not move the discrepancy's status.
    assert discrepancy.status == DiscrepancyStatus.OPEN


async def test_without_a_heads_address_the_escalation_goes_to_the_directorate(
    api_runtime: Runtime, world: World
) -> None:
    now = datetime(2026, 11, 28, 9, tzinfo=UTC)
    await seed_discrepancy(api_runtime, world, head_email=None, due_at=now - timedelta(days=1))
    async with unit_of_work(api_runtime.sessions) as session:
        [email] = await mail.queue_escalations(session, now=now)
        assert email.kind == EmailKind.ESCALATION
        assert email.recipient == PARKS_EMAIL
        directorate = await session.get(Directorate, email.directorate_id)
        assert directorate is not None and directorate.head_email is None


@pytest.mark.parametrize("attempts, seconds", [(1, 60), (2, 120), (3, 240), (20, 6 * 3600)])
def test_backoff_doubles_up_to_its_cap(settings: Settings, attempts: int, seconds: int) -> None:
    assert mail.retry_delay(settings, attempts) == timedelta(seconds=seconds)
