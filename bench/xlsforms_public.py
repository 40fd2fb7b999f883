"""Print a table of the published XLSForms in ../shared/data/xlsforms and what each comes to.

    python -m bench.xlsforms_public [FOLDER]

For every form: does pyxform itself accept it, does Guardianes load it (blockers and
warnings), how many questions, and whether the real engine (`conversations.engine.advance`)
runs it from the first to the last question with `bench.xlsform_driver` answering — with
the messages it took, the questions answered and the time.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any

from pyxform.errors import PyXFormError
from pyxform.xls2json import parse_file_to_json

from bench.xlsform_driver import LOCATION, PUBLIC_FORMS_DIR, Action, next_action
from guardianes.conversations.catalog import FormCatalog
from guardianes.conversations.context import (
    ColoniaRef,
    EngineContext,
    GuardianProfile,
    SaveSubmission,
    SpaceMatch,
)
from guardianes.conversations.engine import advance
from guardianes.conversations.messages import (
    Command,
    GeoPoint,
    InboundKind,
    InboundMessage,
    Prompt,
    StoredMedia,
)
from guardianes.conversations.xlsform import Form, FormError, load_form
from guardianes.domain.enums import Role

MAX_MESSAGES = 400
CENTRO = ColoniaRef(id=1, name="Centro")
PHOTO = StoredMedia(sha256="a" * 64, mime_type="image/jpeg", size=10, path="aa/a.jpg")
_ids = count(1)


@dataclass
class _NoSpaces:
    """A city with one colonia and no mapped spaces: locations match nothing."""

    def colonias(self) -> Sequence[ColoniaRef]:
        return (CENTRO,)

    def colonia_at(self, point: GeoPoint) -> ColoniaRef | None:
        return CENTRO

    def space_at(self, point: GeoPoint, *, service: str | None = None) -> SpaceMatch | None:
        return None


def _inbound(action: Action | Command | str) -> InboundMessage:
    base: dict[str, Any] = {"channel": "bench", "user_id": "u1", "external_id": str(next(_ids))}
    if isinstance(action, Command):
        return InboundMessage(kind=InboundKind.COMMAND, command=action, **base)
    if isinstance(action, str):
        return InboundMessage(kind=InboundKind.TEXT, text=action, **base)
    if action.kind == "press":
        return InboundMessage(kind=InboundKind.CHOICE, payload=action.value, **base)
    if action.kind == "location":
        point = GeoPoint(latitude=LOCATION[0], longitude=LOCATION[1])
        return InboundMessage(kind=InboundKind.LOCATION, location=point, **base)
    if action.kind == "photo":
        return InboundMessage(kind=InboundKind.PHOTO, photos=(PHOTO,), **base)
    if action.kind == "skip":
        return InboundMessage(kind=InboundKind.COMMAND, command=Command.SKIP, **base)
    text = "listo" if action.kind == "done" else action.value
    return InboundMessage(kind=InboundKind.TEXT, text=text, **base)


def run_in_engine(form: Form) -> tuple[bool, int, int]:
    """(saved, messages sent, questions answered) filling the form as its only card."""
    ctx = EngineContext(
        now=datetime.now(UTC).replace(tzinfo=None),
        default_locale="es",
        privacy_notice_version="bench",
        gazetteer=_NoSpaces(),
        guardian=GuardianProfile(
            id=1, display_name="Ana", locale="es", role=Role.GUARDIAN, colonia=CENTRO
        ),
    )
    catalog = FormCatalog.of([form])
    state: dict[str, Any] | None = None
    prompts: list[Prompt] = []
    asked: dict[tuple[int, int], int] = {}
    opening: list[Action | Command | str] = [Command.MENU, "1", "1"]
    for sent in range(MAX_MESSAGES):
        if opening:
            inbound = _inbound(opening.pop(0))
        else:
            if state is None or state.get("step") != "form":
                return False, sent, 0
            fs = state["form"]
            key = (fs["pos"], len(fs["answers"].get(form.questions[fs["pos"]].name) or []))
            attempt = asked.get(key, 0)
            asked[key] = attempt + 1
            inbound = _inbound(next_action(form, fs, prompts[-1] if prompts else None, attempt))
        step = advance(state, inbound, ctx, catalog)
        state = None if step.state is None else json.loads(json.dumps(step.state))
        prompts = list(step.prompts)
        saved = [e for e in step.effects if isinstance(e, SaveSubmission)]
        if saved:
            asked_names = {q.name for q in form.questions if q.asks}
            return True, sent + 1, len(asked_names & set(saved[0].answers))
    return False, MAX_MESSAGES, 0


def main(folder: Path) -> None:
    header = f"{'form':<44} {'pyxform':<8} {'guardianes':<26} {'questions':>9} {'engine run':<26}"
    print(header)
    print("-" * len(header))
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in {".xls", ".xlsx"}):
        try:
            parse_file_to_json(str(path), warnings=[])
            pyxform = "accepts"
        except (PyXFormError, ValueError, KeyError):
            pyxform = "refuses"
        try:
            form = load_form(path)
        except FormError as error:
            first = error.problems[0]
            where = f"{first.sheet} row {first.row}" if first.row else str(first.sheet)
            print(f"{path.name:<44} {pyxform:<8} {'refused (' + where + ')':<26} {'':>9} "
                  f"{error.problems[0].reason[:60]}")  # fmt: skip
            continue
        started = time.perf_counter()
        saved, messages, answered = run_in_engine(form)
        elapsed = (time.perf_counter() - started) * 1000
        outcome = (
            f"saved: {messages} msgs, {answered} answered, {elapsed:.0f} ms" if saved else "STUCK"
        )
        loaded = f"runs ({len(form.warnings)} warning(s))"
        asks = sum(q.asks for q in form.questions)
        print(f"{path.name:<44} {pyxform:<8} {loaded:<26} {asks:>9} {outcome}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else PUBLIC_FORMS_DIR)
