"""Reading a reply as the answer to a form's question; what the channel knows for metadata."""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

from guardianes.conversations.bounds import parse_decimal, parse_integer
from guardianes.conversations.messages import InboundKind
from guardianes.conversations.text import normalize
from guardianes.conversations.turn import Turn
from guardianes.conversations.xlsform import Question, QuestionType

_COORDINATES = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*[,; ]\s*(-?\d{1,3}(?:\.\d+)?)\s*$")
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d/%m/%y", "%d.%m.%Y")
_TODAY_WORDS = frozenset({"hoy", "today"})
_YESTERDAY_WORDS = frozenset({"ayer", "yesterday"})
MAX_TEXT_LENGTH = 2000
_TIME = re.compile(r"^\s*(\d{1,2})[:.h](\d{2})\s*$")
MAX_LATITUDE = 90.0
MAX_LONGITUDE = 180.0
TYPED_HINTS = {
    QuestionType.TIME: "xlsform.time_hint",
    QuestionType.DATETIME: "xlsform.datetime_hint",
    QuestionType.RANGE: "xlsform.range_hint",
    QuestionType.RANK: "xlsform.rank_hint",
    QuestionType.AUDIO: "xlsform.audio_hint",
}


class Invalid:
    """A reply that could not be read as an answer; `key` names the localized explanation."""

    def __init__(self, key: str, **values: object) -> None:
        self.key = key
        self.values = values


def read_answer(turn: Turn, question: Question, pressed: str | None) -> Any:
    """The answer a reply gives, or `Invalid` saying what was expected."""
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
        match = _COORDINATES.match(text or "")
        if match:
            lat, lon = float(match.group(1)), float(match.group(2))
            if abs(lat) <= MAX_LATITUDE and abs(lon) <= MAX_LONGITUDE:
                return {"latitude": lat, "longitude": lon}
        return Invalid("form.expect.location")
    if kind is QuestionType.ACKNOWLEDGE:
        return "OK" if pressed == "ok" or text else Invalid("form.expect.choice")
    if kind in TYPED_HINTS:
        return _read_typed(question, text or "", turn.ctx.now.date())
    if kind is QuestionType.DATE:
        today = turn.ctx.now.date()
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


def is_yes(text: str | None) -> bool:
    return normalize(text or "") in {"si", "sí", "yes", "y", "s", "otro", "otra"}


def is_no(text: str | None) -> bool:
    return normalize(text or "") in {"no", "n", "ya", "listo", "done"}


def typed_default(question: Question) -> Any:
    default = question.default or ""
    if question.type is QuestionType.INTEGER:
        return parse_integer(default) if parse_integer(default) is not None else default
    if question.type in {QuestionType.DECIMAL, QuestionType.RANGE}:
        number = parse_decimal(default)
        return number if number is not None else default
    return default


def _read_typed(question: Question, text: str, today: date) -> Any:
    """Time, date and time, range and rank questions answered by typing."""
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
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    return None


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
