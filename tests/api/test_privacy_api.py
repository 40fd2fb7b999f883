"""Privacy in the staff API, on SQLite and PostgreSQL: audit of reads, the ARCO log, erasure."""

from __future__ import annotations

import httpx
import pytest

from guardianes.config import Settings
from tests.api.conftest import BASE, Tokens, World, bearer


@pytest.fixture
def api_settings(any_database_settings: Settings) -> Settings:
    """This module's app runs once on each backend."""
    return any_database_settings


async def _audit(client: httpx.AsyncClient, tokens: Tokens) -> list[dict[str, object]]:
    page = (await client.get(f"{BASE}/audit", headers=bearer(tokens.admin))).json()
    items: list[dict[str, object]] = page["items"]
    return items


async def test_reading_a_guardian_writes_an_audit_row_with_token_route_and_subject(
    client: httpx.AsyncClient, tokens: Tokens, world: World
) -> None:
    await client.get(f"{BASE}/guardians/{world.ana}", headers=bearer(tokens.viewer))
    [entry] = await _audit(client, tokens)
    assert entry["token_name"] == "viewer"
    assert (entry["method"], entry["route"]) == ("GET", f"{BASE}/guardians/{world.ana}")
    assert (entry["subject_guardian_ids"], entry["subject_count"]) == ([world.ana], 1)


async def test_lists_submissions_photos_and_quizzes_are_audited_with_their_subjects(
    client: httpx.AsyncClient, tokens: Tokens, world: World
) -> None:
    viewer = bearer(tokens.viewer)
    await client.get(f"{BASE}/guardians", headers=viewer)
    await client.get(f"{BASE}/submissions", headers=viewer)
    await client.get(
        f"{BASE}/submissions/{world.may_submission}/media/{world.photo}", headers=viewer
    )
    await client.get(f"{BASE}/quiz-attempts", headers=viewer)
    entries = list(reversed(await _audit(client, tokens)))
    assert [e["route"] for e in entries] == [
        f"{BASE}/guardians",
        f"{BASE}/submissions",
        f"{BASE}/submissions/{world.may_submission}/media/{world.photo}",
        f"{BASE}/quiz-attempts",
    ]
    assert entries[0]["subject_count"] == 4
    assert entries[1]["subject_guardian_ids"] == sorted([world.ana, world.carla])
    assert entries[2]["subject_guardian_ids"] == [world.ana]
    assert entries[3]["subject_guardian_ids"] == [world.ana]


async def test_reads_without_personal_data_are_not_audited(
    client: httpx.AsyncClient, tokens: Tokens, world: World
) -> None:
    await client.get(f"{BASE}/colonias", headers=bearer(tokens.viewer))
    assert await _audit(client, tokens) == []


async def test_the_audit_log_is_for_admins_only(
    client: httpx.AsyncClient, tokens: Tokens, world: World
) -> None:
    for role in ("viewer", "staff"):
        response = await client.get(f"{BASE}/audit", headers=bearer(tokens.of(role)))
        assert response.status_code == 403


async def test_an_erasure_on_written_request_shows_in_the_arco_log_without_personal_data(
    client: httpx.AsyncClient, tokens: Tokens, world: World
) -> None:
    admin = bearer(tokens.admin)
    erased = await client.post(
        f"{BASE}/guardians/{world.ana}/erase", json={"kind": "cancellation"}, headers=admin
    )
    assert erased.status_code == 200
    assert erased.json()["counts"]["submissions_anonymized"] == 1
    assert (await client.get(f"{BASE}/guardians/{world.ana}", headers=admin)).status_code == 404
    card = (await client.get(f"{BASE}/submissions/{world.may_submission}", headers=admin)).json()
    assert card["guardian_id"] is None
    assert card["media"][0]["deleted_at"] is not None
    photo = await client.get(
        f"{BASE}/submissions/{world.may_submission}/media/{world.photo}", headers=admin
    )
    assert photo.status_code == 410
    log = (await client.get(f"{BASE}/privacy/requests", headers=bearer(tokens.viewer))).json()
    [request] = log["items"]
    assert (request["kind"], request["source"], request["outcome"]) == (
        "cancellation",
        "staff",
        "done",
    )
    assert "Ana" not in str(request)


async def test_a_guardians_consent_history_is_listed_and_audited(
    client: httpx.AsyncClient, tokens: Tokens, world: World
) -> None:
    response = await client.get(
        f"{BASE}/guardians/{world.ana}/consents", headers=bearer(tokens.viewer)
    )
    assert response.status_code == 200
    assert response.json() == []  # the seeded guardians have no consent events
    [entry] = await _audit(client, tokens)
    assert entry["subject_guardian_ids"] == [world.ana]
