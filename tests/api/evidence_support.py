"""Fixtures shared by the evidence API test modules: a guardian's card sent through chat."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from guardianes.services.runtime import Runtime
from tests.api.conftest import BASE, Tokens, bearer
from tests.chat_driver import ChatDriver
from tests.evidence.conftest import fill_park_card, register

UNMOWED = {"pasto está podado": "No"}
# Its only status row is about irrigation, so a mowing failure there is "not reported".
DEMO_PARK = "DEMO-AV-0003"


@pytest.fixture
def as_staff(client: httpx.AsyncClient, tokens: Tokens) -> httpx.AsyncClient:
    """The client with the staff token."""
    client.headers.update(bearer(tokens.staff))
    return client


@pytest.fixture
async def reported(api_runtime: Runtime) -> ChatDriver:
    """A guardian who reported the demo park unmowed through the chat."""
    park = next(s for s in api_runtime.gazetteer._spaces if s.code == DEMO_PARK)  # type: ignore[attr-defined]
    chat = ChatDriver(api_runtime, user_id="lucia")
    await register(chat, "Lucía")
    await fill_park_card(chat, park, **UNMOWED)
    await chat.new_replies()
    return chat


async def only_discrepancy(client: httpx.AsyncClient) -> dict[str, Any]:
    page = (await client.get(f"{BASE}/discrepancies")).json()
    assert page["total"] == 1
    return page["items"][0]
