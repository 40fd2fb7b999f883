"""The evidence API: discrepancies with their evidence and lifecycle, directorates, reports."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.api.conftest import BASE, Tokens, bearer
from tests.api.evidence_support import DEMO_PARK, as_staff, only_discrepancy, reported
from tests.chat_driver import ChatDriver

__all__ = ["as_staff", "reported"]  # fixtures shared with the both-databases module


async def test_a_reported_failure_is_listed_with_its_evidence_and_history(
    reported: ChatDriver, as_viewer: httpx.AsyncClient
) -> None:
    listed = await only_discrepancy(as_viewer)
    detail = (await as_viewer.get(f"{BASE}/discrepancies/{listed['id']}")).json()
    assert (detail["kind"], detail["obligation"], detail["status"]) == (
        "not_reported",
        "mowing",
        "open",
    )
    assert detail["space_code"] == DEMO_PARK
    assert detail["directorate_name"] == "Dirección de Mantenimiento Urbano"
    assert detail["responsible_name"] == "Jardines Demo del Centro, S.A. de C.V."
    (item,) = detail["evidence"]
    assert (item["question"], item["answer"], item["is_repeat"]) == ("poda", "no", False)
    assert item["latitude"] is not None
    assert [(e["from_status"], e["to_status"]) for e in detail["history"]] == [(None, "open")]


@pytest.mark.parametrize(
    ("query", "matches"),
    [
        ("status=open", 1),
        ("status=resolved", 0),
        ("strength=weak", 1),
        ("strength=strong", 0),
        ("obligation=mowing", 1),
        ("service=garbage_collection", 0),
        ("kind=not_reported", 1),
        ("from=2000-01-01&to=2000-01-31", 0),
    ],
)
async def test_the_list_filters(
    reported: ChatDriver, as_viewer: httpx.AsyncClient, query: str, matches: int
) -> None:
    page = (await as_viewer.get(f"{BASE}/discrepancies?{query}")).json()
    assert page["total"] == matches


async def test_staff_move_it_and_the_guardian_hears_it_with_the_note(
    reported: ChatDriver, client: httpx.AsyncClient, tokens: Tokens
) -> None:
    client.headers.update(bearer(tokens.staff))
    found = await only_discrepancy(client)
    url = f"{BASE}/discrepancies/{found['id']}"
    moved = await client.patch(url, json={"status": "acknowledged", "note": "Cuadrilla asignada."})
    assert moved.status_code == 200
    assert moved.json()["history"][-1]["actor"] == "staff"
    (notice,) = await reported.new_replies()
    assert "recibió tu reporte" in notice.text and "Cuadrilla asignada." in notice.text


async def test_a_move_the_lifecycle_forbids_is_a_conflict(
    reported: ChatDriver, as_staff: httpx.AsyncClient
) -> None:
    found = await only_discrepancy(as_staff)
    url = f"{BASE}/discrepancies/{found['id']}"
    await as_staff.patch(url, json={"status": "acknowledged"})
    answer = await as_staff.patch(url, json={"status": "notified"})
    assert answer.status_code == 409
    assert "acknowledged" in answer.json()["detail"]


async def test_a_viewer_cannot_change_a_discrepancy(
    reported: ChatDriver, as_viewer: httpx.AsyncClient
) -> None:
    found = await only_discrepancy(as_viewer)
    answer = await as_viewer.patch(
        f"{BASE}/discrepancies/{found['id']}", json={"status": "resolved"}
    )
    assert answer.status_code == 403


async def test_resolution_rates_as_reported_and_as_confirmed_by_guardians(
    reported: ChatDriver, as_staff: httpx.AsyncClient
) -> None:
    found = await only_discrepancy(as_staff)
    await as_staff.patch(f"{BASE}/discrepancies/{found['id']}", json={"status": "resolved"})
    before = (await as_staff.get(f"{BASE}/reports/resolution")).json()
    await reported.new_replies()
    await reported.press("Sí, ya quedó")
    after = (await as_staff.get(f"{BASE}/reports/resolution")).json()

    (directorate,) = before["directorates"]
    assert directorate["name"] == "Dirección de Mantenimiento Urbano"
    assert (directorate["reported_rate"], directorate["confirmed_rate"]) == (1.0, 0.0)
    assert after["directorates"][0]["confirmed_rate"] == 1.0
    assert after["directorates"][0]["median_days_to_resolution"] is not None
    (contract,) = after["contracts"]
    assert contract["name"].startswith("DEMO-01/2024")


async def test_the_chihuahua_directorates_are_in_the_sample_data(
    as_viewer: httpx.AsyncClient,
) -> None:
    page = (await as_viewer.get(f"{BASE}/directorates")).json()
    by_service = {d["service_code"]: d for d in page["items"]}
    assert by_service["green_space_maintenance"]["name"] == "Dirección de Mantenimiento Urbano"
    assert "Aseo Urbano" in by_service["garbage_collection"]["name"]
    assert "Alumbrado Público" in by_service["street_lighting"]["name"]
    assert all(d["notification_email"].endswith("@example.org") for d in page["items"])


async def test_staff_create_and_change_a_directorate_admins_delete_it(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    staff, admin = bearer(tokens.staff), bearer(tokens.admin)
    created = await client.post(
        f"{BASE}/directorates",
        json={"name": "Dirección de Ecología", "head_email": "titular@example.org"},
        headers=staff,
    )
    assert created.status_code == 201
    url = f"{BASE}/directorates/{created.json()['id']}"
    changed = await client.patch(url, json={"phone": "614 000 0000"}, headers=staff)
    assert changed.json()["phone"] == "614 000 0000"
    assert (await client.delete(url, headers=staff)).status_code == 403
    assert (await client.delete(url, headers=admin)).status_code == 204


async def test_a_second_directorate_with_the_same_name_is_a_conflict(
    as_staff: httpx.AsyncClient,
) -> None:
    answer = await as_staff.post(
        f"{BASE}/directorates", json={"name": "Dirección de Mantenimiento Urbano"}
    )
    assert answer.status_code == 409


async def test_a_directorate_email_must_look_like_one(as_staff: httpx.AsyncClient) -> None:
    answer = await as_staff.post(
        f"{BASE}/directorates", json={"name": "X", "notification_email": "Juan Pérez"}
    )
    assert answer.status_code == 422


async def test_a_status_upload_with_bad_rows_lists_them_and_imports_nothing(
    as_staff: httpx.AsyncClient, tmp_path: Path
) -> None:
    path = tmp_path / "estado.csv"
    path.write_text(
        "clave,servicio,inicio,fin,estado\n"
        "DEMO-AV-0001,green_space_maintenance,2026-10-01,2026-10-31,realizado\n"
        "NO-EXISTE,green_space_maintenance,2026-10-01,2026-10-31,realizado\n",
        encoding="utf-8",
    )
    files = {"file": (path.name, path.read_bytes(), "text/csv")}
    refused = await as_staff.post(f"{BASE}/imports", data={"kind": "status"}, files=files)
    assert refused.status_code == 422
    assert refused.json()["detail"]["problems"] == [
        {"line": 3, "column": "space_code", "reason": "no space 'NO-EXISTE'"}
    ]
    partial = await as_staff.post(
        f"{BASE}/imports", data={"kind": "status", "skip_invalid": "true"}, files=files
    )
    assert partial.status_code == 201
    assert (partial.json()["created"], partial.json()["skipped"]) == (1, 1)
