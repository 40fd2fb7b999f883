"""The comptroller's loop on SQLite and on PostgreSQL: card → discrepancy → resolved → "no"."""

from __future__ import annotations

import httpx
import pytest

from guardianes.config import Settings
from tests.api.conftest import BASE
from tests.api.evidence_support import as_staff, only_discrepancy, reported
from tests.chat_driver import ChatDriver

__all__ = ["as_staff", "reported"]


@pytest.fixture
def api_settings(any_database_settings: Settings) -> Settings:
    """This module's app runs once on each backend."""
    return any_database_settings


async def test_resolved_then_a_guardian_says_no_and_it_is_open_again(
    reported: ChatDriver, as_staff: httpx.AsyncClient
) -> None:
    found = await only_discrepancy(as_staff)
    url = f"{BASE}/discrepancies/{found['id']}"
    await as_staff.patch(url, json={"status": "notified"})
    await as_staff.patch(url, json={"status": "resolved", "note": "Ya se podó."})
    await reported.new_replies()

    await reported.press("No, sigue igual")

    detail = (await as_staff.get(url)).json()
    assert detail["status"] == "open"
    assert [e["to_status"] for e in detail["history"]] == ["open", "notified", "resolved", "open"]
    assert detail["history"][-1]["actor"].startswith("guardian:")
    assert [c["answer"] for c in detail["confirmations"]] == ["no"]


async def test_refreshing_everything_twice_changes_nothing(
    reported: ChatDriver, as_staff: httpx.AsyncClient
) -> None:
    first = (await as_staff.post(f"{BASE}/discrepancies/refresh")).json()
    second = (await as_staff.post(f"{BASE}/discrepancies/refresh")).json()
    assert (
        first
        == second
        == {
            "created": 0,
            "updated": 0,
            "removed": 0,
            "dismissed": 0,
            "reopened": 0,
            "evidence_added": 0,
        }
    )
