"""Answer any XLSForm sensibly, question by question, whatever channel carries the answers.

The driver reads the conversation state (which question is current) and the last prompt
(its buttons) and decides what a careful guardian would send: the first option of a
choice, a number inside a range, a time, a location, a photo, a voice note is skipped.
Channel harnesses (the engine in tests, the web chat over HTTP, the console) turn the
`Action` into their own input. A question asked again after an answer gets the next
candidate, so a constraint such as a regex or a minimum is met when any candidate meets it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from guardianes.conversations.messages import Prompt
from guardianes.conversations.xlsform import Form, Question, QuestionType

ActionKind = Literal["press", "text", "location", "photo", "skip", "done"]
PUBLIC_FORMS_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "xlsforms"
REPEAT_ROUNDS = 2  # answer "add another?" once with yes, to walk a second round
LOCATION = (28.6353, -106.0889)

_TEXT_CANDIDATES: dict[QuestionType, tuple[str, ...]] = {
    QuestionType.TEXT: ("Prueba", "Texto de prueba 1", "abc", "1"),
    QuestionType.INTEGER: ("3", "1", "10", "0", "100"),
    QuestionType.DECIMAL: ("2.5", "1", "10", "0"),
    QuestionType.TIME: ("10:30",),
    QuestionType.DATETIME: ("28/11/2026 10:30",),
}


@dataclass(frozen=True, slots=True)
class Action:
    """What to send next: a button's payload, a text, a location, a photo, a skip or done."""

    kind: ActionKind
    value: str = ""


def public_forms() -> list[Path]:
    """The published forms of ../shared/data/xlsforms, in name order."""
    return sorted(p for p in PUBLIC_FORMS_DIR.iterdir() if p.suffix.lower() in {".xls", ".xlsx"})


def _option(prompt: Prompt | None, index: int = 0) -> Action | None:
    if prompt is None or not prompt.choices:
        return None
    return Action("press", prompt.choices[min(index, len(prompt.choices) - 1)].payload)


def next_action(
    form: Form, form_state: dict[str, Any], prompt: Prompt | None, attempt: int
) -> Action:
    """The answer to the current question; `attempt` counts how often it was asked already."""
    question: Question = form.questions[int(form_state["pos"])]
    kind = question.type
    if form_state.get("sub") == "space":
        return _option(prompt) or Action("text", "1")
    if kind is QuestionType.REPEAT:
        rounds = len(form_state["answers"].get(question.name) or [])
        return _option(prompt, 0 if rounds < REPEAT_ROUNDS else 1) or Action("text", "no")
    if kind is QuestionType.SELECT_MULTIPLE:
        pending = form_state.get("pending") or []
        if pending:
            return Action("done")
        return _option(prompt, attempt) or Action("text", "1")
    if kind in {QuestionType.SELECT_ONE, QuestionType.ACKNOWLEDGE, QuestionType.DATE}:
        return _option(prompt, attempt) or Action("text", "1")
    if kind is QuestionType.GEOPOINT:
        return Action("location")
    if kind is QuestionType.IMAGE:
        return Action("photo") if not form_state.get("pending") else Action("done")
    if kind is QuestionType.AUDIO:
        return Action("skip")
    if kind is QuestionType.RANGE:
        return Action("text", question.parameters.get("start", "0"))
    if kind is QuestionType.RANK:
        return Action("text", " ".join(str(i + 1) for i in range(len(question.choices))))
    candidates = _TEXT_CANDIDATES.get(kind, ("Prueba",))
    if attempt >= len(candidates):
        return Action("skip")
    return Action("text", candidates[attempt])
