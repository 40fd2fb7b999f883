"""Fixtures of the staff dashboard tests: the API tests' app and tokens, and a logged-in client."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import httpx
import pytest

from tests.api.conftest import (  # noqa: F401  (fixtures shared with the API tests)
    _forms_parsed_once,
    api_app,
    api_runtime,
    api_settings,
    client,
    sample_sqlite,
    shipped_forms,
    tokens,
    world,
)
from tests.api.evidence_support import reported  # noqa: F401

SESSION_COOKIE = "guardianes_staff"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')

Login = Callable[[str], Awaitable[httpx.Response]]


def csrf_of(html: str) -> str:
    """The CSRF value a page's forms carry."""
    found = CSRF_INPUT.search(html)
    assert found, "the page has no form with a CSRF value"
    return found.group(1)


@pytest.fixture
def login(client: httpx.AsyncClient) -> Login:  # noqa: F811
    """Log the client in with a plain token, as the login form does; returns the answer."""

    async def log_in(token: str) -> httpx.Response:
        form = await client.get("/staff/login")
        return await client.post(
            "/staff/login", data={"token": token, "csrf_token": csrf_of(form.text)}
        )

    return log_in


async def page_csrf(http: httpx.AsyncClient, path: str = "/staff") -> str:
    """The CSRF value of the logged-in session, read from a page."""
    answer = await http.get(path)
    assert answer.status_code == 200, answer.text
    return csrf_of(answer.text)
