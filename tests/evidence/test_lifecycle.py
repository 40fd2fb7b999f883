"""The lifecycle of a discrepancy: deadlines, overdue flags, dismissal when the status changes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from guardianes.scheduler.evidence import flag_overdue_once
from guardianes.services import evidence
from guardianes.services.evidence_imports import import_status
from guardianes.services.evidence_reports import resolution_report
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import OutboxMessage
from guardianes.storage.models_evidence import Discrepancy
from guardianes.storage.types import utcnow
from tests.chat_driver import ChatDriver
from tests.evidence.conftest import (
    PEWIS_CONTRACT,
    ChihuahuaCity,
    fill_park_card,
    register,
    this_month,
)

UNMOWED = {"pasto está podado": "No"}


async def one_discrepancy(city: ChihuahuaCity) -> Discrepancy:
    async with city.runtime.sessions() as session:
        (found,) = (await session.scalars(select(Discrepancy))).all()
    return found


@pytest.fixture
async def reported(city: ChihuahuaCity) -> ChatDriver:
    chat = ChatDriver(city.runtime, user_id="karla")
    await register(chat, "Karla")
    await fill_park_card(chat, city.spaces_of(PEWIS_CONTRACT)[12], **UNMOWED)
    await chat.new_replies()
    return chat


async def test_a_new_discrepancy_is_due_after_the_configured_days(
    city: ChihuahuaCity, reported: ChatDriver
) -> None:
    found = await one_discrepancy(city)
    days = city.runtime.settings.discrepancy_deadline_days
    assert found.due_at is not None
    assert found.due_at - found.created_at == pytest.approx(
        timedelta(days=days), abs=timedelta(seconds=5)
    )


async def test_past_its_deadline_it_is_flagged_overdue_once(
    city: ChihuahuaCity, reported: ChatDriver
) -> None:
    later = utcnow() + timedelta(days=city.runtime.settings.discrepancy_deadline_days + 1)
    first = await flag_overdue_once(city.runtime, now=later)
    second = await flag_overdue_once(city.runtime, now=later)
    found = await one_discrepancy(city)
    assert (first, second) == ([found.id], [])
    async with city.runtime.sessions() as session:
        report = await resolution_report(session, now=later)
    assert [c.overdue for c in report.contracts] == [1]


async def test_a_resolved_discrepancy_is_never_flagged_overdue(
    city: ChihuahuaCity, reported: ChatDriver
) -> None:
    found = await one_discrepancy(city)
    async with unit_of_work(city.runtime.sessions) as session:
        await evidence.change_status(session, found.id, "resolved", actor="staff")
    later = utcnow() + timedelta(days=365)
    assert await flag_overdue_once(city.runtime, now=later) == []


async def test_a_system_notification_tells_the_guardian_without_internal_notes(
    city: ChihuahuaCity, reported: ChatDriver
) -> None:
    found = await one_discrepancy(city)
    async with unit_of_work(city.runtime.sessions) as session:
        await evidence.change_status(
            session, found.id, "notified", actor="system", note="smtp message id 42"
        )
    (notice,) = await reported.new_replies()
    assert "se envió a la dirección responsable" in notice.text
    assert "smtp" not in notice.text
    async with city.runtime.sessions() as session:
        kinds = (await session.scalars(select(OutboxMessage.kind))).all()
    assert "evidence" in kinds


async def test_an_unknown_move_is_refused(city: ChihuahuaCity, reported: ChatDriver) -> None:
    found = await one_discrepancy(city)
    async with unit_of_work(city.runtime.sessions) as session:
        with pytest.raises(evidence.LifecycleError):
            await evidence.change_status(session, found.id, "archived", actor="staff")


async def test_a_notified_discrepancy_the_authority_now_admits_is_dismissed_with_history(
    city: ChihuahuaCity, tmp_path: Path
) -> None:
    park = city.spaces_of(PEWIS_CONTRACT)[13]
    start, end = this_month()
    path = tmp_path / "estado.csv"
    row = f"{park.code},green_space_maintenance,{start},{end},{{}},mowing,contractor,"
    header = "space_code,service,period_start,period_end,status,obligation,source,note\n"
    path.write_text(header + row.format("done") + "\n", encoding="utf-8")
    async with unit_of_work(city.runtime.sessions) as session:
        await import_status(session, path, settings=city.runtime.settings)
    chat = ChatDriver(city.runtime, user_id="leo")
    await register(chat, "Leo")
    await fill_park_card(chat, park, **UNMOWED)
    found = await one_discrepancy(city)
    async with unit_of_work(city.runtime.sessions) as session:
        await evidence.change_status(session, found.id, "notified", actor="system")
    path.write_text(header + row.format("not_done") + "\n", encoding="utf-8")

    async with unit_of_work(city.runtime.sessions) as session:
        result = await import_status(session, path, settings=city.runtime.settings)

    assert result.refresh.dismissed == 1
    assert (await one_discrepancy(city)).status == "dismissed"


async def test_an_untouched_discrepancy_the_authority_now_admits_disappears(
    city: ChihuahuaCity, reported: ChatDriver, tmp_path: Path
) -> None:
    park = city.spaces_of(PEWIS_CONTRACT)[12]
    start, end = this_month()
    path = tmp_path / "estado.csv"
    path.write_text(
        "space_code,service,period_start,period_end,status\n"
        f"{park.code},green_space_maintenance,{start},{end},partial\n",
        encoding="utf-8",
    )
    async with unit_of_work(city.runtime.sessions) as session:
        result = await import_status(session, path, settings=city.runtime.settings)
    assert result.refresh.removed == 1
    async with city.runtime.sessions() as session:
        assert (await session.scalars(select(Discrepancy))).all() == []
