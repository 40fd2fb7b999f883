"""The one path every inbound message takes: dedupe, lock, engine, state + outbox, commit."""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import datetime, timedelta

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.config import Settings
from guardianes.conversations.context import (
    ColoniaRef,
    ComplaintChannelRef,
    CourseProgress,
    EngineContext,
    GuardianProfile,
    QuizScore,
)
from guardianes.conversations.engine import advance
from guardianes.conversations.messages import InboundMessage, text_prompt
from guardianes.domain.enums import GuardianStatus, QuizPhase, Role
from guardianes.domain.timezone import zone
from guardianes.locales import translator
from guardianes.observability import metrics
from guardianes.observability.context import set_update, update_id
from guardianes.services import training
from guardianes.services.cities import city_view
from guardianes.services.effects import apply_effects
from guardianes.services.outbox import enqueue_prompts
from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Guardian
from guardianes.storage.repositories import guardians as guardians_repo
from guardianes.storage.repositories import inbound as inbound_repo
from guardianes.storage.types import utcnow

logger = logging.getLogger(__name__)
# Staff took these guardians out of the programme: told so, no cards or quizzes.
INACTIVE_STATUSES = frozenset({GuardianStatus.DEACTIVATED, GuardianStatus.BLOCKED})

# PostgreSQL: serialization failure, deadlock, too many connections, cannot connect now.
_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "53300", "57P03"})


def conversation_key(channel: str, user_id: str) -> str:
    """The key under which one person's messages are serialized."""
    return f"{channel}:{user_id}"


async def store_inbound(runtime: Runtime, inbound: InboundMessage) -> bool:
    """Record the event durably; False when the platform delivered it before."""
    inbound = inbound.cleaned()
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
        if event_id is not None:
            # The other updates an album was made of: a late redelivery of one of them is
            # recognised as already received, not processed as a new message.
            for part in inbound.part_ids:
                await inbound_repo.record_notice(
                    session, channel=inbound.channel, external_id=part, kind="album_part"
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
    """Store the message and process it in the background (webhooks answer fast).

    False when it was a duplicate, or when its sender is over the rate limit: then the
    message is dropped and the person is told, at most once a minute, to wait a moment.
    """
    if not await admit(runtime, inbound):
        return False
    if not await store_inbound(runtime, inbound):
        return False
    key = conversation_key(inbound.channel, inbound.user_id)
    runtime.spawn(process_conversation(runtime, key), name=f"inbound {key}")
    return True


async def admit(runtime: Runtime, inbound: InboundMessage) -> bool:
    """True when the person is within their rate limit; else tells them (once) and False."""
    if await runtime.rate_limits.allow_person(inbound.channel, inbound.user_id):
        return True
    logger.warning("rate limit: message %s of %s dropped", inbound.external_id, inbound.user_id)
    if await runtime.rate_limits.should_tell(inbound.channel, inbound.user_id):
        async with unit_of_work(runtime.sessions) as session:
            await _tell(session, inbound, "intake.slow_down")
        runtime.outbox_wakeup.set()
    return False


async def process_conversation(runtime: Runtime, key: str, *, now: datetime | None = None) -> int:
    """Process every due stored event of one conversation, oldest first; returns how many."""
    processed = 0
    # Each event's log lines carry its update id; whoever called us gets theirs back.
    context = update_id.set(None)
    try:
        async with runtime.locks.hold(key):
            more = True
            while more:
                done, more = await _process_next(runtime, key, now)
                processed += done
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


async def sweep_inbound(runtime: Runtime, now: datetime | None = None) -> int:
    """Process events whose retry time came or that nobody processed; returns how many.

    The periodic sweep: it finds events a lost background task, a dead worker or a
    passing failure left behind, while the service keeps running (not only at start).
    """
    now = now or utcnow()
    stuck_before = now - timedelta(seconds=runtime.settings.inbound_stuck_seconds)
    async with unit_of_work(runtime.sessions) as session:
        keys = await inbound_repo.due_conversation_keys(session, now=now, stuck_before=stuck_before)
    total = 0
    for key in keys:
        total += await process_conversation(runtime, key, now=now)
    return total


def is_transient(error: BaseException) -> bool:
    """True for failures that may pass: the database away or busy, a timeout, a network cut."""
    if isinstance(error, TimeoutError | ConnectionError | PoolTimeoutError):
        return True
    if isinstance(error, OperationalError | InterfaceError):
        return True  # lost connection, "database is locked", server shutting down
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        return code in _TRANSIENT_SQLSTATES
    return False


def retry_delay(settings: Settings, attempts: int) -> float:
    """Exponential backoff with jitter: base, 2 x base, 4 x base... up to the cap."""
    delay = settings.inbound_retry_base_seconds * 2.0 ** max(attempts - 1, 0)
    jitter = random.uniform(0.8, 1.0)  # workers hit by one outage do not retry in step
    return float(min(settings.inbound_retry_max_seconds, delay) * jitter)


async def _process_next(
    runtime: Runtime, key: str, now: datetime | None = None
) -> tuple[bool, bool]:
    """Process the conversation's next due event: (one was processed, more may be waiting)."""
    try:
        async with unit_of_work(runtime.sessions) as session:
            await inbound_repo.lock_conversation(session, key)
            # Whether another event waits is looked up with this one: the usual turn then
            # needs no second transaction just to find nothing. An event stored after this
            # look has its own processor, which waits for this conversation's lock.
            event, more = await inbound_repo.next_unprocessed_and_more(session, key)
            if event is None or event.payload is None:
                return False, False
            if event.next_attempt_at is not None and event.next_attempt_at > (now or utcnow()):
                return False, False  # waiting for its retry; later events wait behind it
            event_id = event.id
            set_update(event.channel, event.external_id)
            inbound = InboundMessage.from_json(event.payload)
            logger.debug("processing a %s message", inbound.kind.value)
            replies = await _advance_conversation(runtime, session, inbound)
            await inbound_repo.mark_processed(session, event_id, attempts=event.attempts + 1)
        metrics.count_replies(inbound.channel, replies)
        return True, more
    except Exception as error:
        went_on = await _after_failure(runtime, key, error)
        return went_on, went_on


async def _after_failure(runtime: Runtime, key: str, error: Exception) -> bool:
    """Retry a passing failure later; fail anything else (or too many tries) with a reason.

    True when the conversation may go on with its next event.
    """
    settings = runtime.settings
    transient = is_transient(error)
    reason = f"{type(error).__name__}: {error}"[:2000]
    if transient:
        logger.warning("processing %s failed for a passing reason: %s", key, reason)
    else:
        # A bug must not lose the message silently nor wedge the conversation: record the
        # failure, apologise to the person, and move on to their next message.
        logger.exception("processing %s failed", key)
        metrics.count_processing_failure(key.partition(":")[0])
    try:
        async with unit_of_work(runtime.sessions) as session:
            event = await inbound_repo.next_unprocessed_for(session, key)
            if event is None or event.payload is None:
                return False
            attempts = event.attempts + 1
            if transient and attempts < settings.inbound_max_attempts:
                delay = retry_delay(settings, attempts)
                await inbound_repo.schedule_retry(
                    session,
                    event.id,
                    attempts=attempts,
                    at=utcnow() + timedelta(seconds=delay),
                    error=reason,
                )
                runtime.spawn(_retry_later(runtime, key, delay), name=f"retry {key}", busy=False)
                return False
            if transient:
                reason = f"gave up after {attempts} attempts: {reason}"[:2000]
            inbound = InboundMessage.from_json(event.payload)
            await inbound_repo.mark_processed(session, event.id, error=reason, attempts=attempts)
            await _tell(session, inbound, "core.unexpected_error")
        return True
    except Exception:
        # The database itself is away: the event stays RECEIVED and the sweep retries it.
        logger.exception("recording the failure of %s failed; the sweep will retry it", key)
        return False


async def _retry_later(runtime: Runtime, key: str, delay: float) -> None:
    await asyncio.sleep(delay)
    await process_conversation(runtime, key)


async def _tell(session: AsyncSession, inbound: InboundMessage, message_key: str) -> None:
    """Queue one plain message to the sender of `inbound`, in their language."""
    guardian = await guardians_repo.find_guardian(session, inbound.channel, inbound.user_id)
    locale = guardian.locale if guardian else inbound.language_code
    t = translator(locale)
    await enqueue_prompts(
        session,
        channel=inbound.channel,
        address=inbound.address or inbound.user_id,
        prompts=[text_prompt(t(message_key))],
        guardian_id=guardian.id if guardian else None,
        locale=t.locale,
    )


def _profile(
    guardian: Guardian,
    phases_done: frozenset[QuizPhase],
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
        quiz_phases_done=phases_done,
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
        phases, progress, pre_quiz = await training.training_profile(
            session, guardian.id, runtime.catalog
        )
        profile = _profile(guardian, phases, progress, pre_quiz)
        # A handful of rows, read per message so an import shows at once in every process.
        channels = await training.complaint_channel_refs(session, city_id=guardian.city_id)
    view = await city_view(session, runtime.settings, runtime.gazetteer, guardian)
    context = EngineContext(
        now=utcnow(),
        default_locale=runtime.settings.default_locale,
        privacy_notice_version=runtime.settings.privacy_notice_version,
        gazetteer=view.gazetteer,
        guardian=profile,
        timezone=view.timezone or zone(runtime.settings.timezone),
        complaint_channels=channels,
        city=view.city,
        cities=view.cities,
        city_gazetteers=view.city_gazetteers,
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
    return await enqueue_prompts(
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
