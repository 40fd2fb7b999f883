"""The one path every inbound message takes: dedupe, lock, engine, state + outbox, commit."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.conversations.context import (
    ColoniaRef,
    ComplaintChannelRef,
    CourseProgress,
    EngineContext,
    GuardianProfile,
    QuizPhase,
    QuizScore,
    Role,
)
from guardianes.conversations.engine import advance
from guardianes.conversations.messages import InboundMessage, text_prompt
from guardianes.locales import translator
from guardianes.observability import metrics
from guardianes.observability.context import set_update, update_id
from guardianes.services import training
from guardianes.services.effects import apply_effects
from guardianes.services.outbox import enqueue_prompts
from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Guardian, GuardianStatus
from guardianes.storage.repositories import guardians as guardians_repo
from guardianes.storage.repositories import inbound as inbound_repo
from guardianes.storage.types import utcnow

logger = logging.getLogger(__name__)
# Staff took these guardians out of the programme: told so, no cards or quizzes.
INACTIVE_STATUSES = frozenset({GuardianStatus.DEACTIVATED, GuardianStatus.BLOCKED})


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
    if event_id is None:
        metrics.count_duplicate_update(inbound.channel)
        return False
    metrics.count_update(inbound.channel, inbound.kind.value)
    return True


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
    # Each event's log lines carry its update id; whoever called us gets theirs back.
    context = update_id.set(None)
    try:
        async with runtime.locks.hold(key):
            while await _process_next(runtime, key):
                processed += 1
    finally:
        update_id.reset(context)
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
            set_update(event.channel, event.external_id)
            inbound = InboundMessage.from_json(event.payload)
            logger.debug("processing a %s message", inbound.kind.value)
            replies = await _advance_conversation(runtime, session, inbound)
            await inbound_repo.mark_processed(session, event_id)
        metrics.count_replies(inbound.channel, replies)
        return True
    except Exception as error:
        # A bug must not lose the message silently nor wedge the conversation: record the
        # failure, apologise to the person, and move on to their next message.
        logger.exception("processing %s failed", key)
        metrics.count_processing_failure(key.partition(":")[0])
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


def _profile(
    guardian: Guardian,
    phases_done: set[str],
    progress: CourseProgress | None = None,
    pre_quiz: QuizScore | None = None,
) -> GuardianProfile:
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
        course_progress=progress,
        pre_quiz=pre_quiz,
        consent_version=guardian.privacy_notice_version,
        active=guardian.status not in INACTIVE_STATUSES,
    )


async def _advance_conversation(
    runtime: Runtime, session: AsyncSession, inbound: InboundMessage
) -> int:
    """Advance one conversation by one message; returns how many replies were queued."""
    guardian = await guardians_repo.find_guardian(session, inbound.channel, inbound.user_id)
    stored = await guardians_repo.load_state(session, inbound.channel, inbound.user_id)
    profile = None
    channels: tuple[ComplaintChannelRef, ...] = ()
    if guardian is not None:
        phases = await guardians_repo.quiz_phases_done(session, guardian.id)
        progress, pre_quiz = await training.training_profile(session, guardian.id, runtime.catalog)
        profile = _profile(guardian, phases, progress, pre_quiz)
        # A handful of rows, read per message so an import shows at once in every process.
        channels = await training.complaint_channel_refs(session)
    context = EngineContext(
        now=utcnow(),
        default_locale=runtime.settings.default_locale,
        privacy_notice_version=runtime.settings.privacy_notice_version,
        gazetteer=runtime.gazetteer,
        guardian=profile,
        timezone=ZoneInfo(runtime.settings.timezone),
        complaint_channels=channels,
    )
    step = advance(stored.state if stored else None, inbound, context, runtime.catalog)
    guardian = await apply_effects(
        session,
        inbound=inbound,
        guardian=guardian,
        effects=step.effects,
        forms=runtime.forms,
        staff_actions=runtime.staff_actions,
        privacy_handler=runtime.privacy,
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
    rows = await enqueue_prompts(
        session,
        channel=inbound.channel,
        address=inbound.address or inbound.user_id,
        prompts=step.prompts,
        guardian_id=guardian.id if guardian else None,
        locale=locale,
        source_message_id=inbound.source_message_id,
    )
    return len(rows)


def _state_locale(state: dict[str, object] | None, inbound: InboundMessage) -> str:
    if state and isinstance(state.get("locale"), str):
        return str(state["locale"])
    return translator(inbound.language_code).locale
