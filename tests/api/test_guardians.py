"""Guardians through the staff API: filters, pagination, lead promotion, roles, deactivation."""

from __future__ import annotations

import httpx

from tests.api.conftest import BASE, Tokens, World, bearer


def _names(response: httpx.Response) -> list[str]:
    return [g["display_name"] for g in response.json()["items"]]


async def test_guardians_are_filtered_by_colonia(
    as_viewer: httpx.AsyncClient, world: World
) -> None:
    response = await as_viewer.get(f"{BASE}/guardians", params={"colonia_id": world.centro})
    assert _names(response) == ["Ana", "Beto"]


async def test_guardians_are_filtered_by_role(as_viewer: httpx.AsyncClient, world: World) -> None:
    response = await as_viewer.get(f"{BASE}/guardians", params={"role": "lead"})
    assert _names(response) == ["Beto"]


async def test_guardians_are_filtered_by_channel(
    as_viewer: httpx.AsyncClient, world: World
) -> None:
    response = await as_viewer.get(f"{BASE}/guardians", params={"channel": "telegram"})
    assert _names(response) == ["Beto", "Dora"]


async def test_a_page_of_guardians_carries_the_total_of_every_match(
    as_viewer: httpx.AsyncClient, world: World
) -> None:
    response = await as_viewer.get(f"{BASE}/guardians", params={"limit": 2, "offset": 1})
    page = response.json()
    assert (page["total"], page["limit"], page["offset"]) == (4, 2, 1)
    assert _names(response) == ["Beto", "Carla"]


async def test_an_unknown_role_filter_is_refused_with_the_allowed_values(
    as_viewer: httpx.AsyncClient, world: World
) -> None:
    response = await as_viewer.get(f"{BASE}/guardians", params={"role": "mayor"})
    assert response.status_code == 422
    assert "'guardian', 'lead' or 'staff'" in response.json()["detail"][0]["msg"]


async def test_a_missing_guardian_is_a_404_that_says_what_is_missing(
    as_viewer: httpx.AsyncClient, world: World
) -> None:
    response = await as_viewer.get(f"{BASE}/guardians/987654")
    assert response.status_code == 404
    assert response.json()["detail"] == "guardian not found"


async def test_promoting_a_guardian_makes_the_previous_lead_a_guardian(
    client: httpx.AsyncClient, tokens: Tokens, world: World
) -> None:
    staff = bearer(tokens.staff)
    response = await client.post(f"{BASE}/guardians/{world.ana}/promote", headers=staff)
    assert response.json()["role"] == "lead"
    previous = await client.get(f"{BASE}/guardians/{world.beto}", headers=staff)
    assert previous.json()["role"] == "guardian"


async def test_a_guardian_without_colonia_cannot_be_a_lead(
    client: httpx.AsyncClient, tokens: Tokens, world: World
) -> None:
    response = await client.post(
        f"{BASE}/guardians/{world.dora}/promote", headers=bearer(tokens.staff)
    )
    assert response.status_code == 422
    assert "has none" in response.json()["detail"]


async def test_an_admin_makes_a_guardian_staff(
    client: httpx.AsyncClient, tokens: Tokens, world: World
) -> None:
    response = await client.post(
        f"{BASE}/guardians/{world.carla}/role",
        json={"role": "staff"},
        headers=bearer(tokens.admin),
    )
    assert response.status_code == 200
    assert response.json()["role"] == "staff"


async def test_setting_the_lead_role_keeps_one_lead_per_colonia(
    client: httpx.AsyncClient, tokens: Tokens, world: World
) -> None:
    admin = bearer(tokens.admin)
    await client.post(f"{BASE}/guardians/{world.ana}/role", json={"role": "lead"}, headers=admin)
    leads = await client.get(f"{BASE}/guardians", params={"role": "lead"}, headers=admin)
    assert _names(leads) == ["Ana"]


async def test_an_unknown_role_is_refused(
    client: httpx.AsyncClient, tokens: Tokens, world: World
) -> None:
    response = await client.post(
        f"{BASE}/guardians/{world.ana}/role", json={"role": "admin"}, headers=bearer(tokens.admin)
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "role"]


async def test_a_deactivated_guardian_is_listed_as_deactivated(
    client: httpx.AsyncClient, tokens: Tokens, world: World
) -> None:
    admin = bearer(tokens.admin)
    await client.post(f"{BASE}/guardians/{world.dora}/deactivate", headers=admin)
    response = await client.get(
        f"{BASE}/guardians", params={"status": "deactivated"}, headers=admin
    )
    assert _names(response) == ["Dora"]
