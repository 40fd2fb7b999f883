"""Exports: submissions CSV/XLSX with filters, discrepancies CSV, spaces GeoJSON — and no
personal data of guardians in any of them."""

from __future__ import annotations

import csv
import io
import json

import httpx
from openpyxl import load_workbook

from guardianes.services.runtime import Runtime
from tests.api.conftest import BASE, World
from tests.reports.conftest import seed_discrepancy

GUARDIAN_NAMES = ("Ana", "Beto", "Carla", "Dora")


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


async def test_submissions_csv_lists_every_card_with_its_place_and_answers(
    as_viewer: httpx.AsyncClient, world: World
) -> None:
    response = await as_viewer.get(f"{BASE}/exports/submissions.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = _csv(response.text)
    assert [int(r["submission_id"]) for r in rows] == [world.may_submission, world.june_submission]
    may = rows[0]
    assert may["card"] == "test_parks"
    assert may["colonia"] == "Centro"
    assert may["photos"] == "1"
    assert json.loads(may["answers"]) == {"estado": "bueno"}


async def test_submissions_csv_filters_by_colonia_card_contract_and_dates(
    as_viewer: httpx.AsyncClient, world: World
) -> None:
    async def ids(**params: object) -> list[int]:
        response = await as_viewer.get(f"{BASE}/exports/submissions.csv", params=params)
        assert response.status_code == 200, response.text
        return [int(r["submission_id"]) for r in _csv(response.text)]

    assert await ids(colonia_id=world.santa_rosa) == [world.june_submission]
    assert await ids(card="test_parks") == [world.may_submission]
    assert await ids(contract_id=world.contract) == [world.may_submission]
    assert await ids(completed_from="2024-06-01T00:00:00") == [world.june_submission]
    assert await ids(completed_to="2024-06-01T00:00:00") == [world.may_submission]


async def test_a_reversed_date_range_is_refused(as_viewer: httpx.AsyncClient) -> None:
    response = await as_viewer.get(
        f"{BASE}/exports/submissions.csv",
        params={"completed_from": "2024-06-02T00:00:00", "completed_to": "2024-06-01T00:00:00"},
    )
    assert response.status_code == 422


async def test_submissions_xlsx_has_the_same_rows_as_the_csv(
    as_viewer: httpx.AsyncClient, world: World
) -> None:
    response = await as_viewer.get(f"{BASE}/exports/submissions.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "submission_id"
    assert [r[0] for r in rows[1:]] == [world.may_submission, world.june_submission]


async def test_no_export_carries_a_guardians_name_or_chat_id(
    as_viewer: httpx.AsyncClient, api_runtime: Runtime, world: World
) -> None:
    await seed_discrepancy(api_runtime, world)
    texts = [
        (await as_viewer.get(f"{BASE}/exports/submissions.csv")).text,
        (await as_viewer.get(f"{BASE}/exports/discrepancies.csv")).text,
        (await as_viewer.get(f"{BASE}/exports/spaces.geojson")).text,
    ]
    for text in texts:
        for name in GUARDIAN_NAMES:
            assert f"-{name}" not in text and f'"{name}"' not in text and f",{name}," not in text
        assert "guardian_id" not in text


async def test_a_cell_that_would_run_as_a_formula_is_quoted() -> None:
    from guardianes.services.reports.exports import to_csv

    assert to_csv(["a"], [["=HYPERLINK(1)"]]).splitlines()[1] == "'=HYPERLINK(1)"


async def test_discrepancies_csv_lists_them_with_contract_and_strength(
    as_viewer: httpx.AsyncClient, api_runtime: Runtime, world: World
) -> None:
    seeded = await seed_discrepancy(api_runtime, world)
    rows = _csv((await as_viewer.get(f"{BASE}/exports/discrepancies.csv")).text)
    assert len(rows) == 1
    row = rows[0]
    assert int(row["discrepancy_id"]) == seeded.discrepancy
    assert row["contract_number"] == seeded.contract_number
    assert row["strength"] == "weak"
    assert row["directorate"] == "Dirección de Parques"
    none = await as_viewer.get(f"{BASE}/exports/discrepancies.csv", params={"status": "resolved"})
    assert _csv(none.text) == []


async def test_spaces_geojson_tells_each_spaces_latest_card_status(
    as_viewer: httpx.AsyncClient, api_runtime: Runtime, world: World
) -> None:
    response = await as_viewer.get(f"{BASE}/exports/spaces.geojson")
    assert response.headers["content-type"] == "application/geo+json"
    features = {f["id"]: f["properties"] for f in response.json()["features"]}
    assert features[world.space]["latest_card_status"] == "ok"
    assert features[world.space]["cards"] == 1
    others = [p for i, p in features.items() if i != world.space]
    assert others and all(p["latest_card_status"] == "no_cards" for p in others)
    await seed_discrepancy(api_runtime, world)
    again = await as_viewer.get(f"{BASE}/exports/spaces.geojson")
    space = next(f for f in again.json()["features"] if f["id"] == world.space)["properties"]
    assert space["latest_card_status"] == "failure"
    assert space["unresolved_discrepancies"] == 1
