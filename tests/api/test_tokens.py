"""Staff tokens through the API: made by an admin, shown once, listed without value, revoked."""

from __future__ import annotations

import httpx

from tests.api.conftest import BASE, Tokens, bearer


async def test_a_token_made_through_the_api_opens_the_api_at_its_role(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    response = await client.post(
        f"{BASE}/tokens", json={"name": "analyst", "role": "viewer"}, headers=bearer(tokens.admin)
    )
    assert response.status_code == 201
    made = response.json()
    reads = await client.get(f"{BASE}/colonias", headers=bearer(made["token"]))
    writes = await client.post(
        f"{BASE}/broadcasts", json={"text": "Hola"}, headers=bearer(made["token"])
    )
    assert (reads.status_code, writes.status_code) == (200, 403)


async def test_the_token_list_never_shows_token_values(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    response = await client.get(f"{BASE}/tokens", headers=bearer(tokens.admin))
    page = response.json()
    assert page["total"] == 4
    assert all("token" not in item and "token_hash" not in item for item in page["items"])
    assert tokens.admin not in response.text


async def test_a_token_records_when_it_was_last_used(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    page = (await client.get(f"{BASE}/tokens", headers=bearer(tokens.admin))).json()
    admin = next(item for item in page["items"] if item["id"] == tokens.admin_id)
    assert admin["last_used_at"] is not None


async def test_a_token_revoked_through_the_api_is_refused_at_once(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    admin = bearer(tokens.admin)
    made = await client.post(f"{BASE}/tokens", json={"name": "x", "role": "staff"}, headers=admin)
    token = made.json()
    revoked = await client.delete(f"{BASE}/tokens/{token['id']}", headers=admin)
    refused = await client.get(f"{BASE}/colonias", headers=bearer(token["token"]))
    assert (revoked.status_code, refused.status_code) == (204, 401)


async def test_revoking_a_revoked_token_is_a_404(client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await client.delete(
        f"{BASE}/tokens/{tokens.revoked_id}", headers=bearer(tokens.admin)
    )
    assert (response.status_code, response.json()["detail"]) == (404, "active token not found")


async def test_a_token_of_an_unknown_role_is_refused(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    response = await client.post(
        f"{BASE}/tokens", json={"name": "x", "role": "root"}, headers=bearer(tokens.admin)
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "role"]
