"""The one path every inbound message takes: dedupe, lock, engine, state + outbox, commit."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.conversations.context import (
    ColoniaRef,
    EngineContext,
    GuardianProfile,
    QuizPhase,
    Role,
)
from guardianes.conversations.engine import advance
from guardianes.conversations.messages import InboundMessage, text_prompt
from guardianes.locales import translator
from guardianes.services.effects import apply_effects
from guardianes.services.outbox import enqueue_prompts
from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Guardian
from guardianes.storage.repositories import guardians as guardians_repo
from guardianes.storage.repositories import inbound as inbound_repo
from guardianes.storage.types import utcnow

logger = logging.getLogger(__name__)


def conversation_key(channel: str, user_id: str) -> str:
    """The key under which one person's messages are serialized."""
    return f"{channel}:{user_id}"


async def store_inbound(runtime: Runtime, inbound: InboundMessage) -> bool:
    """Record the event durably; False when the platform delivered it before."""
    key = conversation_key(inbound.channel, inbound.user_id)
    # Events are processed in storage order; this FIFO lock makes storage order the order
    # in which this process received them, even when inserts race on the database.
    async with runtime.locks.hold(f"arrival:{key}"), unit_of_work(runtime.sessions) as session:
        event_id = await inbound_repo.record_event(
            session,
            channel=inbound.channel,
            external_id=inbound.external_id,
            conversation_key=key,
            payload=inbound.to_json(),
        )
    return event_id is not None


async def handle_inbound(runtime: Runtime, inbound: InboundMessage) -> bool:
    """Store and process one message now; False for a duplicate (nothing happens)."""
    if not await store_inbound(runtime, inbound):
        return False
    await process_conversation(runtime, conversation_key(inbound.channel, inbound.user_id))
    return True


async def accept_inbound(runtime: Runtime, inbound: InboundMessage) -> bool:
    """Store the message and process it in the background (webhooks answer fast)."""
    if not await store_inbound(runtime, inbound):
        return False
    key = conversation_key(inbound.channel, inbound.user_id)
    runtime.spawn(process_conversation(runtime, key), name=f"inbound {key}")
    return True


async def process_conversation(runtime: Runtime, key: str) -> int:
    """Process every stored event of one conversation, oldest first; returns how many."""
    processed = 0
    async with runtime.locks.hold(key):
        while await _process_next(runtime, key):
            processed += 1
    if processed:
        runtime.outbox_wakeup.set()
    return processed


async def recover_unprocessed(runtime: Runtime) -> int:
    """Process events a crash left stored but unprocessed; returns how many."""
    async with unit_of_work(runtime.sessions) as session:
        keys = await inbound_repo.unprocessed_conversation_keys(session)
    total = 0
    for key in keys:
        total += await process_conversation(runtime, key)
    return total


async def _process_next(runtime: Runtime, key: str) -> bool:
    try:
        async with unit_of_work(runtime.sessions) as session:
            await inbound_repo.lock_conversation(session, key)
            event = await inbound_repo.next_unprocessed_for(session, key)
            if event is None or event.payload is None:
                return False
            event_id = event.id
            inbound = InboundMessage.from_json(event.payload)
            await _advance_conversation(runtime, session, inbound)
            await inbound_repo.mark_processed(session, event_id)
        return True
    except Exception as error:
        # A bug must not lose the message silently nor wedge the conversation: record the
        # failure, apologise to the person, and move on to their next message.
        logger.exception("processing %s failed", key)
        async with unit_of_work(runtime.sessions) as session:
            event = await inbound_repo.next_unprocessed_for(session, key)
            if event is None or event.payload is None:
                return False
            inbound = InboundMessage.from_json(event.payload)
            await inbound_repo.mark_processed(session, event.id, error=repr(error)[:2000])
            guardian = await guardians_repo.find_guardian(session, inbound.channel, inbound.user_id)
            locale = guardian.locale if guardian else inbound.language_code
            await enqueue_prompts(
                session,
                channel=inbound.channel,
                address=inbound.address or inbound.user_id,
                prompts=[text_prompt(translator(locale)("core.unexpected_error"))],
                guardian_id=guardian.id if guardian else None,
                locale=translator(locale).locale,
            )
        return True


def _profile(guardian: Guardian, phases_done: set[str]) -> GuardianProfile:
    colonia = guardian.colonia
    training = guardian.training_date or (colonia.training_date if colonia else None)
    return GuardianProfile(
        id=guardian.id,
        display_name=guardian.display_name,
        locale=guardian.locale,
        role=Role(guardian.role),
        colonia=ColoniaRef(colonia.id, colonia.name) if colonia else None,
        training_date=training,
        quiz_phases_done=frozenset(QuizPhase(p) for p in phases_done),
    )


async def _advance_conversation(
    runtime: Runtime, session: AsyncSession, inbound: InboundMessage
) -> None:
    guardian = await guardians_repo.find_guardian(session, inbound.channel, inbound.user_id)
    stored = await guardians_repo.load_state(session, inbound.channel, inbound.user_id)
    profile = None
    if guardian is not None:
        phases = await guardians_repo.quiz_phases_done(session, guardian.id)
        profile = _profile(guardian, phases)
    context = EngineContext(
        now=utcnow(),
        default_locale=runtime.settings.default_locale,
        privacy_notice_version=runtime.settings.privacy_notice_version,
        gazetteer=runtime.gazetteer,
        guardian=profile,
        timezone=ZoneInfo(runtime.settings.timezone),
    )
    step = advance(stored.state if stored else None, inbound, context, runtime.catalog)
    guardian = await apply_effects(
        session,
        inbound=inbound,
        guardian=guardian,
        effects=step.effects,
        forms=runtime.forms,
        staff_actions=runtime.staff_actions,
        settings=runtime.settings,
    )
    if guardian is not None:
        await guardians_repo.touch_last_inbound(session, guardian.id, inbound.received_at)
        if inbound.address and guardian.address != inbound.address:
            guardian.address = inbound.address
    await guardians_repo.save_state(
        session,
        channel=inbound.channel,
        user_id=inbound.user_id,
        state=step.state,
        guardian_id=guardian.id if guardian else None,
        existing=stored,
    )
    locale = guardian.locale if guardian else _state_locale(step.state, inbound)
    await enqueue_prompts(
        session,
        channel=inbound.channel,
        address=inbound.address or inbound.user_id,
        prompts=step.prompts,
        guardian_id=guardian.id if guardian else None,
        locale=locale,
        source_message_id=inbound.source_message_id,
    )


def _state_locale(state: dict[str, object] | None, inbound: InboundMessage) -> str:
    if state and isinstance(state.get("locale"), str):
        return str(state["locale"])
    return translator(inbound.language_code).locale
