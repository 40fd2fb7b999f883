"""Filling a form in chat: asking each relevant question, checking answers, finishing.

The form's part of the state (`state["form"]`) is plain JSON:
`{"id", "version", "pos", "answers", "history", "pending", "sub", "candidate", "space",
"started_at", "phase"}`. `pos` indexes `Form.questions`; `history` holds the positions
answered so far (for "back"); `pending` collects multi-select toggles or photos before
"done"; `sub == "space"` while the guardian confirms the public space matched to a location.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

from guardianes.conversations.bounds import parse_decimal, parse_integer
from guardianes.conversations.catalog import FormCatalog
from guardianes.conversations.confirmations import PHOTO_SLOT as CONFIRMATION_PHOTO_SLOT
from guardianes.conversations.context import SaveQuizAttempt, SaveSubmission, SpacePlace
from guardianes.conversations.expressions import (
    Environment,
    Value,
    evaluate,
    evaluate_bool,
    to_number,
    to_string,
)
from guardianes.conversations.messages import GeoPoint, InboundKind, PromptKind, StoredMedia
from guardianes.conversations.text import is_done_word, normalize
from guardianes.conversations.turn import STALE, Stale, Turn
from guardianes.conversations.xlsform import Form, FormChoice, Question, QuestionType
from guardianes.domain.coordinates import parse_lat_lon
from guardianes.domain.dates import parse_day
from guardianes.domain.enums import FormKind, QuizPhase

_TODAY_WORDS = frozenset({"hoy", "today"})
_YESTERDAY_WORDS = frozenset({"ayer", "yesterday"})
MAX_TEXT_LENGTH = 2000
MAX_REPEAT_ROUNDS = 50  # a chat is no place for more; ODK forms rarely need as many
_TIME = re.compile(r"^\s*(\d{1,2})[:.h](\d{2})\s*$")
MAX_CAPTION_LENGTH = 1024  # Telegram's own caption limit


class Invalid:
    """A reply that could not be read as an answer; `key` names the localized explanation."""

    def __init__(self, key: str, **values: object) -> None:
        self.key = key
        self.values = values


# ---- expressions over answers ----


def expression_value(answer: Any) -> Value:
    """An answer as XPath sees it: numbers, strings, space-separated selections."""
    if answer is None:
        return ""
    if isinstance(answer, bool | str):
        return answer
    if isinstance(answer, int | float):
        return float(answer)
    if isinstance(answer, dict) and "latitude" in answer:
        return f"{answer['latitude']} {answer['longitude']} 0 0"
    if isinstance(answer, list):
        return " ".join(str(a["path"]) if isinstance(a, dict) else str(a) for a in answer)
    return str(answer)


def _jsonable(value: Value) -> str | int | float | bool:
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return ""
        return int(value) if value.is_integer() else value
    return value


def environment(
    form: Form,
    answers: dict[str, Any],
    today: date,
    *,
    current: Value = "",
    choice: dict[str, str] | None = None,
) -> Environment:
    """The environment for evaluating expressions of a form against answers so far."""

    def lookup(name: str) -> Value:
        if name in answers:
            return expression_value(answers[name])
        try:
            question = form.question(name)
        except KeyError:
            return ""
        if question.calculation is not None and question.type is QuestionType.CALCULATE:
            # A calculation referenced before the walk reached it: compute it now.
            return evaluate(question.calculation, environment(form, answers, today))
        return ""

    def choice_name(value: str, question_name: str) -> str:
        try:
            question = form.question(question_name)
        except KeyError:
            return value
        for item in question.choices:
            if item.name == value:
                return form.text(item.labels, form.default_language) or value
        return value

    def repeat_value(repeat: str, name: str, index: int) -> Value:
        rounds = answers.get(repeat)
        if not isinstance(rounds, list) or not 1 <= index <= len(rounds):
            return ""
        item = rounds[index - 1]
        return expression_value(item.get(name)) if isinstance(item, dict) else ""

    def instance_value(instance: str, key_column: str, key: str, column: str) -> str:
        for record in form.instances.get(instance, ()):
            if record.get(key_column) == key:
                return record.get(column, "")
        return ""

    return Environment(
        lookup=lookup,
        today=today,
        current=current,
        choice=choice,
        choice_name=choice_name,
        repeat_value=repeat_value,
        instance_value=instance_value,
    )


def is_relevant(form: Form, question: Question, answers: dict[str, Any], today: date) -> bool:
    """True when the question's own and its groups' relevance hold."""
    env = environment(form, answers, today)
    return all(evaluate_bool(expr, env) for expr in question.relevant)


def visible_choices(
    form: Form, question: Question, answers: dict[str, Any], today: date
) -> list[tuple[int, FormChoice]]:
    """Choices passing the choice filter, with their index in the full list."""
    if question.choice_filter is None:
        return list(enumerate(question.choices))
    shown = []
    for index, choice in enumerate(question.choices):
        columns = {"name": choice.name, **choice.columns}
        env = environment(form, answers, today, choice=columns)
        if evaluate_bool(question.choice_filter, env):
            shown.append((index, choice))
    return shown


def score_quiz(form: Form, answers: dict[str, Any], today: date) -> tuple[int, int]:
    """(right answers, scored questions): a question counts when its answer is exactly right."""
    score = total = 0
    for question in form.questions:
        if not question.scored or not is_relevant(form, question, answers, today):
            continue
        total += 1
        score += int(answer_is_right(question, answers.get(question.name)))
    return score, total


def answer_is_right(question: Question, answer: Any) -> bool:
    """A quiz answer is right when it picks exactly the choices marked correct."""
    correct = {c.name for c in question.choices if c.correct}
    if question.type is QuestionType.SELECT_MULTIPLE:
        return isinstance(answer, list) and set(answer) == correct
    return answer in correct


# ---- the form session ----


def _today(turn: Turn) -> date:
    return turn.ctx.now.date()


def form_state(turn: Turn) -> dict[str, Any]:
    """The form part of the state (present while filling)."""
    value = turn.state.get("form")
    assert isinstance(value, dict)
    return value


def current_form(turn: Turn) -> Form | None:
    """The form being filled, if the catalog still has that exact version."""
    fs = turn.state.get("form")
    if not isinstance(fs, dict):
        return None
    form = turn.catalog.get(str(fs.get("id")))
    if form is None or form.version != fs.get("version"):
        return None
    return form


def expects_photo(state: dict[str, Any] | None, catalog: FormCatalog) -> bool:
    """True when the conversation's current question asks for photos.

    Channels ask this before downloading anything a person sends: a photo sent at any
    other step is never fetched nor stored, and the person is told (see the engine).
    """
    if not state:
        return False
    if state.get("step") != "form":
        # After a "no" to "¿Ya quedó?" outside a card, the guardian may send one new photo.
        return state.get(CONFIRMATION_PHOTO_SLOT) is not None
    fs = state.get("form")
    if not isinstance(fs, dict) or fs.get("sub") == "space":
        return False
    form = catalog.get(str(fs.get("id")))
    if form is None or form.version != fs.get("version"):
        return False
    pos = fs.get("pos")
    if not isinstance(pos, int) or not 0 <= pos < len(form.questions):
        return False
    return form.questions[pos].type is QuestionType.IMAGE


def start_form(
    turn: Turn, form: Form, phase: QuizPhase | None = None, *, place: SpacePlace | None = None
) -> bool:
    """Begin a form: introduce it and ask the first relevant question. True if it finished.

    With `place` (a space chosen on the map) its location question is answered with it.
    """
    turn.goto("form")
    turn.state["form"] = {
        "id": form.form_id,
        "version": form.version,
        "pos": 0,
        "answers": {},
        "history": [],
        "pending": [],
        "sub": None,
        "candidate": None,
        "space": None,
        "started_at": turn.ctx.now.isoformat(),
        "phase": phase.value if phase else None,
    }
    if place is not None:
        turn.state["form"]["preset_space"] = {
            "id": place.space_id,
            "name": place.name,
            "code": place.code,
            "latitude": place.point.latitude,
            "longitude": place.point.longitude,
        }
    turn.say(turn.t("form.start", title=form.localized_title(turn.locale)))
    return _forward(turn, form, 0)


def _forward(turn: Turn, form: Form, start: int) -> bool:
    """Walk to the next question that needs an answer; finish when none is left."""
    fs = form_state(turn)
    answers: dict[str, Any] = fs["answers"]
    today = _today(turn)
    for pos in range(start, len(form.questions)):
        question = form.questions[pos]
        if not is_relevant(form, question, answers, today):
            answers.pop(question.name, None)  # ODK semantics: hidden questions keep no value
            continue
        if question.type is QuestionType.CALCULATE:
            assert question.calculation is not None
            env = environment(form, answers, today)
            answers[question.name] = _jsonable(evaluate(question.calculation, env))
            continue
        if question.type is QuestionType.METADATA:
            answers[question.name] = metadata_value(turn, question)
            continue
        if _answer_with_preset_space(form, question, fs):
            continue
        if question.type is QuestionType.REPEAT:
            stopped = _repeat_again(turn, form, question, pos)
            if stopped is not None:
                return stopped
            continue
        if question.type is QuestionType.NOTE:
            turn.say(substitute(form, form.text(question.labels, turn.locale), answers, turn))
            continue
        selects = {QuestionType.SELECT_ONE, QuestionType.SELECT_MULTIPLE, QuestionType.RANK}
        if question.type in selects and not visible_choices(form, question, answers, today):
            answers.pop(question.name, None)  # nothing to choose from: nothing to ask
            continue
        fs["pos"] = pos
        fs["pending"] = _initial_pending(form, question, answers, today)
        ask_question(turn, form)
        return False
    _finish(turn, form)
    return True


def _answer_with_preset_space(form: Form, question: Question, fs: dict[str, Any]) -> bool:
    """Answer the space's location question with the space chosen before the card began."""
    preset = fs.get("preset_space")
    if not preset or question.type is not QuestionType.GEOPOINT:
        return False
    if form.space_question is not None and question.name != form.space_question:
        return False
    fs.pop("preset_space")
    fs["answers"][question.name] = {
        "latitude": preset["latitude"],
        "longitude": preset["longitude"],
    }
    fs["space"] = {"id": preset["id"], "name": preset["name"], "code": preset["code"]}
    return True


_PLACEHOLDER = re.compile(r"\$\{\s*([A-Za-z_][\w.\-]*)\s*\}")
_TAG = re.compile(r"<[^>]+>")


def substitute(form: Form, text: str, answers: dict[str, Any], turn: Turn) -> str:
    """A label as the guardian reads it: `${field}` replaced by its answer, HTML as plain text."""

    def shown(match: re.Match[str]) -> str:
        name = match.group(1)
        value = answers.get(name)
        try:
            question = form.question(name)
        except KeyError:
            return ""
        if question.choices and value is not None:
            names = value if isinstance(value, list) else [value]
            labels = {c.name: form.text(c.labels, turn.locale) or c.name for c in question.choices}
            return ", ".join(labels.get(str(n), str(n)) for n in names)
        return to_string(expression_value(value))

    plain = _TAG.sub("", re.sub(r"<br\s*/?>", "\n", text, flags=re.IGNORECASE))
    return html.unescape(_PLACEHOLDER.sub(shown, plain)).strip()


def metadata_value(turn: Turn, question: Question) -> str:
    """What the channel knows for a metadata row; empty when it knows nothing."""
    kind = question.parameters.get("meta", question.name)
    now = turn.ctx.now
    if kind in {"start", "end"}:
        return now.isoformat()
    if kind == "today":
        return now.date().isoformat()
    if kind == "phonenumber" and turn.inbound.channel == "whatsapp":
        return turn.inbound.user_id  # a WhatsApp user id is the phone number
    return ""  # deviceid, username, simserial...: the channel does not know them


def _repeat_again(turn: Turn, form: Form, marker: Question, pos: int) -> bool | None:
    """Close one round of a repeat: None to walk on, else what `_forward` returns."""
    fs = form_state(turn)
    answers: dict[str, Any] = fs["answers"]
    inside = [q for q in form.questions if q.repeat == marker.name]
    round_answers = {q.name: answers.pop(q.name) for q in inside if q.name in answers}
    rounds = answers.setdefault(marker.name, [])
    rounds.append(round_answers)
    fs["history"] = [h for h in fs["history"] if h > pos]  # a closed round is not revisited
    first = next(i for i, q in enumerate(form.questions) if q.repeat == marker.name)
    if marker.repeat_count is not None:
        wanted = to_number(evaluate(marker.repeat_count, environment(form, answers, _today(turn))))
        if not math.isnan(wanted) and len(rounds) < min(int(wanted), MAX_REPEAT_ROUNDS):
            return _forward(turn, form, first)
        return None
    if len(rounds) >= MAX_REPEAT_ROUNDS:
        return None
    fs["pos"] = pos
    fs["pending"] = []
    ask_question(turn, form)
    return False


def _default_option(turn: Turn, question: Question) -> list[tuple[str, str]]:
    """The `default` as a button: the proposed answer, taken with one tap."""
    if question.default is None:
        return []
    return [("default", turn.t("xlsform.use_default", value=question.default))]


_TYPED_HINTS = {
    QuestionType.TIME: "xlsform.time_hint",
    QuestionType.DATETIME: "xlsform.datetime_hint",
    QuestionType.RANGE: "xlsform.range_hint",
    QuestionType.RANK: "xlsform.rank_hint",
    QuestionType.AUDIO: "xlsform.audio_hint",
}


def _initial_pending(
    form: Form, question: Question, answers: dict[str, Any], today: date
) -> list[Any]:
    if question.type is not QuestionType.SELECT_MULTIPLE:
        return []
    chosen = set(answers.get(question.name) or [])
    return [str(i) for i, c in visible_choices(form, question, answers, today) if c.name in chosen]


def ask_question(turn: Turn, form: Form, *, refresh: bool = False) -> None:
    """(Re-)ask the current question, or the space confirmation when that is pending."""
    fs = form_state(turn)
    if fs.get("sub") == "space":
        _ask_space(turn, fs["candidate"])
        return
    question = form.questions[fs["pos"]]
    text = substitute(form, form.text(question.labels, turn.locale), fs["answers"], turn)
    text = text or question.name
    hint = substitute(form, form.text(question.hints, turn.locale), fs["answers"], turn)
    if hint:
        text += "\n" + hint
    if question.groups and fs.get("heading") != list(question.groups):
        fs["heading"] = list(question.groups)
        headings = [form.text(form.group_labels.get(g, {}), turn.locale) for g in question.groups]
        heading = " › ".join(h for h in headings if h)
        if heading:
            text = f"▸ {heading}\n{text}"
    scope = f"{form.form_id}@{form.version}#{fs['pos']}"
    extras = {} if question.required else {"skip": turn.t("form.skip")}
    if question.type in {QuestionType.SELECT_ONE, QuestionType.SELECT_MULTIPLE}:
        shown = visible_choices(form, question, fs["answers"], _today(turn))
        options = [(str(i), form.text(c.labels, turn.locale) or c.name) for i, c in shown]
        scope += ":" + ",".join(c.name for _, c in shown)
        multiple = question.type is QuestionType.SELECT_MULTIPLE
        proposed = next(
            (label for (_, label), (_, c) in zip(options, shown, strict=True)
             if c.name == question.default),
            None,
        )  # fmt: skip
        if proposed is not None and not multiple:
            text += "\n" + turn.t("xlsform.proposed", value=proposed)
        if multiple:
            extras["done"] = turn.t("form.done")
            if not refresh:
                text += "\n" + turn.t("form.multiple_hint")
        turn.ask(
            scope=scope,
            text=text,
            options=options,
            extras=extras,
            multiple=multiple,
            selected=list(fs["pending"]) if multiple else None,
            refresh=refresh,
        )
    elif question.type is QuestionType.DATE:
        turn.ask(
            scope=scope,
            text=text + "\n" + turn.t("form.date_hint"),
            options=[("today", turn.t("form.today")), ("yday", turn.t("form.yesterday"))],
            extras=extras,
        )
    elif question.type is QuestionType.REPEAT:
        rounds = len(fs["answers"].get(question.name) or [])
        label = form.text(question.labels, turn.locale) or question.name
        turn.ask(
            scope=f"{scope}:{rounds}",
            text=turn.t("xlsform.repeat_again", label=label, count=rounds),
            options=[
                ("again", turn.t("xlsform.repeat_yes")),
                ("stop", turn.t("xlsform.repeat_no")),
            ],
        )
    elif question.type is QuestionType.ACKNOWLEDGE:
        turn.ask(scope=scope, text=text, options=[("ok", turn.t("xlsform.ok"))], extras=extras)
    elif question.type in _TYPED_HINTS:
        hint_key = _TYPED_HINTS[question.type]
        values = {"start": question.parameters.get("start", "0"),
                  "end": question.parameters.get("end", "10")}  # fmt: skip
        if question.type is QuestionType.RANK:
            options = [(str(i), form.text(c.labels, turn.locale) or c.name)
                       for i, c in enumerate(question.choices)]  # fmt: skip
            text += "\n" + "\n".join(f"{i + 1}. {label}" for i, (_, label) in enumerate(options))
        turn.ask(
            scope=scope,
            text=text + "\n" + turn.t(hint_key, **values),
            kind=PromptKind.TEXT,
            options=_default_option(turn, question),
            extras=extras,
        )
    elif question.type is QuestionType.GEOPOINT:
        turn.ask(
            scope=scope,
            text=text + "\n" + turn.t("form.location_hint"),
            kind=PromptKind.LOCATION,
            extras=extras,
        )
    elif question.type is QuestionType.IMAGE:
        extras["done"] = turn.t("form.done")
        turn.ask(
            scope=scope,
            text=text + "\n" + turn.t("form.photo_hint", max=question.max_photos),
            kind=PromptKind.PHOTO,
            extras=extras,
            max_photos=question.max_photos,
        )
    else:
        turn.ask(
            scope=scope,
            text=text,
            kind=PromptKind.TEXT,
            options=_default_option(turn, question),
            extras=extras,
        )


# ---- input ----


def handle_input(turn: Turn, form: Form) -> bool:
    """Handle a non-command message inside a form. True when the form finished."""
    fs = form_state(turn)
    if fs.get("sub") == "space":
        return _on_space_reply(turn, form)
    question = form.questions[fs["pos"]]
    button = turn.pressed()
    if isinstance(button, Stale):
        turn.say(turn.t("stale_button"))
        ask_question(turn, form)
        return False
    pressed = button
    if pressed == "skip":
        return skip(turn, form)
    if turn.inbound.kind is InboundKind.UNSUPPORTED:
        turn.say(turn.t("unsupported_kind"))
        ask_question(turn, form)
        return False
    if question.type is QuestionType.REPEAT:
        if pressed == "again" or (pressed is None and _is_yes(turn.inbound.text)):
            first = next(i for i, q in enumerate(form.questions) if q.repeat == question.name)
            return _forward(turn, form, first)
        if pressed == "stop" or (pressed is None and _is_no(turn.inbound.text)):
            return _forward(turn, form, fs["pos"] + 1)
        turn.say(turn.t("form.expect.choice"))
        ask_question(turn, form)
        return False
    if pressed == "default" and question.default is not None:
        return _accept(turn, form, question, _typed_default(question))
    if question.type is QuestionType.SELECT_MULTIPLE:
        return _on_multiple(turn, form, question, pressed)
    if question.type is QuestionType.IMAGE:
        return _on_photos(turn, form, question, pressed)
    value = _read_answer(turn, form, question, pressed)
    if isinstance(value, Invalid):
        turn.say(turn.t(value.key, **value.values))
        ask_question(turn, form)
        return False
    return _accept(turn, form, question, value)


def _read_answer(turn: Turn, form: Form, question: Question, pressed: str | None) -> Any:
    inbound = turn.inbound
    text = (inbound.text or "").strip() if inbound.kind is InboundKind.TEXT else None
    kind = question.type
    if kind is QuestionType.SELECT_ONE:
        key = pressed or (turn.typed_option() if text is not None else None)
        if key is None:
            return Invalid("form.expect.choice")
        return question.choices[int(key)].name
    if kind is QuestionType.GEOPOINT:
        if inbound.kind is InboundKind.LOCATION and inbound.location is not None:
            return asdict(inbound.location)
        point = parse_lat_lon(text or "")
        if point is not None:
            return {"latitude": point.latitude, "longitude": point.longitude}
        return Invalid("form.expect.location")
    if kind is QuestionType.ACKNOWLEDGE:
        return "OK" if pressed == "ok" or text else Invalid("form.expect.choice")
    if kind in _TYPED_HINTS:
        return _read_typed(question, text or "", _today(turn))
    if kind is QuestionType.DATE:
        today = _today(turn)
        if pressed == "today":
            return today.isoformat()
        if pressed == "yday":
            return (today - timedelta(days=1)).isoformat()
        parsed = _parse_date(text, today) if text is not None else None
        return parsed.isoformat() if parsed else Invalid("form.expect.date")
    if text is None or not text:
        expected = {
            QuestionType.INTEGER: "form.expect.integer",
            QuestionType.DECIMAL: "form.expect.decimal",
        }.get(kind, "form.expect.text")
        return Invalid(expected)
    if kind is QuestionType.INTEGER:
        whole = parse_integer(text.replace(" ", ""))
        return whole if whole is not None else Invalid("form.expect.integer")
    if kind is QuestionType.DECIMAL:
        number = parse_decimal(text.replace(" ", ""))
        return number if number is not None else Invalid("form.expect.decimal")
    if len(text) > MAX_TEXT_LENGTH:
        return Invalid("form.too_long", max=MAX_TEXT_LENGTH)
    return text


def _is_yes(text: str | None) -> bool:
    return normalize(text or "") in {"si", "sí", "yes", "y", "s", "otro", "otra"}


def _is_no(text: str | None) -> bool:
    return normalize(text or "") in {"no", "n", "ya", "listo", "done"}


def _typed_default(question: Question) -> Any:
    default = question.default or ""
    if question.type is QuestionType.INTEGER:
        return parse_integer(default) if parse_integer(default) is not None else default
    if question.type in {QuestionType.DECIMAL, QuestionType.RANGE}:
        number = parse_decimal(default)
        return number if number is not None else default
    return default


def _read_typed(question: Question, text: str, today: date) -> Any:
    """Time, date and time, range, rank and audio questions answered by typing."""
    kind = question.type
    if kind is QuestionType.TIME:
        match = _TIME.match(text)
        if match and int(match.group(1)) < 24 and int(match.group(2)) < 60:
            return f"{int(match.group(1)):02d}:{match.group(2)}"
        return Invalid("xlsform.expect.time")
    if kind is QuestionType.DATETIME:
        day_text, _, time_text = text.strip().rpartition(" ")
        day = _parse_date(day_text, today) if day_text else None
        match = _TIME.match(time_text)
        if day is None or match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            return Invalid("xlsform.expect.datetime")
        return f"{day.isoformat()}T{int(match.group(1)):02d}:{match.group(2)}"
    if kind is QuestionType.RANGE:
        number = parse_decimal(text.replace(" ", ""))
        low = parse_decimal(question.parameters.get("start", "0")) or 0
        high = parse_decimal(question.parameters.get("end", "10"))
        high = 10 if high is None else high
        if number is None or not min(low, high) <= number <= max(low, high):
            return Invalid("xlsform.expect.range", start=low, end=high)
        return int(number) if float(number).is_integer() else number
    if kind is QuestionType.RANK:
        picks = [int(p) - 1 for p in re.findall(r"\d+", text)]
        if sorted(picks) != list(range(len(question.choices))):
            return Invalid("xlsform.expect.rank", count=len(question.choices))
        return " ".join(question.choices[i].name for i in picks)
    return Invalid("xlsform.expect.audio")


def _parse_date(text: str, today: date) -> date | None:
    word = normalize(text)
    if word in _TODAY_WORDS:
        return today
    if word in _YESTERDAY_WORDS:
        return today - timedelta(days=1)
    return parse_day(text)


def _on_multiple(turn: Turn, form: Form, question: Question, pressed: str | None) -> bool:
    fs = form_state(turn)
    pending: list[str] = fs["pending"]
    if pressed is not None and pressed != "done":
        # A toggle: redraw the same question with the new selection.
        if pressed in pending:
            pending.remove(pressed)
        else:
            pending.append(pressed)
        pending.sort(key=int)
        ask_question(turn, form, refresh=True)
        return False
    if pressed == "done" or is_done_word(turn.inbound.text):
        keys = pending
    elif turn.inbound.kind is InboundKind.TEXT and (typed := turn.typed_options()) is not None:
        keys = sorted(typed, key=int)
    else:
        turn.say(turn.t("form.expect.choices"))
        ask_question(turn, form)
        return False
    return _accept(turn, form, question, [question.choices[int(k)].name for k in keys])


def _on_photos(turn: Turn, form: Form, question: Question, pressed: str | None) -> bool:
    fs = form_state(turn)
    pending: list[dict[str, Any]] = fs["pending"]
    inbound = turn.inbound
    if inbound.kind is InboundKind.PHOTO and inbound.photos:
        room = question.max_photos - len(pending)
        # A caption belongs with its photo (an album's caption with each of its photos).
        caption = (inbound.text or "").strip()[:MAX_CAPTION_LENGTH] or None
        pending.extend(
            {**asdict(photo), "caption": photo.caption or caption}
            for photo in inbound.photos[:room]
        )
        if len(inbound.photos) > room:
            turn.say(turn.t("form.photos_limit", max=question.max_photos))
        if len(pending) >= question.max_photos:
            return _accept(turn, form, question, list(pending))
        # One confirmation per message, however many photos it carried.
        extras = {"done": turn.t("form.done")}
        if not question.required:
            extras["skip"] = turn.t("form.skip")
        turn.ask(
            scope=f"{form.form_id}@{form.version}#{fs['pos']}",
            text=turn.t("form.photos_received", count=len(pending), max=question.max_photos),
            kind=PromptKind.PHOTO,
            extras=extras,
            max_photos=question.max_photos - len(pending),
        )
        return False
    if pressed == "done" or is_done_word(inbound.text):
        if not pending:
            return skip(turn, form)
        return _accept(turn, form, question, list(pending))
    turn.say(turn.t("form.expect.photo"))
    ask_question(turn, form)
    return False


def _is_empty(value: Any) -> bool:
    return value is None or value in ("", [])


def _accept(turn: Turn, form: Form, question: Question, value: Any) -> bool:
    """Check required/constraint, store the answer and move on."""
    fs = form_state(turn)
    if _is_empty(value):
        return skip(turn, form)
    if question.constraint is not None:
        env = environment(form, fs["answers"], _today(turn), current=expression_value(value))
        if not evaluate_bool(question.constraint, env):
            message = form.text(question.constraint_messages, turn.locale)
            turn.say(message or turn.t("form.constraint_failed"))
            if question.type in {QuestionType.IMAGE, QuestionType.SELECT_MULTIPLE}:
                fs["pending"] = []
            ask_question(turn, form)
            return False
    fs["answers"][question.name] = value
    fs["history"].append(fs["pos"])
    if question.name == form.space_question and question.type is QuestionType.GEOPOINT:
        return _match_space(turn, form, value)
    return _forward(turn, form, fs["pos"] + 1)


def skip(turn: Turn, form: Form) -> bool:
    """Skip the current question when it is optional; else say it is required."""
    fs = form_state(turn)
    if fs.get("sub") == "space":
        turn.say(turn.t("form.cannot_skip_here"))
        ask_question(turn, form)
        return False
    question = form.questions[fs["pos"]]
    if question.required:
        message = form.text(question.required_messages, turn.locale)
        turn.say(message or turn.t("form.required"))
        ask_question(turn, form)
        return False
    fs["answers"].pop(question.name, None)
    fs["history"].append(fs["pos"])
    return _forward(turn, form, fs["pos"] + 1)


def back(turn: Turn, form: Form) -> None:
    """Return to the previous question answered (or skipped)."""
    fs = form_state(turn)
    fs["sub"] = None
    fs["candidate"] = None
    if not fs["history"]:
        turn.say(turn.t("form.at_first_question"))
    else:
        fs["pos"] = fs["history"].pop()
        question = form.questions[fs["pos"]]
        fs["pending"] = _initial_pending(form, question, fs["answers"], _today(turn))
    ask_question(turn, form)


# ---- matching a location to a public space ----


def _match_space(turn: Turn, form: Form, value: dict[str, float]) -> bool:
    fs = form_state(turn)
    point = GeoPoint(latitude=value["latitude"], longitude=value["longitude"])
    match = turn.ctx.gazetteer.space_at(point, service=form.service)
    fs["space"] = None
    if match is None:
        turn.say(turn.t("form.space_not_found"))
        return _forward(turn, form, fs["pos"] + 1)
    fs["sub"] = "space"
    fs["candidate"] = {
        "id": match.space_id,
        "name": match.name,
        "code": match.code,
        "inside": match.inside,
        "distance_m": round(match.distance_m),
    }
    _ask_space(turn, fs["candidate"])
    return False


def _space_label(candidate: dict[str, Any]) -> str:
    return (
        f"{candidate['name']} ({candidate['code']})" if candidate.get("code") else candidate["name"]
    )


def _ask_space(turn: Turn, candidate: dict[str, Any]) -> None:
    if candidate.get("inside"):
        text = turn.t("form.space_confirm_inside", space=_space_label(candidate))
    else:
        text = turn.t(
            "form.space_confirm_near", space=_space_label(candidate), meters=candidate["distance_m"]
        )
    turn.ask(
        scope=f"space#{candidate['id']}",
        text=text,
        options=[
            ("yes", turn.t("form.space_yes")),
            ("other", turn.t("form.space_other")),
            ("none", turn.t("form.space_none")),
        ],
    )


def _on_space_reply(turn: Turn, form: Form) -> bool:
    fs = form_state(turn)
    if turn.inbound.kind is InboundKind.LOCATION:
        # A new location answers the location question again.
        fs["sub"] = None
        fs["pos"] = fs["history"].pop()
        return handle_input(turn, form)
    key = turn.choice_or_typed()
    if key is STALE or key is None:
        turn.say(turn.t("stale_button" if key is STALE else "form.expect.choice"))
        ask_question(turn, form)
        return False
    fs["sub"] = None
    candidate, fs["candidate"] = fs["candidate"], None
    if key == "yes":
        fs["space"] = {"id": candidate["id"], "name": candidate["name"], "code": candidate["code"]}
        return _forward(turn, form, fs["pos"] + 1)
    if key == "other":
        fs["pos"] = fs["history"].pop()
        fs["answers"].pop(form.questions[fs["pos"]].name, None)
        ask_question(turn, form)
        return False
    fs["space"] = None
    return _forward(turn, form, fs["pos"] + 1)


# ---- finishing ----


def final_answers(form: Form, answers: dict[str, Any], today: date) -> dict[str, Any]:
    """Answers of relevant questions plus every relevant calculation, in form order."""
    result: dict[str, Any] = {}
    known = dict(answers)
    for question in form.questions:
        if not is_relevant(form, question, known, today):
            known.pop(question.name, None)
            continue
        if question.repeat is not None:
            continue  # kept inside the repeat's list of rounds
        if question.calculation is not None and question.type is QuestionType.CALCULATE:
            value = _jsonable(evaluate(question.calculation, environment(form, known, today)))
            result[question.name] = known[question.name] = value
        elif question.name in answers:
            result[question.name] = answers[question.name]
    return result


def _finish(turn: Turn, form: Form) -> None:
    fs = form_state(turn)
    today = _today(turn)
    answers = final_answers(form, fs["answers"], today)
    started_at = datetime.fromisoformat(fs["started_at"])
    turn.state.pop("form", None)
    if form.kind is FormKind.QUIZ:
        score, total = score_quiz(form, answers, today)
        phase = QuizPhase(fs.get("phase") or QuizPhase.PRE)
        turn.effects.append(
            SaveQuizAttempt(
                form_id=form.form_id,
                form_version=form.version,
                phase=phase,
                answers=answers,
                score=score,
                max_score=total,
                started_at=started_at,
                completed_at=turn.ctx.now,
            )
        )
        course = turn.catalog.course
        in_course = course is not None and course.quiz_form_id == form.form_id
        prefix = "training.quiz_finished" if in_course else "quiz.finished"
        turn.say(turn.t(f"{prefix}.{phase.value}", score=score, total=total))
        return
    photos: list[StoredMedia] = []
    location = None
    for question in form.questions:
        value = answers.get(question.name)
        if question.type is QuestionType.IMAGE and isinstance(value, list):
            media = [StoredMedia(**item) for item in value]
            photos.extend(media)
            answers[question.name] = [m.path for m in media]
        elif question.type is QuestionType.GEOPOINT and isinstance(value, dict):
            point = GeoPoint(latitude=value["latitude"], longitude=value["longitude"])
            if location is None or question.name == form.space_question:
                location = point
    space = fs.get("space")
    turn.effects.append(
        SaveSubmission(
            form_id=form.form_id,
            form_version=form.version,
            answers=answers,
            location=location,
            space_id=int(space["id"]) if space else None,
            photos=tuple(photos),
            started_at=started_at,
            completed_at=turn.ctx.now,
        )
    )
    turn.say(turn.t("form.saved", title=form.localized_title(turn.locale)))
