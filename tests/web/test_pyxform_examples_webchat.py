"""pyxform's example forms (tests/fixtures/xlsforms/pyxform) run end to end in the web chat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from guardianes.config import Settings
from tests.web.conftest import app_with_forms
from tests.web.test_public_xlsforms_webchat import fill_in_webchat

PYXFORM_FORMS = Path(__file__).parents[1] / "fixtures" / "xlsforms" / "pyxform"


@pytest.fixture
async def pyxform_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The whole app with pyxform's examples as staff forms (the refused one is left out)."""
    async with app_with_forms(settings, PYXFORM_FORMS) as app:
        yield app


async def test_a_group_with_a_phone_number_and_a_loop_run_in_the_web_chat(
    pyxform_app: FastAPI,
) -> None:
    for name in ("group.csv", "loop.md"):
        assert await fill_in_webchat(pyxform_app, PYXFORM_FORMS / name) > 0, name
