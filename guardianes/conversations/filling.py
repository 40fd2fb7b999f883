"""Filling a form in chat: asking each relevant question, checking answers, finishing.

The form's part of the state is a `FormProgress` (see `state`).
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from guardianes.conversations import form_space
from guardianes.conversations.catalog import FormCatalog
from guardianes.conversations.context import QuizPhase, SpacePlace
from guardianes.conversations.expressions import evaluate, evaluate_bool, to_number
from guardianes.conversations.form_asking import again, ask_question, initial_pending
from guardianes.conversations.form_collect import COLLECTORS, Waiting
from guardianes.conversations.form_finish import finish
from guardianes.conversations.form_logic import (
    environment,
    expression_value,
    is_relevant,
    jsonable,
    substitute,
    visible_choices,
)
from guardianes.conversations.form_reading import (
    Invalid,
    is_no,
    is_yes,
    metadata_value,
    read_answer,
    typed_default,
)
from guardianes.conversations.messages import InboundKind
from guardianes.conversations.state import (
    ConversationState,
    FlowStep,
    FormProgress,
    PresetSpace,
)
from guardianes.conversations.turn import Stale, Turn
from guardianes.conversations.xlsform import Form, Question, QuestionType

MAX_REPEAT_ROUNDS = 50  # a chat is no place for more; ODK forms rarely need as many


class Step(FlowStep):
    """Filling a card or quiz (its routes are in `flows.cards`)."""

    FORM = "form"


# ---- the form session ----


def _today(turn: Turn) -> date:
    return turn.ctx.now.date()


def form_state(turn: Turn) -> FormProgress:
    """The form part of the state (present while filling)."""
    value = turn.state.form
    assert value is not None
    return value


def current_form(turn: Turn) -> Form | None:
    """The form being filled, if the catalog still has that exact version."""
    return _form_of(turn.state.form, turn.catalog)


def _form_of(fs: FormProgress | None, catalog: FormCatalog) -> Form | None:
    if fs is None:
        return None
    form = catalog.get(fs.id)
    return form if form is not None and form.version == fs.version else None


def expects_photo(state: dict[str, Any] | None, catalog: FormCatalog) -> bool:
    """True when the conversation's current question asks for photos.

    Channels ask this before downloading anything a person sends: a photo sent at any
    other step is never fetched nor stored, and the person is told (see the engine).
    """
    loaded = ConversationState.from_json(state)
    if loaded.step is not Step.FORM:
        # After a "no" to "¿Ya quedó?" outside a card, the guardian may send one new photo.
        return loaded.confirmation_photo is not None
    return _current_type(loaded, catalog) is QuestionType.IMAGE


def expects_audio(state: dict[str, Any] | None, catalog: FormCatalog) -> bool:
    """True when the conversation's current question is answered with a voice note."""
    loaded = ConversationState.from_json(state)
    return loaded.step is Step.FORM and _current_type(loaded, catalog) is QuestionType.AUDIO


def _current_type(state: ConversationState, catalog: FormCatalog) -> QuestionType | None:
    """The type of the question on screen (None while a space is being confirmed)."""
    fs = state.form
    form = _form_of(fs, catalog)
    if fs is None or form is None or fs.sub == "space" or not 0 <= fs.pos < len(form.questions):
        return None
    return form.questions[fs.pos].type


def start_form(
    turn: Turn, form: Form, phase: QuizPhase | None = None, *, place: SpacePlace | None = None
) -> bool:
    """Begin a form: introduce it and ask the first relevant question. True if it finished.

    With `place` (a space chosen on the map) its location question is answered with it.
    """
    turn.goto(Step.FORM)
    turn.state.form = FormProgress(
        id=form.form_id,
        version=form.version,
        started_at=turn.ctx.now.isoformat(),
        phase=phase.value if phase else None,
    )
    if place is not None:
        turn.state.form.preset_space = PresetSpace(
            id=place.space_id,
            name=place.name,
            code=place.code,
            latitude=place.point.latitude,
            longitude=place.point.longitude,
        )
    turn.say(turn.t("form.start", title=form.localized_title(turn.locale)))
    return _forward(turn, form, 0)


def _forward(turn: Turn, form: Form, start: int) -> bool:
    """Walk to the next question that needs an answer; finish when none is left."""
    fs = form_state(turn)
    answers: dict[str, Any] = fs.answers
    today = _today(turn)
    for pos in range(start, len(form.questions)):
        question = form.questions[pos]
        if not is_relevant(form, question, answers, today):
            answers.pop(question.name, None)  # ODK semantics: hidden questions keep no value
            continue
        if question.type is QuestionType.CALCULATE:
            assert question.calculation is not None
            env = environment(form, answers, today)
            answers[question.name] = jsonable(evaluate(question.calculation, env))
            continue
        if question.type is QuestionType.METADATA:
            answers[question.name] = metadata_value(turn, question)
            continue
        if form_space.answer_with_preset(form, question, fs):
            continue
        if question.type is QuestionType.REPEAT:
            stopped = _repeat_again(turn, form, question, pos)
            if stopped is not None:
                return stopped
            continue
        if question.type is QuestionType.NOTE:
            turn.say(
                substitute(form, form.text(question.labels, turn.locale), answers, turn.locale)
            )
            continue
        selects = {QuestionType.SELECT_ONE, QuestionType.SELECT_MULTIPLE, QuestionType.RANK}
        if question.type in selects and not visible_choices(form, question, answers, today):
            answers.pop(question.name, None)  # nothing to choose from: nothing to ask
            continue
        fs.pos = pos
        fs.pending = initial_pending(form, question, answers, today)
        ask_question(turn, form)
        return False
    finish(turn, form)
    return True


def _repeat_again(turn: Turn, form: Form, marker: Question, pos: int) -> bool | None:
    """Close one round of a repeat: None to walk on, else what `_forward` returns."""
    fs = form_state(turn)
    answers: dict[str, Any] = fs.answers
    inside = [q for q in form.questions if q.repeat == marker.name]
    round_answers = {q.name: answers.pop(q.name) for q in inside if q.name in answers}
    rounds = answers.setdefault(marker.name, [])
    rounds.append(round_answers)
    fs.history = [h for h in fs.history if h > pos]  # a closed round is not revisited
    first = next(i for i, q in enumerate(form.questions) if q.repeat == marker.name)
    if marker.repeat_count is not None:
        wanted = to_number(evaluate(marker.repeat_count, environment(form, answers, _today(turn))))
        if not math.isnan(wanted) and len(rounds) < min(int(wanted), MAX_REPEAT_ROUNDS):
            return _forward(turn, form, first)
        return None
    if len(rounds) >= MAX_REPEAT_ROUNDS:
        return None
    fs.pos = pos
    fs.pending = []
    ask_question(turn, form)
    return False


# ---- input ----


def handle_input(turn: Turn, form: Form) -> bool:
    """Handle a non-command message inside a form. True when the form finished."""
    fs = form_state(turn)
    if fs.sub == "space":
        return _on_space_reply(turn, form)
    question = form.questions[fs.pos]
    button = turn.pressed()
    if isinstance(button, Stale):
        return again(turn, form, turn.t("stale_button"))
    pressed = button
    if pressed == "skip":
        return skip(turn, form)
    voice_elsewhere = (
        turn.inbound.kind is InboundKind.AUDIO and question.type is not QuestionType.AUDIO
    )
    if turn.inbound.kind is InboundKind.UNSUPPORTED or voice_elsewhere:
        return again(turn, form, turn.t("unsupported_kind"))
    if question.type is QuestionType.REPEAT:
        if pressed == "again" or (pressed is None and is_yes(turn.inbound.text)):
            first = next(i for i, q in enumerate(form.questions) if q.repeat == question.name)
            return _forward(turn, form, first)
        if pressed == "stop" or (pressed is None and is_no(turn.inbound.text)):
            return _forward(turn, form, fs.pos + 1)
        return again(turn, form, turn.t("form.expect.choice"))
    if pressed == "default" and question.default is not None:
        return _accept(turn, form, question, typed_default(question))
    collector = COLLECTORS.get(question.type)
    if collector is not None:
        collected = collector(turn, form, question, pressed)
        return False if isinstance(collected, Waiting) else _accept(turn, form, question, collected)
    value = read_answer(turn, question, pressed)
    if isinstance(value, Invalid):
        return again(turn, form, turn.t(value.key, **value.values))
    return _accept(turn, form, question, value)


def _is_empty(value: Any) -> bool:
    return value is None or value in ("", [])


def _accept(turn: Turn, form: Form, question: Question, value: Any) -> bool:
    """Check required/constraint, store the answer and move on."""
    fs = form_state(turn)
    if _is_empty(value):
        return skip(turn, form)
    if question.constraint is not None:
        env = environment(form, fs.answers, _today(turn), current=expression_value(value))
        if not evaluate_bool(question.constraint, env):
            message = form.text(question.constraint_messages, turn.locale)
            turn.say(message or turn.t("form.constraint_failed"))
            if question.type in {QuestionType.IMAGE, QuestionType.SELECT_MULTIPLE}:
                fs.pending = []
            ask_question(turn, form)
            return False
    fs.answers[question.name] = value
    fs.history.append(fs.pos)
    is_space = question.name == form.space_question and question.type is QuestionType.GEOPOINT
    if is_space and form_space.ask_to_confirm(turn, form, value):
        return False  # the guardian confirms the public space first
    return _forward(turn, form, fs.pos + 1)


def skip(turn: Turn, form: Form) -> bool:
    """Skip the current question when it is optional; else say it is required."""
    fs = form_state(turn)
    if fs.sub == "space":
        return again(turn, form, turn.t("form.cannot_skip_here"))
    question = form.questions[fs.pos]
    if question.required:
        message = form.text(question.required_messages, turn.locale)
        return again(turn, form, message or turn.t("form.required"))
    fs.answers.pop(question.name, None)
    fs.history.append(fs.pos)
    return _forward(turn, form, fs.pos + 1)


def back(turn: Turn, form: Form) -> None:
    """Return to the previous question answered (or skipped)."""
    fs = form_state(turn)
    fs.sub = None
    fs.candidate = None
    if not fs.history:
        turn.say(turn.t("form.at_first_question"))
    else:
        fs.pos = fs.history.pop()
        question = form.questions[fs.pos]
        fs.pending = initial_pending(form, question, fs.answers, _today(turn))
    ask_question(turn, form)


def _on_space_reply(turn: Turn, form: Form) -> bool:
    reply = form_space.on_reply(turn, form)
    if reply is form_space.SpaceReply.RELOCATE:
        return handle_input(turn, form)
    if reply is form_space.SpaceReply.NEXT:
        return _forward(turn, form, form_state(turn).pos + 1)
    return False
