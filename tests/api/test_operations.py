"""Staff operations through the API: visits, broadcasts, reminders and file imports."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.api.conftest import BASE, Tokens, World, bearer
from tests.conftest import REPO_ROOT

SAMPLE_DATA = REPO_ROOT / "sample_data"
WEEKLY = {"day_of_week": "mon", "hour": 10}


@pytest.fixture
def as_staff(client: httpx.AsyncClient, tokens: Tokens) -> httpx.AsyncClient:
    """The client with the staff token."""
    client.headers.update(bearer(tokens.staff))
    return client


# ---------------------------------------------------------------- visits


async def test_a_visit_is_announced_to_its_colonia_and_reminded(
    as_staff: httpx.AsyncClient, world: World
) -> None:
    response = await as_staff.post(
        f"{BASE}/visits",
        json={
            "colonia_id": world.centro,
            "place": "Plaza de Armas",
            "starts_at": "2099-03-10T10:00:00",
            "description": "Revisión del parque",
        },
    )
    assert response.status_code == 201
    visit = response.json()
    assert visit["reminder_id"] is not None
    # The day before at 18:00 in Chihuahua (UTC-6).
    assert visit["reminder_at"].startswith("2099-03-10T00:00:00")
    notice = (await as_staff.get(f"{BASE}/broadcasts/{visit['broadcast_id']}")).json()
    assert (notice["colonia_id"], notice["progress"]["total"]) == (world.centro, 2)


async def test_a_visit_to_an_unknown_colonia_is_refused(
    as_staff: httpx.AsyncClient, world: World
) -> None:
    response = await as_staff.post(
        f"{BASE}/visits",
        json={"colonia_id": 987654, "place": "X", "starts_at": "2099-03-10T10:00:00"},
    )
    assert (response.status_code, response.json()["detail"]) == (422, "unknown colonia")


# ---------------------------------------------------------------- broadcasts


async def test_a_broadcast_has_one_delivery_per_matching_active_guardian(
    as_staff: httpx.AsyncClient, world: World
) -> None:
    response = await as_staff.post(
        f"{BASE}/broadcasts", json={"text": "Hola", "channel": "telegram"}
    )
    assert response.status_code == 201
    broadcast = response.json()
    assert (broadcast["channel_filter"], broadcast["progress"]["pending"]) == ("telegram", 2)


async def test_a_broadcast_to_an_unknown_colonia_is_refused(
    as_staff: httpx.AsyncClient, world: World
) -> None:
    response = await as_staff.post(
        f"{BASE}/broadcasts", json={"text": "Hola", "colonia_id": 987654}
    )
    assert (response.status_code, response.json()["detail"]) == (422, "unknown colonia 987654")


async def test_a_broadcast_to_an_unknown_channel_is_refused(
    as_staff: httpx.AsyncClient, world: World
) -> None:
    response = await as_staff.post(f"{BASE}/broadcasts", json={"text": "Hola", "channel": "fax"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "channel"]


async def test_a_cancelled_broadcast_sends_nothing_more(
    as_staff: httpx.AsyncClient, world: World
) -> None:
    created = (await as_staff.post(f"{BASE}/broadcasts", json={"text": "Hola"})).json()
    cancelled = (await as_staff.post(f"{BASE}/broadcasts/{created['id']}/cancel")).json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["progress"]["pending"] == 0


# ---------------------------------------------------------------- reminders


async def test_a_weekly_reminder_gets_its_next_run(
    as_staff: httpx.AsyncClient, world: World
) -> None:
    response = await as_staff.post(
        f"{BASE}/reminders", json={"name": "Lunes", "cron": WEEKLY, "colonia_id": world.centro}
    )
    assert response.status_code == 201
    assert response.json()["next_run_at"] is not None


async def test_a_reminder_with_an_impossible_schedule_is_refused_with_the_reason(
    as_staff: httpx.AsyncClient,
) -> None:
    response = await as_staff.post(
        f"{BASE}/reminders", json={"name": "Nunca", "cron": {"hour": 25}}
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("invalid schedule:")


async def test_a_reminder_with_an_unknown_message_is_refused(as_staff: httpx.AsyncClient) -> None:
    response = await as_staff.post(
        f"{BASE}/reminders", json={"name": "X", "cron": WEEKLY, "message_key": "menu.title"}
    )
    assert response.status_code == 422
    assert "reminders.fill_card" in response.json()["detail"][0]["msg"]


async def test_a_reminder_for_an_unknown_guardian_is_refused(as_staff: httpx.AsyncClient) -> None:
    response = await as_staff.post(
        f"{BASE}/reminders", json={"name": "X", "cron": WEEKLY, "guardian_id": 987654}
    )
    assert (response.status_code, response.json()["detail"]) == (422, "unknown guardian 987654")


async def test_a_reminder_cannot_lose_its_name(as_staff: httpx.AsyncClient) -> None:
    created = (await as_staff.post(f"{BASE}/reminders", json={"name": "X", "cron": WEEKLY})).json()
    response = await as_staff.patch(f"{BASE}/reminders/{created['id']}", json={"name": None})
    assert response.status_code == 422
    assert "name cannot be null" in response.json()["detail"][0]["msg"]


async def test_a_switched_off_reminder_has_no_next_run(as_staff: httpx.AsyncClient) -> None:
    created = (await as_staff.post(f"{BASE}/reminders", json={"name": "X", "cron": WEEKLY})).json()
    response = await as_staff.patch(f"{BASE}/reminders/{created['id']}", json={"active": False})
    assert response.json()["active"] is False


async def test_a_deleted_reminder_is_gone(as_staff: httpx.AsyncClient) -> None:
    created = (await as_staff.post(f"{BASE}/reminders", json={"name": "X", "cron": WEEKLY})).json()
    deleted = await as_staff.delete(f"{BASE}/reminders/{created['id']}")
    again = await as_staff.get(f"{BASE}/reminders/{created['id']}")
    assert (deleted.status_code, again.status_code) == (204, 404)


# ---------------------------------------------------------------- imports


def _upload(path: Path, content_type: str) -> dict[str, tuple[str, bytes, str]]:
    return {"file": (path.name, path.read_bytes(), content_type)}


async def test_a_contracts_csv_upload_is_imported_and_idempotent(
    as_staff: httpx.AsyncClient,
) -> None:
    csv = SAMPLE_DATA / "contratos_muestra.csv"
    first = await as_staff.post(
        f"{BASE}/imports", data={"kind": "contracts"}, files=_upload(csv, "text/csv")
    )
    again = await as_staff.post(
        f"{BASE}/imports", data={"kind": "contracts"}, files=_upload(csv, "text/csv")
    )
    assert first.status_code == 201
    # The sample database holds these contracts already: nothing new, nothing lost.
    assert again.json()["created"] == 0
    assert again.json()["unchanged"] + again.json()["updated"] == 3


async def test_a_kml_upload_becomes_a_layer_of_the_import_history(
    as_staff: httpx.AsyncClient, tmp_path: Path
) -> None:
    kml = tmp_path / "parques_nuevos.kml"
    kml.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark>'
        "<name>Parque Nuevo</name><description>NUEVO-1</description>"
        "<Point><coordinates>-106.0890,28.6355,0</coordinates></Point>"
        "</Placemark></Document></kml>",
        encoding="utf-8",
    )
    response = await as_staff.post(
        f"{BASE}/imports",
        data={"kind": "kml", "service": "green_space_maintenance", "year": "2025"},
        files=_upload(kml, "application/vnd.google-earth.kml+xml"),
    )
    assert (response.status_code, response.json()["created"]) == (201, 1)
    history = (await as_staff.get(f"{BASE}/imports")).json()
    assert history["items"][0]["file_name"] == "parques_nuevos.kml"


async def test_an_import_of_an_unknown_kind_is_refused(as_staff: httpx.AsyncClient) -> None:
    csv = SAMPLE_DATA / "quejas_muestra.csv"
    response = await as_staff.post(
        f"{BASE}/imports", data={"kind": "budgets"}, files=_upload(csv, "text/csv")
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("kind must be one of")


@pytest.mark.parametrize(
    ("kind", "content"),
    [
        ("kml", b"this is not xml"),
        ("colonias", b"<kml><unclosed>"),
        ("contracts", b"\xff\xfe\x00garbage"),
        ("contracts", b""),
        ("complaints", b"a;b\n1;2\n"),
    ],
)
async def test_a_broken_file_is_a_422_with_the_reason(
    as_staff: httpx.AsyncClient, kind: str, content: bytes
) -> None:
    response = await as_staff.post(
        f"{BASE}/imports",
        data={"kind": kind, "service": "garbage_collection"},
        files={"file": ("broken.kml" if kind in ("kml", "colonias") else "broken.csv", content)},
    )
    assert response.status_code == 422
    assert response.json()["detail"]
