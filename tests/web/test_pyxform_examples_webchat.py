"""pyxform's example forms (tests/fixtures/xlsforms/pyxform) run end to end in the web chat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from guardianes.app import create_app
from guardianes.bot.webchat.channel import WebChatChannel
from guardianes.config import Settings
from guardianes.services.runtime import Runtime
from tests.web.test_public_xlsforms_webchat import fill_in_webchat

PYXFORM_FORMS = Path(__file__).parents[1] / "fixtures" / "xlsforms" / "pyxform"


@pytest.fixture
async def pyxform_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The whole app with pyxform's examples as staff forms (the refused one is left out)."""
    update = {
        "forms_dir": PYXFORM_FORMS,
        "rate_limit_person": "10000/minute",
        "rate_limit_address": "10000/minute",
    }
    app = create_app(settings.model_copy(update=update), demo=True)
    async with app.router.lifespan_context(app):
        runtime: Runtime = app.state.runtime
        if not isinstance(runtime.channels.get("webchat"), WebChatChannel):
            runtime.channels["webchat"] = WebChatChannel()
            runtime.outbox_wakeup.set()
        yield app


async def test_a_group_with_a_phone_number_and_a_loop_run_in_the_web_chat(
    pyxform_app: FastAPI,
) -> None:
    for name in ("group.csv", "loop.md"):
        assert await fill_in_webchat(pyxform_app, PYXFORM_FORMS / name) > 0, name
