"""Importing the authority's service status: all or nothing, Spanish headers, idempotent."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from guardianes.importers.status import parse_status_file
from guardianes.runtime.sample import SAMPLE_DIR
from guardianes.services.evidence_imports import StatusImportError, import_status
from guardianes.storage.db import unit_of_work
from guardianes.storage.models_evidence import Discrepancy, ServiceStatusReport
from tests.chat_driver import ChatDriver
from tests.evidence.conftest import (
    PEWIS_CONTRACT,
    ChihuahuaCity,
    fill_park_card,
    register,
    this_month,
)

HEADER = "space_code,service,period_start,period_end,status,obligation,source,note"


def write(folder: Path, *rows: str, name: str = "estado.csv") -> Path:
    path = folder / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


async def stored_reports(city: ChihuahuaCity) -> int:
    async with city.runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(ServiceStatusReport)) or 0)


async def run_import(city: ChihuahuaCity, path: Path, *, skip_invalid: bool = False):
    async with unit_of_work(city.runtime.sessions) as session:
        return await import_status(
            session, path, settings=city.runtime.settings, skip_invalid=skip_invalid
        )


async def test_a_file_with_bad_rows_imports_nothing_and_lists_every_bad_row(
    city: ChihuahuaCity, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "AC-Z12-0001,green_space_maintenance,2026-11-01,2026-11-30,done,mowing,contractor,",
        "AC-Z99-9999,green_space_maintenance,2026-11-01,2026-11-30,done,mowing,contractor,",
        "AC-Z12-0002,green_space_maintenance,2026-11-01,2026-11-30,maybe,mowing,contractor,",
        "AC-Z12-0003,green_space_maintenance,2026-13-01,2026-11-30,done,podar,contractor,",
    )
    with pytest.raises(StatusImportError) as error:
        await run_import(city, path)
    found = {(p.line, p.column) for p in error.value.problems}
    assert found == {
        (3, "space_code"),
        (4, "status"),
        (5, "period_start"),
        (5, "obligation"),
    }
    assert await stored_reports(city) == 0


async def test_skip_invalid_imports_the_good_rows_and_reports_the_rest(
    city: ChihuahuaCity, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "AC-Z12-0001,green_space_maintenance,2026-11-01,2026-11-30,done,mowing,contractor,",
        "AC-Z99-9999,green_space_maintenance,2026-11-01,2026-11-30,done,mowing,contractor,",
    )
    result = await run_import(city, path, skip_invalid=True)
    assert (result.report.created, result.report.skipped) == (1, 1)
    assert [p.line for p in result.row_problems] == [3]
    assert await stored_reports(city) == 1


async def test_re_importing_the_same_file_changes_nothing(
    city: ChihuahuaCity, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "AC-Z12-0001,green_space_maintenance,2026-11-01,2026-11-30,done,,contractor,",
        "AC-Z12-0002,green_space_maintenance,2026-11-01,2026-11-30,partial,irrigation,municipality,x",
    )
    first = await run_import(city, path)
    second = await run_import(city, path)
    assert (first.report.created, second.report.created) == (2, 0)
    assert (second.report.updated, second.report.unchanged) == (0, 2)
    assert await stored_reports(city) == 2


async def test_a_corrected_row_updates_in_place(city: ChihuahuaCity, tmp_path: Path) -> None:
    row = "AC-Z12-0001,green_space_maintenance,2026-11-01,2026-11-30,{},mowing,contractor,"
    await run_import(city, write(tmp_path, row.format("done")))
    result = await run_import(city, write(tmp_path, row.format("not_done")))
    assert (result.report.created, result.report.updated) == (0, 1)
    assert await stored_reports(city) == 1


def test_spanish_headers_values_and_dates_are_read() -> None:
    parsed = parse_status_file(SAMPLE_DIR / "estado_servicios_muestra.csv")
    assert parsed.problems == ()
    first, *_, month_only, _, day_first = parsed.records
    assert (first.status, first.obligation, first.source) == ("done", "mowing", "contractor")
    assert (month_only.period_start.isoformat(), month_only.period_end.isoformat()) == (
        "2026-11-01",
        "2026-11-30",
    )
    assert day_first.period_start.isoformat() == "2026-12-01"


async def test_an_xlsx_status_file_is_imported(city: ChihuahuaCity, tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Clave", "Servicio", "Inicio", "Fin", "Estado", "Obligación", "Fuente"])
    sheet.append(
        [
            "AC-Z12-0001",
            "green_space_maintenance",
            "2026-11-01",
            "2026-11-30",
            "Realizado",
            "Poda",
            "Contratista",
        ]
    )
    path = tmp_path / "estado.xlsx"
    workbook.save(path)
    result = await run_import(city, path)
    assert result.report.created == 1


async def test_a_done_status_imported_after_the_cards_turns_the_discrepancy_reported_done(
    city: ChihuahuaCity, tmp_path: Path
) -> None:
    park = city.spaces_of(PEWIS_CONTRACT)[5]
    chat = ChatDriver(city.runtime, user_id="iris")
    await register(chat, "Iris")
    await fill_park_card(chat, park, **{"pasto está podado": "No"})
    start, end = this_month()
    path = write(
        tmp_path, f"{park.code},green_space_maintenance,{start},{end},done,mowing,contractor,"
    )

    result = await run_import(city, path)

    async with city.runtime.sessions() as session:
        (found,) = (await session.scalars(select(Discrepancy))).all()
    assert (found.kind, found.reported_status) == ("reported_done", "done")
    assert result.refresh.updated == 1


async def test_a_status_admitting_the_failure_makes_no_discrepancy(
    city: ChihuahuaCity, tmp_path: Path
) -> None:
    park = city.spaces_of(PEWIS_CONTRACT)[6]
    start, end = this_month()
    await run_import(
        city,
        write(tmp_path, f"{park.code},green_space_maintenance,{start},{end},not_done,,contractor,"),
    )
    chat = ChatDriver(city.runtime, user_id="juan")
    await register(chat, "Juan")
    await fill_park_card(chat, park, **{"pasto está podado": "No"})
    async with city.runtime.sessions() as session:
        assert (await session.scalars(select(Discrepancy))).all() == []
