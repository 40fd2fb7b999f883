"""Queries of the evidence e-mail outbox: add, claim due rows, record the outcome, list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.domain.enums import EmailStatus
from guardianes.storage.models_reports import EvidenceEmail
from guardianes.storage.repositories._dialect import is_postgres
from guardianes.storage.repositories.pagination import PageRows, paginate
from guardianes.storage.types import utcnow


async def add_email(session: AsyncSession, email: EvidenceEmail) -> EvidenceEmail:
    """Store a new queued e-mail."""
    session.add(email)
    await session.flush()
    return email


def _due(moment: datetime) -> object:
    ready = (EvidenceEmail.status == EmailStatus.QUEUED) & (EvidenceEmail.next_attempt_at <= moment)
    expired = (EvidenceEmail.status == EmailStatus.SENDING) & (EvidenceEmail.claimed_until < moment)
    return ready | expired


async def claim_due(
    session: AsyncSession, *, now: datetime, lease: timedelta, limit: int
) -> list[EvidenceEmail]:
    """Claim up to `limit` due e-mails; no two workers get the same row."""
    candidates = (
        select(EvidenceEmail.id)
        .where(_due(now))  # type: ignore[arg-type]
        .order_by(EvidenceEmail.next_attempt_at, EvidenceEmail.id)
        .limit(limit)
    )
    if is_postgres(session):
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list((await session.execute(candidates)).scalars().all())
    if not ids:
        return []
    # The conditional update is the claim on SQLite and a safety net on PostgreSQL.
    result = await session.execute(
        update(EvidenceEmail)
        .where(EvidenceEmail.id.in_(ids), _due(now))  # type: ignore[arg-type]
        .values(
            status=EmailStatus.SENDING,
            claimed_until=now + lease,
            attempts=EvidenceEmail.attempts + 1,
        )
        .returning(EvidenceEmail.id)
        .execution_options(synchronize_session=False)
    )
    claimed = list(result.scalars().all())
    if not claimed:
        return []
    rows = await session.execute(
        select(EvidenceEmail)
        .where(EvidenceEmail.id.in_(claimed))
        .order_by(EvidenceEmail.id)
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars().all())


async def get_email(session: AsyncSession, email_id: int) -> EvidenceEmail | None:
    """One e-mail of the outbox."""
    return await session.get(EvidenceEmail, email_id)


async def list_emails(
    session: AsyncSession,
    *,
    status: str | None,
    kind: str | None,
    discrepancy_id: int | None,
    limit: int,
    offset: int,
) -> PageRows[EvidenceEmail]:
    """E-mails, newest first; `discrepancy_id` keeps those that carry that discrepancy."""
    statement = select(EvidenceEmail).order_by(EvidenceEmail.id.desc())
    if status is not None:
        statement = statement.where(EvidenceEmail.status == status)
    if kind is not None:
        statement = statement.where(EvidenceEmail.kind == kind)
    if discrepancy_id is None:
        return await paginate(session, statement, limit=limit, offset=offset)
    # A JSON list cannot be searched alike on both databases; the outbox is small.
    rows = (await session.execute(statement)).scalars().all()
    matching = [row for row in rows if discrepancy_id in (row.discrepancy_ids or [])]
    return PageRows(items=matching[offset : offset + limit], total=len(matching))


def mark_sent(email: EvidenceEmail, now: datetime | None = None) -> None:
    """Record a successful send."""
    email.status = EmailStatus.SENT
    email.sent_at = now or utcnow()
    email.claimed_until = None
    email.last_error = None


def mark_failed_attempt(
    email: EvidenceEmail, error: str, *, retry_at: datetime | None, now: datetime | None = None
) -> None:
    """Record a failed attempt: due again at `retry_at`, or FAILED for good when None."""
    email.last_error = error[:2000]
    email.claimed_until = None
    if retry_at is None:
        email.status = EmailStatus.FAILED
    else:
        email.status = EmailStatus.QUEUED
        email.next_attempt_at = retry_at


async def requeue(session: AsyncSession, email_ids: Sequence[int], now: datetime) -> int:
    """Put FAILED e-mails back in the queue with fresh attempts (staff asked to retry)."""
    result = await session.execute(
        update(EvidenceEmail)
        .where(EvidenceEmail.id.in_(list(email_ids)), EvidenceEmail.status == EmailStatus.FAILED)
        .values(status=EmailStatus.QUEUED, attempts=0, next_attempt_at=now, last_error=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
