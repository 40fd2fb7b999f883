"""Discrepancies between what guardians found and what the authority reports, and their lifecycle.

A discrepancy is one public space + service + obligation + period where guardians' cards
show a failure and either the municipality or the contractor reported the service `done`
(kind `reported_done`) or no status row covers it (kind `not_reported`, period = the local
calendar month of the card). It is recomputed, never appended to: `_reconcile` derives the
whole set of discrepancies of one space and service over a date range from the cards and
status rows there, then brings the stored rows in line (new ones, new or gone evidence,
ones that no longer hold). So refreshing twice changes nothing, and the three triggers —
a card stored, a status file imported, `guardianes evidence refresh` — share one path.

Every status change goes through `change_status`: it checks the lifecycle, keeps a history
row, and tells the guardians of its evidence in chat (outbox rows in the same transaction);
`resolved` also asks them "¿Ya quedó?".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.config import Settings
from guardianes.conversations import confirmations
from guardianes.conversations.messages import Choice, Prompt, PromptKind, StoredMedia, text_prompt
from guardianes.conversations.obligations import ObligationRule, findings_from_rules
from guardianes.domain.dates import month_of
from guardianes.domain.enums import (
    ConfirmationAnswer,
    DiscrepancyKind,
    DiscrepancyStatus,
    EvidenceStrength,
    GuardianStatus,
    OutboxKind,
    ReportedStatus,
    ReportSource,
    ResponsibleType,
)
from guardianes.domain.timezone import local_day, local_midnight, zone
from guardianes.geo.normalize import normalize_company_name
from guardianes.importers.service import find_contract_id
from guardianes.locales import translator
from guardianes.services.outbox import enqueue_to_guardian
from guardianes.services.photo_hash import perceptual_hash
from guardianes.storage.models import CardDefinition, Guardian, Submission
from guardianes.storage.models_evidence import (
    Discrepancy,
    DiscrepancyEvent,
    DiscrepancyEvidence,
    GuardianConfirmation,
    ServiceStatusReport,
)
from guardianes.storage.repositories import contracts as contracts_repo
from guardianes.storage.repositories import evidence as repo
from guardianes.storage.types import utcnow

logger = logging.getLogger(__name__)

SYSTEM_ACTOR = "system"
GUARDIAN_ACTOR_PREFIX = "guardian:"
# Far enough to cover any card or status period when a whole space is recomputed.
FAR_PAST = date(1970, 1, 1)
FAR_FUTURE = date(2999, 12, 31)
_CONTRACT_NUMBERS_KEY = "evidence.contract_numbers"
_HASH_BATCH = 200
MEDIUM_GUARDIANS = 2  # two witnesses are more than one's word
_MAX_RANGE_GROWTH = 20  # periods chain at most this many times before we stop widening

# Forward moves, skipping steps allowed (a directorate may answer before being notified);
# a closed discrepancy is only ever reopened.
ALLOWED_MOVES: dict[DiscrepancyStatus, frozenset[DiscrepancyStatus]] = {
    DiscrepancyStatus.OPEN: frozenset(
        {
            DiscrepancyStatus.NOTIFIED,
            DiscrepancyStatus.ACKNOWLEDGED,
            DiscrepancyStatus.RESOLVED,
            DiscrepancyStatus.DISMISSED,
        }
    ),
    DiscrepancyStatus.NOTIFIED: frozenset(
        {DiscrepancyStatus.ACKNOWLEDGED, DiscrepancyStatus.RESOLVED, DiscrepancyStatus.DISMISSED}
    ),
    DiscrepancyStatus.ACKNOWLEDGED: frozenset(
        {DiscrepancyStatus.RESOLVED, DiscrepancyStatus.DISMISSED}
    ),
    DiscrepancyStatus.RESOLVED: frozenset({DiscrepancyStatus.OPEN}),
    DiscrepancyStatus.DISMISSED: frozenset({DiscrepancyStatus.OPEN}),
}
ACTIVE_STATUSES: tuple[DiscrepancyStatus, ...] = (
    DiscrepancyStatus.OPEN,
    DiscrepancyStatus.NOTIFIED,
    DiscrepancyStatus.ACKNOWLEDGED,
)


class LifecycleError(ValueError):
    """A status change the lifecycle does not allow."""


class DiscrepancyNotFoundError(LookupError):
    """No discrepancy with that id."""


@dataclass(frozen=True, slots=True)
class EvidencePolicy:
    """The settings that shape discrepancies, read once per unit of work."""

    timezone: ZoneInfo
    deadline: timedelta
    repeat_window: timedelta
    strong_guardians: int
    reuse_distance: int

    @classmethod
    def of(cls, settings: Settings) -> EvidencePolicy:
        """The policy configured by `GUARDIANES_*` settings."""
        return cls(
            timezone=zone(settings.timezone),
            deadline=timedelta(days=settings.discrepancy_deadline_days),
            repeat_window=timedelta(hours=settings.repeat_window_hours),
            strong_guardians=settings.evidence_strong_guardians,
            reuse_distance=settings.photo_reuse_max_distance,
        )

    def strength(self, guardians: int) -> EvidenceStrength:
        """weak = one guardian, medium = more, strong = `strong_guardians` or more."""
        if guardians >= self.strong_guardians:
            return EvidenceStrength.STRONG
        if guardians >= MEDIUM_GUARDIANS:
            return EvidenceStrength.MEDIUM
        return EvidenceStrength.WEAK


@dataclass(slots=True)
class RefreshReport:
    """What one refresh changed."""

    created: int = 0
    updated: int = 0
    removed: int = 0
    dismissed: int = 0
    reopened: int = 0
    evidence_added: int = 0
    reused_photos: int = 0
    hashed_photos: int = 0
    discrepancy_ids: set[int] = field(default_factory=set)

    def add(self, other: RefreshReport) -> None:
        """Fold another report into this one."""
        self.created += other.created
        self.updated += other.updated
        self.removed += other.removed
        self.dismissed += other.dismissed
        self.reopened += other.reopened
        self.evidence_added += other.evidence_added
        self.reused_photos += other.reused_photos
        self.hashed_photos += other.hashed_photos
        self.discrepancy_ids |= other.discrepancy_ids


# ---------------------------------------------------------------- what the cards say


@dataclass(frozen=True, slots=True)
class _Observation:
    """One failed answer of one card."""

    submission_id: int
    guardian_id: int | None  # None: the card of a guardian who erased their data
    question: str
    obligation: str
    answer: Any
    observed_at: datetime
    is_repeat: bool


@dataclass(slots=True)
class _Target:
    """A discrepancy as the cards and status rows say it should be."""

    obligation: str
    period_start: date
    period_end: date
    kind: DiscrepancyKind
    report: ServiceStatusReport | None
    observations: list[_Observation] = field(default_factory=list)


def rules_of(definition: CardDefinition) -> tuple[ObligationRule, ...]:
    """The obligation rules stored with a form version."""
    rules = (ObligationRule.from_json(item) for item in definition.questions or [])
    return tuple(rule for rule in rules if rule is not None)


def _covering_report(
    reports: Sequence[ServiceStatusReport], obligation: str, day: date
) -> tuple[bool, ServiceStatusReport | None]:
    """(covered, the `done` row if the authority claims done) for an obligation on a day."""
    covering = [
        r
        for r in reports
        if r.period_start <= day <= r.period_end and r.obligation in {obligation, ""}
    ]
    if not covering:
        return False, None
    # A row naming the obligation speaks for it over a row for the whole service.
    specific = [r for r in covering if r.obligation == obligation] or covering
    specific.sort(
        key=lambda r: (
            r.period_end - r.period_start,
            r.source != ReportSource.MUNICIPALITY,
            r.id,
        )
    )
    done = [r for r in specific if r.status == ReportedStatus.DONE]
    return True, (done[0] if done else None)


def _targets(
    policy: EvidencePolicy,
    cards: Sequence[tuple[Submission, CardDefinition]],
    reports: Sequence[ServiceStatusReport],
) -> dict[tuple[str, date], _Target]:
    targets: dict[tuple[str, date], _Target] = {}
    # Per discrepancy and guardian, when their last counted card was filled.
    last_counted: dict[tuple[str, date, int | None], datetime] = {}
    for submission, definition in cards:
        day = local_day(submission.completed_at, policy.timezone)
        failed = [
            f
            for f in findings_from_rules(rules_of(definition), submission.answers, today=day)
            if f.failed
        ]
        for finding in failed:
            covered, done = _covering_report(reports, finding.obligation, day)
            if covered and done is None:
                continue  # the authority itself says it was not (fully) done: no contradiction
            if done is not None:
                key_start, key_end = done.period_start, done.period_end
                kind = DiscrepancyKind.REPORTED_DONE
            else:
                key_start, key_end = month_of(day)
                kind = DiscrepancyKind.NOT_REPORTED
            target = targets.setdefault(
                (finding.obligation, key_start),
                _Target(finding.obligation, key_start, key_end, kind, done),
            )
            # A guardian re-reporting the same failure soon after is not a second witness:
            # the card is kept as evidence but marked a repeat and not counted.
            witness = (finding.obligation, key_start, submission.guardian_id)
            # An erased guardian's cards can't be told apart: none of them is a repeat.
            anchor = last_counted.get(witness) if submission.guardian_id is not None else None
            is_repeat = (
                anchor is not None
                and policy.repeat_window > timedelta(0)
                and submission.completed_at - anchor < policy.repeat_window
            )
            if not is_repeat:
                last_counted[witness] = submission.completed_at
            target.observations.append(
                _Observation(
                    submission_id=submission.id,
                    guardian_id=submission.guardian_id,
                    question=finding.question,
                    obligation=finding.obligation,
                    answer=finding.answer,
                    observed_at=submission.completed_at,
                    is_repeat=is_repeat,
                )
            )
    return targets


# ---------------------------------------------------------------- who answers for a space


@dataclass(frozen=True, slots=True)
class _Responsibility:
    contract_id: int | None
    contract_number: str | None
    company_id: int | None
    responsible_name: str | None
    responsible_type: str | None
    directorate_id: int | None
    colonia_id: int | None


async def _responsibility(
    session: AsyncSession, space_id: int, service_code: str
) -> _Responsibility:
    space, layer = await repo.space_context(session, space_id)
    contract_id = company_id = None
    if layer.contract_number:
        # Numbers are matched ignoring punctuation, so the whole list is scanned; it is
        # read once per unit of work (a full refresh visits many spaces).
        numbers = session.info.get(_CONTRACT_NUMBERS_KEY)
        if numbers is None:
            numbers = session.info[_CONTRACT_NUMBERS_KEY] = await repo.contracts_with_number(
                session
            )
        contract_id = find_contract_id(numbers, layer.contract_number)
    if contract_id is not None:
        contract = await contracts_repo.get_contract(session, contract_id)
        company_id = contract.company_id if contract else None
    contractor = layer.responsible_type == ResponsibleType.CONTRACTOR
    if company_id is None and contractor and layer.responsible_name:
        company = await repo.company_by_name(
            session, normalize_company_name(layer.responsible_name)
        )
        company_id = company.id if company else None
    directorate_id = layer.directorate_id
    if directorate_id is None:
        directorate = await repo.directorate_for_service(session, service_code)
        directorate_id = directorate.id if directorate else None
    return _Responsibility(
        contract_id=contract_id,
        contract_number=layer.contract_number,
        company_id=company_id,
        responsible_name=layer.responsible_name,
        responsible_type=layer.responsible_type,
        directorate_id=directorate_id,
        colonia_id=space.colonia_id,
    )


async def responsibility_of(
    session: AsyncSession, space_id: int, service_code: str
) -> _Responsibility:
    """Who answers for a space: its contract and company, or the municipality."""
    return await _responsibility(session, space_id, service_code)


# ---------------------------------------------------------------- refresh


async def refresh_for_submission(
    session: AsyncSession,
    submission_id: int,
    *,
    settings: Settings,
    now: datetime | None = None,
) -> RefreshReport:
    """Recompute what a newly stored card changes: its photos' reuse and its discrepancies."""
    policy = EvidencePolicy.of(settings)
    report = RefreshReport()
    submission = (await repo.submissions_by_ids(session, [submission_id])).get(submission_id)
    if submission is None:
        return report
    report.reused_photos = await flag_reused_photos(session, submission, policy)
    definition = await repo.card_definition_of(session, submission_id)
    if submission.public_space_id is None or definition is None or not definition.service_code:
        return report
    day = local_day(submission.completed_at, policy.timezone)
    report.add(
        await _reconcile(
            session,
            policy,
            space_id=submission.public_space_id,
            service_code=definition.service_code,
            start=day,
            end=day,
            now=now or utcnow(),
        )
    )
    return report


async def refresh_for_status_import(
    session: AsyncSession,
    report_ids: Iterable[int],
    *,
    settings: Settings,
    now: datetime | None = None,
) -> RefreshReport:
    """Recompute the discrepancies of every space, service and period a status file touched."""
    policy = EvidencePolicy.of(settings)
    ranges: dict[tuple[int, str], tuple[date, date]] = {}
    for row in await repo.status_reports_by_ids(session, report_ids):
        key = (row.public_space_id, row.service_code)
        low, high = ranges.get(key, (row.period_start, row.period_end))
        ranges[key] = (min(low, row.period_start), max(high, row.period_end))
    total = RefreshReport()
    moment = now or utcnow()
    for (space_id, service_code), (start, end) in sorted(ranges.items()):
        total.add(
            await _reconcile(
                session,
                policy,
                space_id=space_id,
                service_code=service_code,
                start=start,
                end=end,
                now=moment,
            )
        )
    return total


async def refresh_all(
    session: AsyncSession, *, settings: Settings, now: datetime | None = None
) -> RefreshReport:
    """Recompute every discrepancy from every card and status row (idempotent).

    Photos stored before perceptual hashes existed get theirs first.
    """
    policy = EvidencePolicy.of(settings)
    total = RefreshReport()
    total.hashed_photos = await hash_missing_photos(session, Path(settings.media_dir))
    moment = now or utcnow()
    for space_id, service_code in await repo.space_service_pairs(session):
        total.add(
            await _reconcile(
                session,
                policy,
                space_id=space_id,
                service_code=service_code,
                start=FAR_PAST,
                end=FAR_FUTURE,
                now=moment,
            )
        )
    return total


async def _reconcile(
    session: AsyncSession,
    policy: EvidencePolicy,
    *,
    space_id: int,
    service_code: str,
    start: date,
    end: date,
    now: datetime,
) -> RefreshReport:
    """Bring the stored discrepancies of one space and service over [start, end] in line."""
    result = RefreshReport()
    targets: dict[tuple[str, date], _Target] = {}
    existing: Sequence[Discrepancy] = ()
    for _ in range(_MAX_RANGE_GROWTH):
        reports = await repo.reports_overlapping(
            session, public_space_id=space_id, service_code=service_code, start=start, end=end
        )
        existing = await repo.discrepancies_overlapping(
            session, public_space_id=space_id, service_code=service_code, start=start, end=end
        )
        cards = await repo.cards_of_space(
            session,
            public_space_id=space_id,
            service_code=service_code,
            start=local_midnight(start, policy.timezone),
            end=local_midnight(min(end, FAR_FUTURE - timedelta(days=1)), policy.timezone)
            + timedelta(days=1),
        )
        targets = _targets(policy, cards, reports)
        # A status period, a discrepancy or a card's period reaching outside the range pulls
        # in the cards there too; otherwise part of a discrepancy's evidence would be judged
        # missing.
        starts = [start, *(r.period_start for r in reports), *(d.period_start for d in existing)]
        ends = [end, *(r.period_end for r in reports), *(d.period_end for d in existing)]
        starts += [t.period_start for t in targets.values()]
        ends += [t.period_end for t in targets.values()]
        low, high = max(min(starts), FAR_PAST), min(max(ends), FAR_FUTURE)
        if (low, high) == (start, end):
            break
        start, end = low, high
    else:
        logger.warning(
            "space %s %s: periods kept widening; refreshed what was seen", space_id, service_code
        )
    # Only what lies wholly inside the range is judged: every card of it was read.
    targets = {k: t for k, t in targets.items() if t.period_start >= start and t.period_end <= end}
    by_key = {
        (d.obligation, d.period_start): d
        for d in existing
        if d.period_start >= start and d.period_end <= end
    }
    responsibility = await _responsibility(session, space_id, service_code) if targets else None
    for key, target in sorted(targets.items()):
        discrepancy = by_key.pop(key, None)
        assert responsibility is not None
        await _apply_target(
            session,
            policy,
            space_id=space_id,
            service_code=service_code,
            discrepancy=discrepancy,
            target=target,
            responsibility=responsibility,
            now=now,
            result=result,
        )
    for discrepancy in by_key.values():
        await _retire(session, discrepancy, now, result)
    return result


async def _apply_target(
    session: AsyncSession,
    policy: EvidencePolicy,
    *,
    space_id: int,
    service_code: str,
    discrepancy: Discrepancy | None,
    target: _Target,
    responsibility: _Responsibility,
    now: datetime,
    result: RefreshReport,
) -> None:
    observed = [o.observed_at for o in target.observations]
    created = discrepancy is None
    if discrepancy is None:
        discrepancy = await repo.add(
            session,
            Discrepancy(
                public_space_id=space_id,
                service_code=service_code,
                obligation=target.obligation,
                period_start=target.period_start,
                period_end=target.period_end,
                kind=target.kind,
                status=DiscrepancyStatus.OPEN,
                first_observed_at=min(observed),
                last_observed_at=max(observed),
                due_at=now + policy.deadline,
            ),
        )
        await repo.add(
            session,
            DiscrepancyEvent(
                discrepancy_id=discrepancy.id,
                from_status=None,
                to_status=DiscrepancyStatus.OPEN,
                actor=SYSTEM_ACTOR,
                note=None,
                created_at=now,
            ),
        )
        result.created += 1
    values: dict[str, Any] = {
        "period_end": target.period_end,
        "kind": target.kind.value,
        "status_report_id": target.report.id if target.report else None,
        "reported_status": target.report.status if target.report else None,
        "contract_id": responsibility.contract_id,
        "contract_number": responsibility.contract_number,
        "company_id": responsibility.company_id,
        "responsible_name": responsibility.responsible_name,
        "responsible_type": responsibility.responsible_type,
        "directorate_id": responsibility.directorate_id,
        "colonia_id": responsibility.colonia_id,
        "first_observed_at": min(observed),
        "last_observed_at": max(observed),
    }
    new_counted = await _sync_evidence(session, discrepancy, target.observations, result)
    # Erased guardians' cards stay as anonymous evidence; whoever erased is nobody still
    # registered, so they add at least one witness (never more: they can't be told apart).
    known = {o.guardian_id for o in target.observations if o.guardian_id is not None}
    anonymous = any(o.guardian_id is None for o in target.observations)
    guardians = len(known) + (1 if anonymous else 0)
    counted = {o.submission_id for o in target.observations if not o.is_repeat}
    values["guardian_count"] = guardians
    values["evidence_count"] = len(counted)
    values["strength"] = policy.strength(guardians).value
    changed = False
    for name, value in values.items():
        if getattr(discrepancy, name) != value:
            setattr(discrepancy, name, value)
            changed = True
    if changed and not created:
        result.updated += 1
    await session.flush()
    result.discrepancy_ids.add(discrepancy.id)
    resolved_at = discrepancy.resolved_at
    if (
        discrepancy.status == DiscrepancyStatus.RESOLVED
        and resolved_at is not None
        and any(moment > resolved_at for moment in new_counted)
    ):
        # A fresh card still showing the failure after "resolved": the loop opens again.
        await change_status(
            session,
            discrepancy.id,
            DiscrepancyStatus.OPEN,
            actor=SYSTEM_ACTOR,
            note="new cards show the failure after it was marked resolved",
            now=now,
        )
        result.reopened += 1


async def _sync_evidence(
    session: AsyncSession,
    discrepancy: Discrepancy,
    observations: list[_Observation],
    result: RefreshReport,
) -> list[datetime]:
    """Make the evidence rows match; returns when the newly added counted cards were filled."""
    current = {
        (e.submission_id, e.question): e for e in await repo.evidence_of(session, discrepancy.id)
    }
    added: list[datetime] = []
    for observation in observations:
        key = (observation.submission_id, observation.question)
        row = current.pop(key, None)
        if row is None:
            session.add(
                DiscrepancyEvidence(
                    discrepancy_id=discrepancy.id,
                    submission_id=observation.submission_id,
                    guardian_id=observation.guardian_id,
                    question=observation.question,
                    answer=observation.answer,
                    is_repeat=observation.is_repeat,
                    observed_at=observation.observed_at,
                )
            )
            result.evidence_added += 1
            if not observation.is_repeat:
                added.append(observation.observed_at)
        else:
            if row.is_repeat != observation.is_repeat:
                row.is_repeat = observation.is_repeat
            if row.answer != observation.answer:
                row.answer = observation.answer
    for gone in current.values():
        await session.delete(gone)
    await session.flush()
    return added


async def _retire(
    session: AsyncSession, discrepancy: Discrepancy, now: datetime, result: RefreshReport
) -> None:
    """A stored discrepancy the cards and status rows no longer support."""
    untouched = (
        discrepancy.status == DiscrepancyStatus.OPEN
        and await repo.count_events(session, discrepancy.id) <= 1
        and await repo.count_confirmations(session, discrepancy.id) == 0
    )
    if untouched:
        # Nobody acted on it yet: it was a computed fact that is no longer true.
        await repo.delete(session, discrepancy)
        result.removed += 1
    elif discrepancy.status in ACTIVE_STATUSES:
        await change_status(
            session,
            discrepancy.id,
            DiscrepancyStatus.DISMISSED,
            actor=SYSTEM_ACTOR,
            note="the authority's status report no longer contradicts the cards",
            now=now,
        )
        result.dismissed += 1


# ---------------------------------------------------------------- reused photos


async def flag_reused_photos(
    session: AsyncSession, submission: Submission, policy: EvidencePolicy
) -> int:
    """Link each photo of a card to an earlier near-copy taken for another space or week."""
    hashed = [m for m in submission.media if m.perceptual_hash]
    if not hashed:
        return 0
    # Scan two narrow columns, then read place and time of the few near hashes only.
    hashes = [
        (media_id, int(value, 16))
        for media_id, value in await repo.media_hashes(session, except_submission_id=submission.id)
    ]
    week = _iso_week(submission.completed_at, policy.timezone)
    flagged = 0
    for media in hashed:
        assert media.perceptual_hash is not None
        mine = int(media.perceptual_hash, 16)
        near = [i for i, other in hashes if (mine ^ other).bit_count() <= policy.reuse_distance]
        for other_id, other_space, other_completed in await repo.media_places(session, near):
            if other_completed > submission.completed_at:
                continue
            elsewhere = other_space != submission.public_space_id
            if elsewhere or _iso_week(other_completed, policy.timezone) != week:
                media.reused_media_id = other_id
                flagged += 1
                break
    await session.flush()
    return flagged


async def hash_missing_photos(session: AsyncSession, media_dir: Path) -> int:
    """Give a perceptual hash to stored photos that have none; returns how many got one."""
    hashed = 0
    last_id = 0
    while True:
        batch = await repo.media_without_hash(session, after_id=last_id, limit=_HASH_BATCH)
        if not batch:
            return hashed
        for media in batch:
            last_id = media.id
            path = media_dir / media.path
            try:
                data = await asyncio.to_thread(path.read_bytes)
            except OSError:
                continue  # deleted by retention, or never copied to this machine
            media.perceptual_hash = await asyncio.to_thread(perceptual_hash, data)
            hashed += media.perceptual_hash is not None
        await session.flush()


def _iso_week(moment: datetime, timezone: ZoneInfo) -> tuple[int, int]:
    calendar = local_day(moment, timezone).isocalendar()
    return calendar.year, calendar.week


# ---------------------------------------------------------------- lifecycle


async def change_status(
    session: AsyncSession,
    discrepancy_id: int,
    to_status: DiscrepancyStatus | str,
    *,
    actor: str,
    note: str | None = None,
    now: datetime | None = None,
) -> Discrepancy:
    """Move a discrepancy along its lifecycle, keep the history, tell its guardians."""
    moment = now or utcnow()
    discrepancy = await repo.get_discrepancy(session, discrepancy_id, for_update=True)
    if discrepancy is None:
        raise DiscrepancyNotFoundError(discrepancy_id)
    try:
        target = DiscrepancyStatus(to_status)
    except ValueError:
        raise LifecycleError(f"unknown status {to_status!r}") from None
    current = DiscrepancyStatus(discrepancy.status)
    if target not in ALLOWED_MOVES[current]:
        allowed = ", ".join(sorted(s.value for s in ALLOWED_MOVES[current]))
        raise LifecycleError(
            f"a {current.value} discrepancy can go to {allowed}, not {target.value}"
        )
    discrepancy.status = target
    discrepancy.last_note = note
    if target is DiscrepancyStatus.NOTIFIED:
        discrepancy.notified_at = discrepancy.notified_at or moment
    elif target is DiscrepancyStatus.ACKNOWLEDGED:
        discrepancy.acknowledged_at = moment
    elif target is DiscrepancyStatus.RESOLVED:
        discrepancy.resolved_at = moment
    elif target is DiscrepancyStatus.OPEN:
        # Reopened: the authority gets a fresh deadline as long as the first one.
        allowed_time = (
            discrepancy.due_at - discrepancy.created_at
            if discrepancy.due_at and discrepancy.created_at
            else None
        )
        discrepancy.resolved_at = None
        discrepancy.overdue_at = None
        discrepancy.escalated_at = None
        discrepancy.due_at = moment + allowed_time if allowed_time else discrepancy.due_at
    await repo.add(
        session,
        DiscrepancyEvent(
            discrepancy_id=discrepancy.id,
            from_status=current.value,
            to_status=target.value,
            actor=actor,
            note=note,
            created_at=moment,
        ),
    )
    await _tell_guardians(session, discrepancy, target, actor=actor, note=note, now=moment)
    return discrepancy


async def _tell_guardians(
    session: AsyncSession,
    discrepancy: Discrepancy,
    status: DiscrepancyStatus,
    *,
    actor: str,
    note: str | None,
    now: datetime,
) -> int:
    """Queue the change, in each guardian's language, to the guardians of the evidence."""
    space, _layer = await repo.space_context(session, discrepancy.public_space_id)
    sent = 0
    for guardian in await repo.guardians_of_evidence(session, discrepancy.id):
        if (
            guardian.status != GuardianStatus.ACTIVE
            or actor == f"{GUARDIAN_ACTOR_PREFIX}{guardian.id}"
        ):
            continue
        t = translator(guardian.locale)
        text = t(
            f"evidence.notice.{status.value}",
            place=space.name,
            obligation=t(f"evidence.obligation.{discrepancy.obligation}"),
        )
        # The directorate's own words go to guardians; the system's bookkeeping notes don't.
        if note and actor != SYSTEM_ACTOR:
            text += "\n\n" + t("evidence.notice.note", note=note)
        if status is DiscrepancyStatus.RESOLVED:
            question = await repo.add(
                session,
                GuardianConfirmation(
                    discrepancy_id=discrepancy.id, guardian_id=guardian.id, asked_at=now
                ),
            )
            prompt = Prompt(
                kind=PromptKind.CHOICES,
                text=text + "\n\n" + t("evidence.confirm.question"),
                choices=(
                    Choice(
                        confirmations.payload(question.id, confirmations.YES),
                        t("evidence.confirm.yes"),
                    ),
                    Choice(
                        confirmations.payload(question.id, confirmations.NO),
                        t("evidence.confirm.no"),
                    ),
                ),
            )
        else:
            prompt = text_prompt(text)
        await enqueue_to_guardian(session, guardian, prompt, kind=OutboxKind.EVIDENCE, now=now)
        sent += 1
    return sent


async def _reply(session: AsyncSession, guardian: Guardian, key: str, now: datetime) -> None:
    prompt = text_prompt(translator(guardian.locale)(key))
    await enqueue_to_guardian(session, guardian, prompt, kind=OutboxKind.REPLY, now=now)


async def answer_confirmation(
    session: AsyncSession,
    guardian: Guardian,
    confirmation_id: int,
    answer: str,
    *,
    now: datetime | None = None,
) -> GuardianConfirmation | None:
    """Record a guardian's "¿Ya quedó?" answer; a "no" reopens a resolved discrepancy."""
    moment = now or utcnow()
    question = await repo.confirmation_asked_of(session, confirmation_id, guardian.id)
    if question is None or answer not in {a.value for a in ConfirmationAnswer}:
        await _reply(session, guardian, "evidence.confirm.unknown", moment)
        return None
    if question.answer is not None:
        await _reply(session, guardian, "evidence.confirm.already", moment)
        return question
    question.answer = ConfirmationAnswer(answer)
    question.answered_at = moment
    await session.flush()
    if answer == ConfirmationAnswer.NO:
        discrepancy = await repo.get_discrepancy(session, question.discrepancy_id, for_update=True)
        if discrepancy is not None and discrepancy.status == DiscrepancyStatus.RESOLVED:
            await change_status(
                session,
                discrepancy.id,
                DiscrepancyStatus.OPEN,
                actor=f"{GUARDIAN_ACTOR_PREFIX}{guardian.id}",
                note="a guardian says it is not fixed",
                now=moment,
            )
        await _reply(session, guardian, "evidence.confirm.no_thanks", moment)
    else:
        await _reply(session, guardian, "evidence.confirm.yes_thanks", moment)
    return question


async def attach_confirmation_photo(
    session: AsyncSession,
    guardian: Guardian,
    confirmation_id: int,
    photo: StoredMedia,
    *,
    now: datetime | None = None,
) -> bool:
    """Keep the new photo a guardian sent after answering "no"."""
    moment = now or utcnow()
    question = await repo.confirmation_asked_of(session, confirmation_id, guardian.id)
    if question is None or question.answer != ConfirmationAnswer.NO:
        await _reply(session, guardian, "evidence.confirm.unknown", moment)
        return False
    question.media_path = photo.path
    question.media_sha256 = photo.sha256
    await session.flush()
    await _reply(session, guardian, "evidence.confirm.photo_thanks", moment)
    return True


# ---------------------------------------------------------------- deadlines


async def mark_overdue(session: AsyncSession, *, now: datetime | None = None) -> list[int]:
    """Flag unresolved discrepancies past their deadline; returns the newly flagged ids.

    Escalation by e-mail to the directorate's head reads `overdue_at` (and sets
    `escalated_at` once sent); flagging itself never sends anything.
    """
    moment = now or utcnow()
    flagged = []
    for discrepancy in await repo.overdue_candidates(session, moment):
        discrepancy.overdue_at = moment
        flagged.append(discrepancy.id)
    await session.flush()
    if flagged:
        logger.info("%d discrepancies are past their deadline", len(flagged))
    return flagged
