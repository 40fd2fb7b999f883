"""Every route of the staff API, with no token, a revoked token and each role."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from tests.api.conftest import BASE, Tokens, bearer

VIEWER, STAFF, ADMIN = "viewer", "staff", "admin"
ROLES = (VIEWER, STAFF, ADMIN)
# An id no row has: authorized requests end in 404 or 422, so the matrix changes nothing.
MISSING_ID = "987654"

# (method, path) → the lowest role allowed. A new route without a line here fails the test.
REQUIRED_ROLE: dict[tuple[str, str], str] = {
    ("GET", "/guardians"): VIEWER,
    ("GET", "/guardians/{guardian_id}"): VIEWER,
    ("POST", "/guardians/{guardian_id}/promote"): STAFF,
    ("POST", "/guardians/{guardian_id}/role"): ADMIN,
    ("POST", "/guardians/{guardian_id}/deactivate"): ADMIN,
    ("GET", "/colonias"): VIEWER,
    ("GET", "/colonias/{colonia_id}"): VIEWER,
    ("PATCH", "/colonias/{colonia_id}"): STAFF,
    ("GET", "/spaces"): VIEWER,
    ("GET", "/spaces/at"): VIEWER,
    ("GET", "/cities"): VIEWER,
    ("GET", "/spaces.geojson"): VIEWER,
    ("GET", "/spaces/{space_id}"): VIEWER,
    ("GET", "/contracts"): VIEWER,
    ("GET", "/contracts/{contract_id}"): VIEWER,
    ("GET", "/companies"): VIEWER,
    ("GET", "/companies/{company_id}"): VIEWER,
    ("GET", "/submissions"): VIEWER,
    ("GET", "/submissions/{submission_id}"): VIEWER,
    ("GET", "/submissions/{submission_id}/media/{media_id}"): VIEWER,
    ("GET", "/quiz-attempts"): VIEWER,
    ("GET", "/visits"): VIEWER,
    ("POST", "/visits"): STAFF,
    ("GET", "/visits/{visit_id}"): VIEWER,
    ("POST", "/visits/{visit_id}/cancel"): STAFF,
    ("GET", "/broadcasts"): VIEWER,
    ("POST", "/broadcasts"): STAFF,
    ("GET", "/broadcasts/{broadcast_id}"): VIEWER,
    ("POST", "/broadcasts/{broadcast_id}/cancel"): STAFF,
    ("GET", "/reminders"): VIEWER,
    ("POST", "/reminders"): STAFF,
    ("GET", "/reminders/{reminder_id}"): VIEWER,
    ("PATCH", "/reminders/{reminder_id}"): STAFF,
    ("DELETE", "/reminders/{reminder_id}"): STAFF,
    ("GET", "/imports"): VIEWER,
    ("POST", "/imports"): STAFF,
    ("GET", "/discrepancies"): VIEWER,
    ("GET", "/discrepancies/{discrepancy_id}"): VIEWER,
    ("PATCH", "/discrepancies/{discrepancy_id}"): STAFF,
    ("POST", "/discrepancies/refresh"): STAFF,
    ("GET", "/status-reports"): VIEWER,
    ("GET", "/directorates"): VIEWER,
    ("GET", "/directorates/{directorate_id}"): VIEWER,
    ("POST", "/directorates"): STAFF,
    ("PATCH", "/directorates/{directorate_id}"): STAFF,
    ("DELETE", "/directorates/{directorate_id}"): ADMIN,
    ("GET", "/reports/resolution"): VIEWER,
    ("GET", "/tokens"): ADMIN,
    ("POST", "/tokens"): ADMIN,
    ("DELETE", "/tokens/{token_id}"): ADMIN,
    ("GET", "/reports/learning-gains"): VIEWER,
    ("GET", "/reports/learning-gains.csv"): VIEWER,
    ("GET", "/reports/reported-to-municipality"): VIEWER,
    ("GET", "/complaint-channels"): VIEWER,
    ("GET", "/privacy/requests"): VIEWER,
    ("GET", "/guardians/{guardian_id}/consents"): VIEWER,
    ("POST", "/guardians/{guardian_id}/erase"): ADMIN,
    ("GET", "/audit"): ADMIN,
    # reports (issue 9b)
    ("GET", "/discrepancies/{discrepancy_id}/report.pdf"): VIEWER,
    ("GET", "/discrepancies/{discrepancy_id}/report.html"): VIEWER,
    ("GET", "/reports/evidence.pdf"): VIEWER,
    ("GET", "/reports/evidence.html"): VIEWER,
    ("POST", "/discrepancies/{discrepancy_id}/notify"): STAFF,
    ("POST", "/evidence-emails"): STAFF,
    ("GET", "/evidence-emails"): VIEWER,
    ("GET", "/evidence-emails/{email_id}"): VIEWER,
    ("POST", "/evidence-emails/{email_id}/retry"): STAFF,
    ("GET", "/colonias/{colonia_id}/briefing"): VIEWER,
    ("GET", "/colonias/{colonia_id}/briefing.pdf"): VIEWER,
    ("GET", "/colonias/{colonia_id}/briefing.html"): VIEWER,
    ("POST", "/colonias/{colonia_id}/briefing/send"): STAFF,
    ("GET", "/reports/complaints-before-after"): VIEWER,
    ("GET", "/contracts/{contract_id}/review"): VIEWER,
    ("GET", "/reports/contract-review"): VIEWER,
    ("GET", "/exports/submissions.csv"): VIEWER,
    ("GET", "/exports/submissions.xlsx"): VIEWER,
    ("GET", "/exports/discrepancies.csv"): VIEWER,
    ("GET", "/exports/spaces.geojson"): VIEWER,
}


def _api_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path below /api/v1) of every route the app serves under the staff API."""
    # FastAPI keeps included routers lazily in `app.routes`; this walks into them.
    return sorted(
        (method, (context.path or "").removeprefix(BASE))
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        and (context.path or "").startswith(BASE + "/")
        for method in context.methods or ()
    )


async def test_every_route_admits_exactly_the_roles_it_should(
    api_app: FastAPI, client: httpx.AsyncClient, tokens: Tokens
) -> None:
    routes = _api_routes(api_app)
    assert set(routes) == set(REQUIRED_ROLE), "update REQUIRED_ROLE with the new or gone routes"
    wrong: list[str] = []
    for method, path in routes:
        url = BASE + re.sub(r"\{[^}]+\}", MISSING_ID, path)
        needed = ROLES.index(REQUIRED_ROLE[(method, path)])
        answers = {
            "no token": await client.request(method, url),
            "revoked": await client.request(method, url, headers=bearer(tokens.revoked)),
        }
        for caller in ("no token", "revoked"):
            if answers[caller].status_code != 401:
                wrong.append(f"{method} {path} {caller}: {answers[caller].status_code}")
        for rank, role in enumerate(ROLES):
            status = (
                await client.request(method, url, headers=bearer(tokens.of(role)))
            ).status_code
            if rank < needed and status != 403:
                wrong.append(f"{method} {path} {role}: {status}, expected 403")
            if rank >= needed and status in (401, 403):
                wrong.append(f"{method} {path} {role}: {status}, expected access")
            if status >= 500:
                wrong.append(f"{method} {path} {role}: server error {status}")
    assert wrong == []


async def test_a_refusal_says_which_role_is_needed(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    response = await client.get(f"{BASE}/tokens", headers=bearer(tokens.staff))
    assert response.status_code == 403
    assert response.json()["detail"] == "needs the admin role"


async def test_a_missing_token_is_answered_with_a_bearer_challenge(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    response = await client.get(f"{BASE}/guardians")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_revoked_token_is_refused_as_invalid(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    response = await client.get(f"{BASE}/guardians", headers=bearer(tokens.revoked))
    assert response.status_code == 401
    assert response.json()["detail"] == "invalid or revoked token"


async def test_a_token_of_another_scheme_is_refused(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    response = await client.get(f"{BASE}/guardians", headers={"Authorization": tokens.admin})
    assert response.status_code == 401
