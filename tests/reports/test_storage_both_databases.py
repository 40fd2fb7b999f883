"""The reports area's queries on SQLite and PostgreSQL: e-mail claims and complaint months."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from guardianes.domain.enums import EmailStatus
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Colonia, ComplaintCount, ServiceType
from guardianes.storage.models_reports import EvidenceEmail
from guardianes.storage.repositories import evidence_emails
from guardianes.storage.repositories.reports import complaint_coverage, monthly_complaints

NOW = datetime(2026, 11, 28, 9, tzinfo=UTC)
LEASE = timedelta(minutes=5)


async def test_two_workers_never_claim_the_same_email(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with unit_of_work(session_factory) as session:
        for n in range(6):
            session.add(
                EvidenceEmail(
                    recipient=f"d{n}@municipio.test",
                    subject="s",
                    discrepancy_ids=[n + 1],
                    next_attempt_at=NOW,
                )
            )

    async def claim() -> list[int]:
        async with unit_of_work(session_factory) as session:
            rows = await evidence_emails.claim_due(session, now=NOW, lease=LEASE, limit=4)
            return [row.id for row in rows]

    first, second = await asyncio.gather(claim(), claim())
    # SQLite has no SKIP LOCKED: a loser of the race claims nothing and the next pass the rest.
    rest = await claim() + await claim()
    claims = [*first, *second, *rest]
    assert sorted(claims) == sorted(set(claims)) and len(claims) == 6
    async with unit_of_work(session_factory) as session:
        assert await evidence_emails.claim_due(session, now=NOW, lease=LEASE, limit=10) == []
        expired = await evidence_emails.claim_due(
            session, now=NOW + LEASE + timedelta(seconds=1), lease=LEASE, limit=10
        )
        assert len(expired) == 6
        assert {row.status for row in expired} == {EmailStatus.SENDING}
        assert {row.attempts for row in expired} == {2}


async def test_daily_complaints_fold_into_their_month(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with unit_of_work(session_factory) as session:
        session.add(ServiceType(code="garbage_collection", name_es="Basura", name_en="Garbage"))
        colonia = Colonia(name="Centro", normalized_name="CENTRO")
        session.add(colonia)
        await session.flush()
        for day, count in ((date(2024, 5, 3), 2), (date(2024, 5, 20), 5), (date(2024, 6, 1), 1)):
            session.add(
                ComplaintCount(
                    colonia_id=colonia.id,
                    service_code="garbage_collection",
                    period_start=day,
                    granularity="day",
                    count=count,
                )
            )
    async with unit_of_work(session_factory) as session:
        months = await monthly_complaints(session, colonia_id=colonia.id)
        coverage = await complaint_coverage(session)
    assert [(m.month, m.count) for m in months] == [(date(2024, 5, 1), 7), (date(2024, 6, 1), 1)]
    assert coverage == {"garbage_collection": (date(2024, 5, 1), date(2024, 6, 1))}
