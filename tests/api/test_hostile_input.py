"""Hostile input to the staff API gets a 4xx with a reason, never a 500."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import BASE, Tokens, bearer

HUGE = "9223372036854775808"  # one past BIGINT


@pytest.mark.parametrize(
    "url",
    [
        f"{BASE}/guardians?limit={HUGE}",
        f"{BASE}/guardians?offset={HUGE}",
        f"{BASE}/guardians/{HUGE}",
        f"{BASE}/submissions?colonia_id={HUGE}",
        f"{BASE}/visits?offset=99999999999999999999999999999999",
        f"{BASE}/submissions?completed_from=0001-01-01T00:00:00",
        f"{BASE}/submissions?completed_to=9999-12-31T23:59:59",
        f"{BASE}/submissions?completed_from=9999-12-31T23:59:59%2B14:00",
    ],
)
async def test_out_of_range_numbers_and_dates_in_queries_are_422(
    client: httpx.AsyncClient, tokens: Tokens, url: str
) -> None:
    response = await client.get(url, headers=bearer(tokens.viewer))

    assert response.status_code == 422


@pytest.mark.parametrize("starts_at", ["0001-01-01T00:00:00", "9999-12-31T23:59:59"])
async def test_a_visit_at_year_1_or_9999_is_422(
    client: httpx.AsyncClient, tokens: Tokens, starts_at: str
) -> None:
    response = await client.post(
        f"{BASE}/visits",
        json={"colonia_id": 1, "place": "Parque", "starts_at": starts_at},
        headers=bearer(tokens.staff),
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "starts_at"]


@pytest.mark.parametrize("body", [b"1e999", b'{"text": 1e999}', b'{"text": NaN}', b"-Infinity"])
async def test_json_infinities_are_422_not_500(
    client: httpx.AsyncClient, tokens: Tokens, body: bytes
) -> None:
    response = await client.post(
        f"{BASE}/broadcasts",
        content=body,
        headers={**bearer(tokens.staff), "Content-Type": "application/json"},
    )

    assert response.status_code == 422


async def test_json_nested_100000_deep_is_a_4xx(client: httpx.AsyncClient, tokens: Tokens) -> None:
    body = b"[" * 100_000 + b"]" * 100_000

    response = await client.post(
        f"{BASE}/broadcasts",
        content=body,
        headers={**bearer(tokens.staff), "Content-Type": "application/json"},
    )

    assert 400 <= response.status_code < 500


async def test_a_training_date_at_year_1_is_422(client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await client.patch(
        f"{BASE}/colonias/1", json={"training_date": "0001-01-01"}, headers=bearer(tokens.staff)
    )

    assert response.status_code == 422


async def test_a_visit_recorded_after_the_fact_gets_no_reminder_not_a_500(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    # Found by the OpenAPI fuzzing: cron cannot express a reminder in 1969.
    response = await client.post(
        f"{BASE}/visits",
        json={"colonia_id": 1, "place": "Parque", "starts_at": "1969-12-31T10:00:00"},
        headers=bearer(tokens.staff),
    )

    assert response.status_code == 201
    assert response.json()["reminder_id"] is None
