"""Logging in to the dashboard: a token becomes a signed session cookie; CSRF and roles hold."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import select

from guardianes.config import Settings
from guardianes.domain.enums import StaffTokenRole
from guardianes.services import staff_tokens
from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.models_privacy import StaffAuditEntry
from tests.api.conftest import Tokens, World
from tests.staff_dashboard.conftest import SESSION_COOKIE, Login, csrf_of, page_csrf

STRONG_SECRET = "k3V9pQz7Lr2mWb8TyN4sHd6Jx1Fc5Ga0"


def _set_cookie(answer: httpx.Response, name: str) -> str:
    headers = [h for h in answer.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert headers, f"no {name} cookie set"
    return headers[0]


async def test_a_page_without_a_session_sends_the_browser_to_the_login_form(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get("/staff/discrepancias")

    assert answer.status_code == 303
    assert answer.headers["location"] == "/staff/login"


async def test_a_valid_token_becomes_an_httponly_samesite_session_cookie(
    login: Login, tokens: Tokens
) -> None:
    answer = await login(tokens.viewer)

    assert answer.status_code == 303
    assert answer.headers["location"] == "/staff"
    cookie = _set_cookie(answer, SESSION_COOKIE).lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "path=/staff" in cookie
    assert tokens.viewer.lower() not in cookie  # only the token's id, signed


async def test_the_session_opens_the_pages(
    client: httpx.AsyncClient, login: Login, tokens: Tokens
) -> None:
    await login(tokens.viewer)

    answer = await client.get("/staff")

    assert answer.status_code == 200
    assert "viewer" in answer.text


async def test_a_wrong_token_is_refused_without_a_session(
    client: httpx.AsyncClient, login: Login
) -> None:
    answer = await login("gdn_not-a-token")

    assert answer.status_code == 401
    assert SESSION_COOKIE not in answer.cookies
    assert (await client.get("/staff")).status_code == 303


async def test_a_revoked_token_cannot_log_in(login: Login, tokens: Tokens) -> None:
    assert (await login(tokens.revoked)).status_code == 401


async def test_a_login_post_without_its_csrf_cookie_is_refused(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    answer = await client.post("/staff/login", data={"token": tokens.admin, "csrf_token": "x"})

    assert answer.status_code == 403
    assert SESSION_COOKIE not in answer.cookies


async def test_a_tampered_cookie_is_no_session(
    client: httpx.AsyncClient, login: Login, tokens: Tokens
) -> None:
    await login(tokens.viewer)
    value = client.cookies[SESSION_COOKIE]
    client.cookies.set(SESSION_COOKIE, value[:-2] + ("AA" if value[-2:] != "AA" else "BB"))

    assert (await client.get("/staff")).status_code == 303


async def test_revoking_the_token_ends_its_sessions(
    client: httpx.AsyncClient, login: Login, tokens: Tokens, api_runtime: Runtime
) -> None:
    await login(tokens.admin)
    async with unit_of_work(api_runtime.sessions) as session:
        await staff_tokens.revoke_token(session, tokens.admin_id)

    assert (await client.get("/staff")).status_code == 303


async def test_logout_ends_the_session(
    client: httpx.AsyncClient, login: Login, tokens: Tokens
) -> None:
    await login(tokens.viewer)
    csrf = await page_csrf(client)

    answer = await client.post("/staff/logout", data={"csrf_token": csrf})

    assert answer.status_code == 303
    assert f'{SESSION_COOKIE}=""' in _set_cookie(answer, SESSION_COOKIE)
    assert (await client.get("/staff")).status_code == 303


async def test_a_form_without_the_session_csrf_value_is_refused(
    client: httpx.AsyncClient, login: Login, tokens: Tokens, world: World
) -> None:
    await login(tokens.staff)

    answer = await client.post(
        f"/staff/guardianes/{world.ana}/lider", data={"csrf_token": "forged"}
    )

    assert answer.status_code == 403
    assert "formulario" in answer.text


async def test_a_viewer_may_not_act(
    client: httpx.AsyncClient, login: Login, tokens: Tokens, world: World
) -> None:
    await login(tokens.viewer)
    csrf = await page_csrf(client)

    answer = await client.post(f"/staff/guardianes/{world.ana}/lider", data={"csrf_token": csrf})

    assert answer.status_code == 403


async def test_staff_promote_a_lead_but_only_an_admin_deactivates(
    client: httpx.AsyncClient, login: Login, tokens: Tokens, world: World
) -> None:
    await login(tokens.staff)
    csrf = await page_csrf(client)

    promoted = await client.post(f"/staff/guardianes/{world.ana}/lider", data={"csrf_token": csrf})
    refused = await client.post(
        f"/staff/guardianes/{world.ana}/desactivar", data={"csrf_token": csrf}
    )

    assert promoted.status_code == 303
    assert refused.status_code == 403


async def test_an_admin_deactivates_a_guardian(
    client: httpx.AsyncClient, login: Login, tokens: Tokens, world: World
) -> None:
    await login(tokens.admin)
    csrf = await page_csrf(client)

    answer = await client.post(
        f"/staff/guardianes/{world.carla}/desactivar", data={"csrf_token": csrf}
    )
    listing = await client.get("/staff/guardianes")

    assert answer.status_code == 303
    assert "desactivado" in listing.text


async def test_reading_the_guardians_page_is_audited(
    client: httpx.AsyncClient, login: Login, tokens: Tokens, world: World, api_runtime: Runtime
) -> None:
    await login(tokens.viewer)

    await client.get("/staff/guardianes")

    async with unit_of_work(api_runtime.sessions) as session:
        entries = (await session.execute(select(StaffAuditEntry))).scalars().all()
    assert [(e.token_name, e.route) for e in entries] == [("viewer", "/staff/guardianes")]
    assert world.ana in entries[0].subject_guardian_ids


def test_outside_development_a_missing_session_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="STAFF_SESSION_SECRET"):
        Settings(_env_file=None, environment="production")  # type: ignore[call-arg]


def test_outside_development_a_placeholder_session_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="STAFF_SESSION_SECRET"):
        Settings(
            _env_file=None,  # type: ignore[call-arg]
            environment="production",
            staff_session_secret="change-me-change-me-change-me-change-me",
        )


def test_outside_development_a_random_session_secret_is_accepted() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="production",
        staff_session_secret=STRONG_SECRET,
    )

    assert settings.staff_session_secret is not None


async def test_outside_development_the_cookie_is_secure(
    api_settings: Settings, tokens: Tokens, api_app: object
) -> None:
    from guardianes.app import create_app

    production = api_settings.model_copy(
        update={"environment": "production", "staff_session_secret": SecretStr(STRONG_SECRET)}
    )
    app = create_app(production)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://staff.test") as http:
            form = await http.get("/staff/login")
            answer = await http.post(
                "/staff/login", data={"token": tokens.viewer, "csrf_token": csrf_of(form.text)}
            )

    assert "secure" in _set_cookie(answer, SESSION_COOKIE).lower()


async def test_only_an_admin_sees_the_tokens_page(
    client: httpx.AsyncClient, login: Login, tokens: Tokens
) -> None:
    await login(tokens.staff)

    assert (await client.get("/staff/tokens")).status_code == 403


async def test_an_admin_makes_a_token_shown_once_that_logs_in(
    client: httpx.AsyncClient, login: Login, tokens: Tokens
) -> None:
    await login(tokens.admin)
    csrf = await page_csrf(client, "/staff/tokens")

    answer = await client.post(
        "/staff/tokens", data={"csrf_token": csrf, "name": "Auditoría", "role": "viewer"}
    )
    plain = answer.text.split("<code>", 1)[1].split("</code>", 1)[0]
    listing = await client.get("/staff/tokens")

    assert answer.status_code == 200
    assert plain.startswith("gdn_")
    assert plain not in listing.text
    assert (await login(plain)).status_code == 303


async def test_an_admin_revokes_a_token_from_the_dashboard(
    client: httpx.AsyncClient, login: Login, tokens: Tokens, api_runtime: Runtime
) -> None:
    async with unit_of_work(api_runtime.sessions) as session:
        row, plain = await staff_tokens.create_token(
            session, name="temporal", role=StaffTokenRole.STAFF
        )
    await login(tokens.admin)
    csrf = await page_csrf(client, "/staff/tokens")

    answer = await client.post(f"/staff/tokens/{row.id}/revocar", data={"csrf_token": csrf})

    assert answer.status_code == 303
    assert (await login(plain)).status_code == 401
