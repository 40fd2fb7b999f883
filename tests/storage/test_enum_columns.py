"""Status and kind columns store their enum's plain value and refuse anything else."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.domain.enums import GuardianRole, GuardianStatus
from guardianes.storage.models import Guardian

NOW = datetime(2026, 11, 28, 18, tzinfo=UTC)


def _guardian(**values: object) -> Guardian:
    return Guardian(
        channel="webchat",
        channel_user_id="ana",
        address="ana",
        display_name="Ana",
        consent_at=NOW,
        privacy_notice_version="t",
        **values,
    )


async def test_a_status_is_stored_as_its_plain_value(session: AsyncSession) -> None:
    session.add(_guardian(status=GuardianStatus.BLOCKED))
    await session.flush()

    stored = (await session.execute(text("SELECT status, role FROM guardians"))).one()

    assert tuple(stored) == ("blocked", "guardian")


async def test_a_stored_status_reads_back_as_its_enum(session: AsyncSession) -> None:
    session.add(_guardian(role="lead"))  # a plain string still works: it is validated
    await session.flush()
    session.expunge_all()

    guardian = (await session.execute(select(Guardian))).scalar_one()

    assert guardian.role is GuardianRole.LEAD
    assert guardian.status is GuardianStatus.ACTIVE


async def test_a_value_outside_the_enum_is_refused(session: AsyncSession) -> None:
    session.add(_guardian(status="asleep"))

    with pytest.raises(StatementError):
        await session.flush()
