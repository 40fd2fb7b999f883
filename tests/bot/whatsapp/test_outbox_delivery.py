"""Outbox rows delivered through `WhatsAppChannel` to the fake Graph API, and status callbacks."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from guardianes.bot.whatsapp.parse import read_webhook
from guardianes.bot.whatsapp.statuses import apply_statuses
from guardianes.conversations.messages import Choice, Prompt, PromptKind, text_prompt
from guardianes.domain.enums import OutboxKind, OutboxStatus
from guardianes.scheduler.outbox import OutboxSender
from guardianes.services.outbox import enqueue_to_guardian
from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Guardian, OutboxMessage
from guardianes.storage.repositories import outbox as outbox_repo
from guardianes.storage.types import utcnow
from tests.fakes.graph_server import CLASSIC, FakeGraphServer, WebhookFactory

PHONE = "5216141234567"


async def queue(
    runtime, prompt: Prompt, *, address: str = PHONE, kind: str = "reply", as_template: bool = False
) -> int:
    async with unit_of_work(runtime.sessions) as session:
        row = await outbox_repo.enqueue(
            session,
            channel="whatsapp",
            address=address,
            payload=prompt.to_json(),
            kind=kind,
            as_template=as_template,
        )
    return row.id


async def row(runtime: Runtime, row_id: int) -> OutboxMessage:
    async with runtime.sessions() as session:
        found = await session.get(OutboxMessage, row_id)
        assert found is not None
        return found


async def deliver(runtime) -> int:
    return await OutboxSender(runtime, pacers={}).run_until_idle()


async def test_a_reply_is_sent_and_recorded_with_its_wamid(wa_runtime, graph: FakeGraphServer):
    row_id = await queue(wa_runtime, text_prompt("Gracias por tu reporte"))
    await deliver(wa_runtime)
    [sent] = await graph.wait_for_sends(1)
    stored = await row(wa_runtime, row_id)
    assert stored.status == OutboxStatus.SENT
    assert stored.platform_message_id == sent.message_id
    assert sent.text == "Gracias por tu reporte"


async def test_a_choice_prompt_goes_out_as_buttons(wa_runtime, graph):
    prompt = Prompt(
        kind=PromptKind.CHOICES, text="¿Limpio?", choices=(Choice("y", "Sí"), Choice("n", "No"))
    )
    await queue(wa_runtime, prompt)
    await deliver(wa_runtime)
    [sent] = await graph.wait_for_sends(1)
    assert sent.button_ids == ["y", "n"]


async def test_a_person_known_only_by_scoped_id_is_addressed_by_recipient(wa_runtime, graph):
    await queue(wa_runtime, text_prompt("Hola"), address="MX.13491208655302741918")
    await deliver(wa_runtime)
    [sent] = await graph.wait_for_sends(1)
    assert sent.recipient == "MX.13491208655302741918"
    assert sent.to is None


async def test_outside_the_window_the_row_is_resent_as_its_template(wa_runtime, graph):
    graph.fail_next_with_code(1, 131047)
    row_id = await queue(wa_runtime, text_prompt("¿Seguimos con la tarjeta?"))
    await deliver(wa_runtime)
    sends = await graph.wait_for_attempts(2)
    assert [s.type for s in sends] == ["text", "template"]
    assert sends[1].body["template"]["name"] == wa_runtime.settings.whatsapp_template_reply
    assert sends[1].text == "¿Seguimos con la tarjeta?"
    stored = await row(wa_runtime, row_id)
    assert stored.status == OutboxStatus.SENT
    assert stored.as_template is True


async def test_a_reminder_to_a_silent_guardian_goes_out_as_the_reminder_template(wa_runtime, graph):
    async with unit_of_work(wa_runtime.sessions) as session:
        guardian = Guardian(
            channel="whatsapp",
            channel_user_id=PHONE,
            address=PHONE,
            display_name="Ana",
            consent_at=utcnow() - timedelta(days=30),
            privacy_notice_version="2026-11",
            last_inbound_at=utcnow() - timedelta(days=2),
        )
        session.add(guardian)
        await session.flush()
        await enqueue_to_guardian(
            session,
            guardian,
            text_prompt("Recuerda llenar tu tarjeta"),
            kind=OutboxKind.REMINDER,
            now=utcnow(),
        )
    await deliver(wa_runtime)
    [sent] = await graph.wait_for_sends(1)
    assert sent.type == "template"
    assert sent.body["template"]["name"] == "guardianes_recordatorio"
    assert sent.body["template"]["language"] == {"code": "es_MX"}


async def test_an_undeliverable_number_closes_the_row_as_unreachable(wa_runtime, graph):
    graph.fail_next_with_code(1, 131026)
    row_id = await queue(wa_runtime, text_prompt("Hola"))
    await deliver(wa_runtime)
    assert (await row(wa_runtime, row_id)).status == OutboxStatus.UNREACHABLE


async def test_a_rate_limit_puts_the_row_back_in_the_queue(wa_runtime, graph):
    graph.fail_next_with_code(1, 130429)
    row_id = await queue(wa_runtime, text_prompt("Hola"))
    await OutboxSender(wa_runtime, pacers={}).deliver_batch()
    stored = await row(wa_runtime, row_id)
    assert stored.status == OutboxStatus.QUEUED
    assert stored.next_attempt_at > utcnow()


async def test_delivered_and_read_callbacks_advance_the_row(
    wa_runtime, graph, webhooks: WebhookFactory
):
    row_id = await queue(wa_runtime, text_prompt("Hola"))
    await deliver(wa_runtime)
    [sent] = await graph.wait_for_sends(1)
    assert sent.message_id is not None
    for state in ("delivered", "read"):
        batch = read_webhook(webhooks.status(sent.message_id, state, CLASSIC).body)
        await apply_statuses(wa_runtime.sessions, batch.statuses)
    assert (await row(wa_runtime, row_id)).status == OutboxStatus.READ


async def test_a_late_delivered_callback_does_not_undo_read(wa_runtime, graph, webhooks):
    row_id = await queue(wa_runtime, text_prompt("Hola"))
    await deliver(wa_runtime)
    [sent] = await graph.wait_for_sends(1)
    assert sent.message_id is not None
    for state in ("read", "delivered"):
        await apply_statuses(
            wa_runtime.sessions, read_webhook(webhooks.status(sent.message_id, state).body).statuses
        )
    assert (await row(wa_runtime, row_id)).status == OutboxStatus.READ


async def test_a_failed_undeliverable_callback_marks_the_row_unreachable(
    wa_runtime, graph, webhooks
):
    row_id = await queue(wa_runtime, text_prompt("Hola"))
    await deliver(wa_runtime)
    [sent] = await graph.wait_for_sends(1)
    assert sent.message_id is not None
    post = webhooks.status(
        sent.message_id, "failed", error_code=131026, error_title="Undeliverable"
    )
    await apply_statuses(wa_runtime.sessions, read_webhook(post.body).statuses)
    async with wa_runtime.sessions() as session:
        stored = (
            await session.execute(select(OutboxMessage).where(OutboxMessage.id == row_id))
        ).scalar_one()
    assert stored.status == OutboxStatus.UNREACHABLE
    assert stored.last_error is not None and "131026" in stored.last_error


def test_the_whatsapp_channel_implements_the_channel_protocol(wa_runtime):
    from guardianes.services.delivery import Channel

    channel = wa_runtime.channels["whatsapp"]
    assert isinstance(channel, Channel)
    assert channel.name == "whatsapp"
