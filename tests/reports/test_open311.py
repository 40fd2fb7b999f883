"""The public Open311 GeoReport v2 read API: exact field names, filters, errors, no token,
and nothing about guardians."""

from __future__ import annotations

import httpx

from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Submission
from tests.api.conftest import World
from tests.reports.conftest import seed_discrepancy

BASE = "/open311/v2"
SERVICE_FIELDS = {
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
}
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}
WINDOW = {"start_date": "2024-05-01T00:00:00Z", "end_date": "2024-06-30T00:00:00Z"}


async def test_services_are_the_cards_with_georeport_fields_and_no_token(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(f"{BASE}/services.json")
    assert response.status_code == 200
    services = {s["service_code"]: s for s in response.json()}
    assert {"tarjeta_parques", "tarjeta_basura", "tarjeta_alumbrado"} <= set(services)
    parks = services["tarjeta_parques"]
    assert set(parks) == SERVICE_FIELDS
    assert parks["metadata"] is True
    assert parks["type"] == "batch"
    assert "mowing" in parks["keywords"]
    assert parks["group"] == "Mantenimiento de áreas verdes"


async def test_a_service_definition_lists_the_cards_questions_as_attributes(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(f"{BASE}/services/tarjeta_parques.json")
    assert response.status_code == 200
    body = response.json()
    assert body["service_code"] == "tarjeta_parques"
    poda = next(a for a in body["attributes"] if a["code"] == "poda")
    assert poda["datatype"] == "singlevaluelist"
    assert {v["key"] for v in poda["values"]} == {"si", "no"}
    assert [a["order"] for a in body["attributes"]] == list(range(1, len(body["attributes"]) + 1))


async def test_an_unknown_service_is_a_georeport_404(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{BASE}/services/nope.json")
    assert response.status_code == 404
    assert response.json() == [{"code": 404, "description": "service_code nope not found"}]


async def test_discrepancies_are_service_requests_with_the_exact_fields(
    client: httpx.AsyncClient, api_runtime: Runtime, world: World
) -> None:
    seeded = await seed_discrepancy(api_runtime, world)
    response = await client.get(f"{BASE}/requests.json", params=WINDOW)
    assert response.status_code == 200
    [request] = response.json()
    assert set(request) == REQUEST_FIELDS
    assert request["service_request_id"] == str(seeded.discrepancy)
    assert request["status"] == "open"
    assert request["service_code"] == "test_parks"
    assert request["agency_responsible"] == "Dirección de Parques"
    assert request["requested_datetime"] == "2024-05-10T15:00:00Z"
    assert request["media_url"] is None
    assert isinstance(request["lat"], float) and isinstance(request["long"], float)


async def test_requests_filter_by_status_service_code_and_dates(
    client: httpx.AsyncClient, api_runtime: Runtime, world: World
) -> None:
    seeded = await seed_discrepancy(api_runtime, world)

    async def ids(**params: str) -> list[str]:
        response = await client.get(f"{BASE}/requests.json", params={**WINDOW, **params})
        assert response.status_code == 200, response.text
        return [r["service_request_id"] for r in response.json()]

    mine = [str(seeded.discrepancy)]
    assert await ids(status="open") == mine
    assert await ids(status="closed") == []
    assert await ids(status="open,closed") == mine
    assert await ids(service_code="test_parks") == mine
    assert await ids(service_code="tarjeta_basura") == []
    assert await ids(start_date="2024-06-01T00:00:00Z") == []
    assert await ids(service_request_id=str(seeded.discrepancy)) == mine
    # Without dates the default is the last 90 days: May 2024 is long gone.
    assert (await client.get(f"{BASE}/requests.json")).json() == []


async def test_one_request_is_a_list_of_one_and_an_unknown_one_a_404(
    client: httpx.AsyncClient, api_runtime: Runtime, world: World
) -> None:
    seeded = await seed_discrepancy(api_runtime, world)
    found = await client.get(f"{BASE}/requests/{seeded.discrepancy}.json")
    assert found.status_code == 200
    assert [r["service_request_id"] for r in found.json()] == [str(seeded.discrepancy)]
    missing = await client.get(f"{BASE}/requests/987654.json")
    assert missing.status_code == 404
    assert missing.json()[0]["code"] == 404


async def test_bad_filters_are_georeport_400s(client: httpx.AsyncClient) -> None:
    for params in (
        {"status": "pending"},
        {"start_date": "yesterday"},
        {"start_date": "2024-05-01T00:00:00"},
        {"start_date": "2024-06-01T00:00:00Z", "end_date": "2024-05-01T00:00:00Z"},
        {"service_request_id": "12a"},
    ):
        response = await client.get(f"{BASE}/requests.json", params=params)
        assert response.status_code == 400, params
        [error] = response.json()
        assert error["code"] == 400 and error["description"]


async def test_no_public_output_carries_personal_data(
    client: httpx.AsyncClient, api_runtime: Runtime, world: World
) -> None:
    seeded = await seed_discrepancy(api_runtime, world)
    async with unit_of_work(api_runtime.sessions) as session:
        card = await session.get(Submission, world.may_submission)
        assert card is not None
        card.latitude, card.longitude = 28.637771, -106.082229  # where the guardian stood
    bodies = [
        (await client.get(f"{BASE}/requests.json", params=WINDOW)).text,
        (await client.get(f"{BASE}/requests/{seeded.discrepancy}.json")).text,
        (await client.get(f"{BASE}/services.json")).text,
    ]
    for body in bodies:
        for personal in ("Ana", "webchat-Ana", "28.637771", "-106.082229", "/media/"):
            assert personal not in body
