"""The published XLSForms run end to end in the console (`guardianes chat`'s machinery).

Lines are typed as a person would at the terminal: option numbers, "lat, lon", a photo's
path; `bench.xlsform_driver` decides each answer from the conversation state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import func, select

from bench.xlsform_driver import LOCATION, PUBLIC_FORMS_DIR, next_action, public_forms
from guardianes.bot.console import ConsoleChannel, numbered_options
from guardianes.config import Settings
from guardianes.conversations.xlsform import load_form
from guardianes.runtime.bootstrap import build_runtime, load_demo_data_once
from guardianes.runtime.console import chat_on_console
from guardianes.services.runtime import Runtime
from guardianes.storage.models import ConversationState, Submission
from tests.web.conftest import make_png

RUNNABLE = [p for p in public_forms() if not p.name.startswith("invalid_")]
MAX_LINES = 400


@pytest.fixture
async def forms_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    runtime = await build_runtime(settings.model_copy(update={"forms_dir": PUBLIC_FORMS_DIR}))
    await load_demo_data_once(runtime)
    yield runtime
    await runtime.close()


async def _cards(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count(Submission.id))) or 0)


async def _form_state(runtime: Runtime, user_id: str) -> dict | None:
    async with runtime.sessions() as session:
        state = await session.scalar(
            select(ConversationState.state).where(
                ConversationState.channel == "console",
                ConversationState.channel_user_id == user_id,
            )
        )
    if not state or state.get("step") != "form":
        return None
    return dict(state["form"])


async def fill_in_console(runtime: Runtime, path: Path, photo: Path) -> int:
    """Chat in the terminal until the card is stored; the lines typed."""
    form = load_form(path)
    user_id = f"console-{path.stem}"
    screen = Console(record=True, width=120)
    script = ["@Español", "@Sí, acepto", "Ana López", "Centro", "@Llenar una tarjeta"]
    script.append("@" + form.localized_title("es"))
    cards_before = await _cards(runtime)
    asked: dict[tuple[int, int], int] = {}
    typed = 0

    def channel() -> ConsoleChannel:
        found = runtime.channels["console"]
        assert isinstance(found, ConsoleChannel)
        return found

    def number_of(payload: str | None = None, label: str | None = None) -> str:
        active = channel().active
        assert active is not None, screen.export_text()[-500:]
        for option in numbered_options(active.prompt):
            if option.choice.payload == payload or option.choice.label == label:
                return str(option.number)
        raise AssertionError((payload, label, active.prompt.text))

    async def read_line(_prompt: str) -> str | None:
        nonlocal typed
        typed += 1
        if typed > MAX_LINES or await _cards(runtime) > cards_before:
            return None
        if script:
            line = script.pop(0)
            return number_of(label=line[1:]) if line.startswith("@") else line
        fs = await _form_state(runtime, user_id)
        assert fs is not None, screen.export_text()[-800:]
        key = (fs["pos"], len(fs["answers"].get(form.questions[fs["pos"]].name) or []))
        attempt = asked.get(key, 0)
        asked[key] = attempt + 1
        active = channel().active
        action = next_action(form, fs, active.prompt if active else None, attempt)
        if action.kind == "press":
            return number_of(payload=action.value)
        if action.kind == "location":
            return f"{LOCATION[0]}, {LOCATION[1]}"
        if action.kind == "photo":
            return str(photo)
        if action.kind == "done":
            return "listo"
        if action.kind == "skip":
            return "/omitir"
        return action.value

    await chat_on_console(runtime, screen, read_line, user_id=user_id, language="es")
    assert await _cards(runtime) == cards_before + 1, screen.export_text()[-800:]
    return typed


async def test_every_published_form_runs_in_the_console(
    forms_runtime: Runtime, tmp_path: Path
) -> None:
    photo = tmp_path / "foto.png"
    photo.write_bytes(make_png())
    for path in RUNNABLE:
        assert await fill_in_console(forms_runtime, path, photo) > 0, path.name
