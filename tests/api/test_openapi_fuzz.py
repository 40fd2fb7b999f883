"""The staff API and the public routes fuzzed from their OpenAPI spec: never a 5xx.

Schemathesis generates requests for every operation of `/openapi.json` (valid and invalid
parameters and bodies) and sends them over HTTP to the real app under uvicorn on
127.0.0.1, with an admin token so the routes behind authentication are reached too.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from guardianes.app import create_app
from guardianes.config import Settings
from guardianes.domain.enums import StaffTokenRole
from guardianes.runtime.bootstrap import build_runtime
from guardianes.services import staff_tokens
from guardianes.storage.db import unit_of_work
from tests.conftest import settings_in
from tests.web.conftest import serve

EXAMPLES_PER_OPERATION = 15


async def _admin_token(settings: Settings) -> str:
    runtime = await build_runtime(settings)
    try:
        async with unit_of_work(runtime.sessions) as session:
            _, plain = await staff_tokens.create_token(
                session, name="fuzz", role=StaffTokenRole.ADMIN
            )
    finally:
        await runtime.close()
    return plain


@pytest.fixture(scope="module")
def fuzz_server(
    tmp_path_factory: pytest.TempPathFactory, sample_sqlite: Path
) -> Iterator[tuple[str, str]]:
    """The app with the sample data on a free port; (base URL, admin token)."""
    folder = tmp_path_factory.mktemp("fuzz")
    shutil.copyfile(sample_sqlite, folder / "app.db")
    app_settings = settings_in(
        folder,
        rate_limit_address="100000/minute",
        rate_limit_person="100000/minute",
        rate_limit_chat_sessions="100000/minute",
    )
    token = asyncio.run(_admin_token(app_settings))
    with serve(create_app(app_settings), app_settings) as server:
        yield server.url, token


# The spec the app serves at /openapi.json, built without starting anything.
schema = schemathesis.openapi.from_dict(create_app(Settings(_env_file=None)).openapi())  # type: ignore[call-arg]


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_a_server_error(
    case: schemathesis.Case, fuzz_server: tuple[str, str]
) -> None:
    base_url, token = fuzz_server
    if case.path == "/chat/api/messages" and case.method == "GET" and case.query:
        case.query["wait"] = 0  # a long poll may rightly hold the answer 25 s: not fuzzed
    response = case.call(base_url=base_url, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
    )
