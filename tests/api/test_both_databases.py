"""The key staff API paths on SQLite and on PostgreSQL."""

from __future__ import annotations

import httpx
import pytest

from guardianes.config import Settings
from tests.api.conftest import BASE, Tokens, World, bearer
from tests.conftest import REPO_ROOT


@pytest.fixture
def api_settings(any_database_settings: Settings) -> Settings:
    """This module's app runs once on each backend."""
    return any_database_settings


async def test_guardians_are_filtered_and_paginated(
    as_viewer: httpx.AsyncClient, world: World
) -> None:
    page = (
        await as_viewer.get(
            f"{BASE}/guardians", params={"colonia_id": world.centro, "limit": 1, "offset": 1}
        )
    ).json()
    assert (page["total"], [g["display_name"] for g in page["items"]]) == (2, ["Beto"])


async def test_submissions_are_filtered_by_date_range_and_card(
    as_viewer: httpx.AsyncClient, world: World
) -> None:
    page = (
        await as_viewer.get(
            f"{BASE}/submissions",
            params={
                "completed_from": "2024-05-01T00:00:00",
                "completed_to": "2024-06-01T00:00:00",
                "card": "test_parks",
            },
        )
    ).json()
    assert [s["id"] for s in page["items"]] == [world.may_submission]


async def test_a_photo_needs_a_token_and_is_served_with_one(
    client: httpx.AsyncClient, tokens: Tokens, world: World
) -> None:
    url = f"{BASE}/submissions/{world.may_submission}/media/{world.photo}"
    anonymous = await client.get(url)
    viewer = await client.get(url, headers=bearer(tokens.viewer))
    assert (anonymous.status_code, viewer.content) == (401, world.photo_bytes)


async def test_an_admin_makes_a_guardian_staff(
    client: httpx.AsyncClient, tokens: Tokens, world: World
) -> None:
    admin = bearer(tokens.admin)
    await client.post(f"{BASE}/guardians/{world.ana}/role", json={"role": "staff"}, headers=admin)
    staff = await client.get(f"{BASE}/guardians", params={"role": "staff"}, headers=admin)
    assert [g["id"] for g in staff.json()["items"]] == [world.ana]


async def test_a_broadcast_to_an_unknown_colonia_is_a_422_not_a_foreign_key_error(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    response = await client.post(
        f"{BASE}/broadcasts",
        json={"text": "Hola", "colonia_id": 987654},
        headers=bearer(tokens.staff),
    )
    assert response.status_code == 422


async def test_a_revoked_token_is_refused(client: httpx.AsyncClient, tokens: Tokens) -> None:
    admin = bearer(tokens.admin)
    made = (
        await client.post(f"{BASE}/tokens", json={"name": "x", "role": "viewer"}, headers=admin)
    ).json()
    await client.delete(f"{BASE}/tokens/{made['id']}", headers=admin)
    response = await client.get(f"{BASE}/colonias", headers=bearer(made["token"]))
    assert response.status_code == 401


async def test_a_complaints_csv_is_imported(client: httpx.AsyncClient, tokens: Tokens) -> None:
    csv = REPO_ROOT / "sample_data" / "quejas_muestra.csv"
    response = await client.post(
        f"{BASE}/imports",
        data={"kind": "complaints"},
        files={"file": (csv.name, csv.read_bytes(), "text/csv")},
        headers=bearer(tokens.staff),
    )
    assert response.status_code == 201
    assert response.json()["problems"] == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/broadcasts", {"text": "Ho\u0000la"}),
        ("POST", "/reminders", {"name": "a\u0000", "cron": {"hour": 9}}),
        ("GET", "/submissions?card=a%00b", None),
        ("GET", "/guardians?channel=a%00b", None),
    ],
)
async def test_a_nul_character_is_a_4xx(
    client: httpx.AsyncClient, tokens: Tokens, method: str, path: str, body: object
) -> None:
    response = await client.request(method, BASE + path, json=body, headers=bearer(tokens.admin))
    assert 400 <= response.status_code < 500
