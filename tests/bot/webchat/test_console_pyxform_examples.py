"""pyxform's example forms (tests/fixtures/xlsforms/pyxform) run end to end in the console."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from guardianes.config import Settings
from guardianes.runtime.bootstrap import build_runtime, load_demo_data_once
from guardianes.services.runtime import Runtime
from tests.bot.webchat.test_console_public_xlsforms import fill_in_console
from tests.web.conftest import make_png

PYXFORM_FORMS = Path(__file__).parents[2] / "fixtures" / "xlsforms" / "pyxform"
RUNNABLE = (
    "group.csv",
    "loop.md",
    "specify_other.md",
    "text_and_integer.md",
    "yes_or_no_question.md",
)


@pytest.fixture
async def pyxform_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    runtime = await build_runtime(settings.model_copy(update={"forms_dir": PYXFORM_FORMS}))
    await load_demo_data_once(runtime)
    yield runtime
    await runtime.close()


async def test_every_runnable_pyxform_example_runs_in_the_console(
    pyxform_runtime: Runtime, tmp_path: Path
) -> None:
    photo = tmp_path / "foto.png"
    photo.write_bytes(make_png())
    for name in RUNNABLE:
        assert await fill_in_console(pyxform_runtime, PYXFORM_FORMS / name, photo) > 0, name
