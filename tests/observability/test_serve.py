"""`guardianes serve` as operators run it: a real uvicorn in a subprocess."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from tests.conftest import _migrate
from tests.observability.conftest import serve_process


@pytest.mark.postgres
def test_serve_on_postgresql_starts_and_stops_without_a_traceback(
    new_postgres_url: str, tmp_path: Path
) -> None:
    asyncio.run(_migrate(new_postgres_url))
    with serve_process(tmp_path, {"GUARDIANES_DATABASE_URL": new_postgres_url}) as served:
        ready = httpx.get(f"{served.base_url}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    assert served.process.returncode == 0
    log = served.stderr
    assert "Application startup complete" in log
    assert "Traceback" not in log
    assert "Event loop is closed" not in log


def test_serve_writes_json_lines_when_asked(tmp_path: Path) -> None:
    environment = {
        "GUARDIANES_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
        "GUARDIANES_LOG_FORMAT": "json",
        "GUARDIANES_SCHEDULER_ENABLED": "false",
    }
    with serve_process(tmp_path, environment) as served:
        answer = httpx.get(f"{served.base_url}/healthz", headers={"X-Request-ID": "probe-42"})
    assert answer.headers["X-Request-ID"] == "probe-42"
    entries = [json.loads(line) for line in served.stderr.splitlines() if line.startswith("{")]
    access = [e for e in entries if e["logger"] == "uvicorn.access" and "/healthz" in e["message"]]
    assert access and access[-1]["request_id"] == "probe-42"
