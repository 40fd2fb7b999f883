"""Load an XLSForm (.xlsx, .xls, .csv, .md) into a `Form`, refusing what the engine can't run.

pyxform parses the file; we then check every row against the subset the chat engine
supports, so an unsupported form fails here, with sheet and row numbers, never in chat.

Guardianes conventions on top of standard XLSForm (pyxform keeps unknown columns):
- settings `kind`: `card` (a surveillance card) or `quiz` (a scored pre/post test);
- settings `service`: the service a card covers, e.g. `green_space_maintenance`;
- settings `space_question`: the geopoint whose answer is matched to a public space,
  which the guardian then confirms;
- survey `max_photos`: how many photos an `image` question accepts (1-10, default 1);
  pyxform validates `parameters` and refuses unknown keys there, hence a column;
- choices `correct`: `yes` on every right answer of a quiz question;
- survey `explanation` (translatable): the one-line reason of a quiz question's right
  answer, shown with the answers after the post quiz; survey `topic`: the course topic a
  question checks (learning gains are also reported per topic).
- survey `obligation`: the contract obligation a card question checks (`mowing`, `lighting`,
  ... see `guardianes.conversations.obligations.ObligationCode`); the choices meaning
  "failed" carry `failure` = `yes`, a number question gives `failure_if` (e.g. `. > 0`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from pyxform.errors import PyXFormError
from pyxform.xls2json import parse_file_to_json
from pyxform.xls2json_backends import get_xlsform

from guardianes.conversations.expressions import Expression, ExpressionError, parse_expression
from guardianes.conversations.obligations import OBLIGATION_CODES
from guardianes.domain.enums import FormKind

FORM_SUFFIXES: frozenset[str] = frozenset({".xlsx", ".xls", ".csv", ".md"})
# pyxform names the root after this; a question called `data` would collide with the default.
PYXFORM_FORM_NAME = "guardianes_form"
DEFAULT_LANGUAGE_KEY = "default"
MAX_PHOTOS_LIMIT = 10  # a Telegram album holds at most 10 photos
FIRST_DATA_ROW = 2  # row 1 of every sheet holds the column headers

_TRANSLATABLE = frozenset(
    {"label", "hint", "required_message", "constraint_message", "explanation"}
)
_SURVEY_COLUMNS = (
    _TRANSLATABLE
    | frozenset(
        {"type", "name", "required", "constraint", "relevant", "calculation", "choice_filter"}
    )
    | frozenset({"max_photos", "topic", "obligation", "failure_if", "default", "parameters"})
)
# Metadata rows: filled from what the channel knows when the form starts or ends, never asked.
METADATA_TYPES = frozenset(
    {
        "start", "end", "today", "deviceid", "username", "phonenumber", "subscriberid",
        "simserial", "audit", "start-geopoint", "background-audio", "email",
    }
)  # fmt: skip
# What the chat cannot ask, with the reason staff read.
_BLOCKED_TYPES = {
    "geotrace": "a line drawn on a map (geotrace) cannot be answered in chat",
    "geoshape": "a shape drawn on a map (geoshape) cannot be answered in chat",
    "file": "file uploads are not supported",
    "video": "video answers are not supported",
    "barcode": "barcode scanning is not supported",
    "background-geopoint": "background location tracking is not supported",
    "select_multiple_external": "select_multiple_external is not supported",
    "csv-external": "csv-external lookups are not supported",
    "xml-external": "xml-external lookups are not supported",
}
_SETTINGS_COLUMNS = frozenset(
    {"form_id", "version", "default_language", "form_title", "kind", "service", "space_question"}
)
_CHOICE_MEDIA_COLUMNS = frozenset({"image", "audio", "video", "big-image", "media"})
_TRUE_WORDS = frozenset({"yes", "true", "true()", "1", "y", "sí", "si", "x"})
_FALSE_WORDS = frozenset({"no", "false", "false()", "0", "n", ""})
_LANGUAGE_CODE = re.compile(r"\(\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)?\s*\)\s*$")
_KNOWN_LANGUAGE_NAMES = {"spanish": "es", "español": "es", "english": "en", "inglés": "en"}
# pyxform's other spellings of the same types (pyxform/aliases.py `select` and `control`,
# xls2json's RE_SELECT), rewritten to the canonical words before any check; longest first.
_TYPE_ALIASES: tuple[tuple[str, str], ...] = (
    ("add select one prompt using", "select_one"),
    ("add select multiple prompt using", "select_multiple"),
    ("select all that apply from", "select_multiple"),
    ("select all that apply", "select_multiple"),
    ("select one from file", "select_one_from_file"),
    ("select multiple from file", "select_multiple_from_file"),
    ("select one from", "select_one"),
    ("select one", "select_one"),
    ("select1", "select_one"),
    ("phone number", "phone_number"),
)
_OTHER_ALIASES = ("or specify other", "or other")  # -> or_other
_CONTROL_WORDS = re.compile(r"^(begin|end)\s+(group|repeat|looped group|lgroup|loop)\b(\s+over\b)?")
_CONTROL_ALIASES = {"looped group": "repeat", "lgroup": "repeat"}
# What pyxform's question type dictionary adds to a type the engine reads as another.
_TYPE_CONSTRAINTS = {"phone number": r"regex(., '^\d*$')"}  # numbers only
_TITLE_COLUMN = re.compile(r"title_([a-z]{2,3})")  # form_title in another language
_ROW_IN_MESSAGE = re.compile(r"\[row\s*:\s*(\d+)\]")


class QuestionType(StrEnum):
    """The question types the chat engine can ask."""

    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    SELECT_ONE = "select_one"
    SELECT_MULTIPLE = "select_multiple"
    GEOPOINT = "geopoint"
    IMAGE = "image"
    DATE = "date"
    NOTE = "note"
    CALCULATE = "calculate"
    TIME = "time"
    DATETIME = "datetime"
    RANGE = "range"
    RANK = "rank"
    AUDIO = "audio"
    ACKNOWLEDGE = "acknowledge"
    METADATA = "metadata"  # start, end, today, username...: filled, never asked
    REPEAT = "repeat"  # the end of a repeat: loop back ("add another?" or up to a count)


_RAW_TYPES: dict[str, QuestionType | None] = {
    "text": QuestionType.TEXT,
    "integer": QuestionType.INTEGER,
    "decimal": QuestionType.DECIMAL,
    "select_one": QuestionType.SELECT_ONE,
    "select_multiple": QuestionType.SELECT_MULTIPLE,
    "geopoint": QuestionType.GEOPOINT,
    "image": QuestionType.IMAGE,
    "date": QuestionType.DATE,
    "note": QuestionType.NOTE,
    "calculate": QuestionType.CALCULATE,
    "begin_group": None,
    "end_group": None,
    "begin_repeat": None,
    "end_repeat": None,
    "begin_loop": None,  # pyxform's loop over a choice list: one group per choice
    "end_loop": None,
    "phone_number": QuestionType.TEXT,  # with pyxform's numbers-only constraint
    "time": QuestionType.TIME,
    "datetime": QuestionType.DATETIME,
    "range": QuestionType.RANGE,
    "rank": QuestionType.RANK,
    "audio": QuestionType.AUDIO,
    "acknowledge": QuestionType.ACKNOWLEDGE,
    "select_one_from_file": QuestionType.SELECT_ONE,
    "select_multiple_from_file": QuestionType.SELECT_MULTIPLE,
    "select_one_external": QuestionType.SELECT_ONE,
    **dict.fromkeys(METADATA_TYPES, QuestionType.METADATA),
}
_PYXFORM_TYPES: dict[str, QuestionType] = {
    "text": QuestionType.TEXT,
    "integer": QuestionType.INTEGER,
    "decimal": QuestionType.DECIMAL,
    "select one": QuestionType.SELECT_ONE,
    "select all that apply": QuestionType.SELECT_MULTIPLE,
    "geopoint": QuestionType.GEOPOINT,
    "photo": QuestionType.IMAGE,
    "date": QuestionType.DATE,
    "note": QuestionType.NOTE,
    "calculate": QuestionType.CALCULATE,
    "time": QuestionType.TIME,
    "dateTime": QuestionType.DATETIME,
    "datetime": QuestionType.DATETIME,
    "range": QuestionType.RANGE,
    "odk:rank": QuestionType.RANK,
    "rank": QuestionType.RANK,
    "audio": QuestionType.AUDIO,
    "acknowledge": QuestionType.ACKNOWLEDGE,
    "trigger": QuestionType.ACKNOWLEDGE,
    "select one external": QuestionType.SELECT_ONE,
    "phone number": QuestionType.TEXT,
    **dict.fromkeys(METADATA_TYPES, QuestionType.METADATA),
}


@dataclass(frozen=True, slots=True)
class FormProblem:
    """One reason a form was refused."""

    file: str
    sheet: str | None
    row: int | None
    reason: str
    warning: bool = False  # the form still runs; staff may want to know

    def __str__(self) -> str:
        where = ("warning: " if self.warning else "") + self.file
        if self.sheet:
            where += f", sheet {self.sheet}"
        if self.row:
            where += f", row {self.row}"
        return f"{where}: {self.reason}"


class FormError(Exception):
    """A form the engine refuses, with every problem found (not just the first)."""

    def __init__(self, problems: list[FormProblem]) -> None:
        self.problems = ordered_problems(problems)
        blockers = sum(not p.warning for p in self.problems)
        warnings = len(self.problems) - blockers
        self.summary = f"{blockers} reason(s) the form cannot run" + (
            f", {warnings} warning(s)" if warnings else ""
        )
        super().__init__("\n".join([self.summary, *(str(p) for p in self.problems)]))


def ordered_problems(problems: list[FormProblem]) -> list[FormProblem]:
    """Each problem once, the real blockers before the warnings, in sheet and row order."""
    rows: dict[tuple[str, str | None, str, bool], list[int | None]] = {}
    for problem in problems:
        key = (problem.file, problem.sheet, problem.reason, problem.warning)
        if problem.row not in rows.setdefault(key, []):
            rows[key].append(problem.row)
    merged = []
    for (file, sheet, reason, warning), where in rows.items():
        numbers = sorted(r for r in where if r)
        also = ""
        if len(numbers) > 1:
            also = " (also rows " + ", ".join(str(r) for r in numbers[1:]) + ")"
        first = numbers[0] if numbers else None
        merged.append(FormProblem(file, sheet, first, reason + also, warning))
    return sorted(merged, key=lambda p: (p.warning, p.sheet or "", p.row or 0))


Texts = Mapping[str, str]  # language code (or "default") -> text


@dataclass(frozen=True, slots=True)
class FormChoice:
    """One option of a select question."""

    name: str
    labels: Texts
    correct: bool = False
    failure: bool = False  # choosing it means the checked obligation failed
    columns: Mapping[str, str] = field(default_factory=dict)  # extra columns, for filters


@dataclass(frozen=True, slots=True)
class Question:
    """One row of the survey sheet the engine handles, with its group relevance folded in."""

    name: str
    type: QuestionType
    row: int
    labels: Texts = field(default_factory=dict)
    hints: Texts = field(default_factory=dict)
    required: bool = False
    required_messages: Texts = field(default_factory=dict)
    constraint: Expression | None = None
    constraint_messages: Texts = field(default_factory=dict)
    relevant: tuple[Expression, ...] = ()  # enclosing groups first, then the question's own
    calculation: Expression | None = None
    choices: tuple[FormChoice, ...] = ()
    choice_filter: Expression | None = None
    max_photos: int = 1
    explanations: Texts = field(default_factory=dict)  # why the right answer is right
    topic: str | None = None  # the course topic the question checks
    obligation: str | None = None  # the contract obligation this question checks
    failure_if: Expression | None = None  # for numbers: true when the answer means "failed"
    default: str | None = None  # the proposed answer (`default` column)
    groups: tuple[str, ...] = ()  # enclosing groups with a label, outermost first
    repeat: str | None = None  # the innermost repeat holding the question
    repeat_count: Expression | None = None  # for a REPEAT marker: how many times
    parameters: Mapping[str, str] = field(default_factory=dict)  # range start/end/step
    itemset_file: str | None = None  # select_one_from_file: the file's instance name

    @property
    def scored(self) -> bool:
        """A quiz question is scored when its choice list marks a correct answer."""
        return any(choice.correct for choice in self.choices)

    @property
    def asks(self) -> bool:
        """Notes, calculations, metadata and repeat ends never wait for a typed answer."""
        return self.type not in {
            QuestionType.NOTE,
            QuestionType.CALCULATE,
            QuestionType.METADATA,
            QuestionType.REPEAT,
        }


@dataclass(frozen=True, slots=True)
class Form:
    """A loaded, validated form."""

    form_id: str
    version: str
    kind: FormKind
    title: str
    default_language: str  # a language code such as "es", or "default"
    questions: tuple[Question, ...]
    source: str
    service: str | None = None
    space_question: str | None = None
    languages: tuple[str, ...] = ()
    titles: Texts = field(default_factory=dict)  # `title_en` etc.; `title` is the default
    group_labels: Mapping[str, Texts] = field(default_factory=dict)  # headings by group name
    instances: Mapping[str, tuple[Mapping[str, str], ...]] = field(default_factory=dict)
    warnings: tuple[FormProblem, ...] = ()  # what was ignored, summarized

    def localized_title(self, locale: str) -> str:
        """The title in the guardian's language when the settings give one."""
        return self.titles.get(locale) or self.title

    def question(self, name: str) -> Question:
        """The question with that name."""
        for question in self.questions:
            if question.name == name:
                return question
        raise KeyError(name)

    def text(self, texts: Texts, locale: str) -> str:
        """Pick the guardian's language, else the form's default, else any translation."""
        for key in (locale, self.default_language, DEFAULT_LANGUAGE_KEY):
            if texts.get(key):
                return texts[key]
        return next((value for value in texts.values() if value), "")


def language_code(name: str) -> str | None:
    """`Español (es)` -> `es`; `default` stays `default`; unknown names give None."""
    name = name.strip()
    if name == DEFAULT_LANGUAGE_KEY:
        return DEFAULT_LANGUAGE_KEY
    match = _LANGUAGE_CODE.search(name)
    if match:
        return match.group(1).lower()
    if re.fullmatch(r"[A-Za-z]{2,3}", name):
        return name.lower()
    return _KNOWN_LANGUAGE_NAMES.get(name.lower())


def canonical_type(raw_type: str) -> str:
    """pyxform's aliases of a type as the canonical words: `select one from L` -> `select_one L`."""
    words = " ".join(raw_type.split()).lower()
    control = _CONTROL_WORDS.match(words)
    if control:
        kind = _CONTROL_ALIASES.get(control.group(2), control.group(2))
        return f"{control.group(1)}_{kind}{words[control.end() :]}"
    for alias, canonical in _TYPE_ALIASES:
        if words == alias or words.startswith(alias + " "):
            words = canonical + words[len(alias) :]
            break
    for alias in _OTHER_ALIASES:
        if words.endswith(" " + alias):
            return words[: -len(alias)] + "or_other"
    return words


def _split_column(header: str) -> tuple[str, str | None]:
    base, _, language = header.partition("::")
    if not language:
        # pyxform also reads `label:English (en)` as a translation
        single, _, after = header.partition(":")
        if after and single.strip().lower() in _TRANSLATABLE:
            base, language = single, after
    return base.strip().lower(), (language.strip() or None) if language else None


def _parse_flag(value: str) -> bool | None:
    lowered = value.strip().lower()
    if lowered in _TRUE_WORDS:
        return True
    if lowered in _FALSE_WORDS:
        return False
    return None


class _Loader:
    """Collects every problem of one file before giving up, so staff fix them in one go."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = path.name
        self.problems: list[FormProblem] = []
        self.raw_settings: dict[str, Any] = {}
        self.ignored: dict[str, set[str]] = {}  # sheet -> columns ignored (presentation)
        self.external: dict[str, list[dict[str, Any]]] = {}  # external_choices by list
        self.group_labels: dict[str, dict[str, str]] = {}
        self.instances: dict[str, tuple[Mapping[str, str], ...]] = {}
        self.warnings: list[FormProblem] = []

    def warn(self, sheet: str | None, row: int | None, reason: str) -> None:
        self.warnings.append(FormProblem(self.file, sheet, row, reason, warning=True))

    def problem(self, sheet: str | None, row: int | None, reason: str) -> None:
        self.problems.append(FormProblem(self.file, sheet, row, reason))

    def pyxform_problem(self, error: Exception) -> None:
        message = str(error).strip()
        match = _ROW_IN_MESSAGE.search(message)
        sheet = None
        for candidate in ("survey", "choices", "settings"):
            if f"'{candidate}' sheet" in message or f"{candidate} sheet" in message:
                sheet = candidate
                break
        self.problem(sheet, int(match.group(1)) if match else None, message)

    # ---- raw sheets: columns, types and flags, reported with row numbers ----

    def check_raw(self, raw: Any) -> dict[str, int]:
        """Check the raw rows; return each survey name's row number."""
        rows_by_name: dict[str, int] = {}
        for row in raw.external_choices or []:
            list_name = str(row.get("list_name") or row.get("list name") or "").strip()
            self.external.setdefault(list_name, []).append(dict(row))
        for row_number, row in enumerate(raw.survey or [], start=FIRST_DATA_ROW):
            for header in row:
                base, language = _split_column(str(header))
                if base not in _SURVEY_COLUMNS:
                    # appearance, style, guidance_hint, media::*, trigger...: presentation
                    self.ignored.setdefault("survey", set()).add(str(header))
                elif language is not None and base not in _TRANSLATABLE:
                    self.problem("survey", row_number, f"'{base}' cannot be translated")
                elif language is not None and language_code(language) is None:
                    self.problem(
                        "survey",
                        row_number,
                        f"language '{language}' needs a code, e.g. '{language} (xx)'",
                    )
            if row.get("name"):
                rows_by_name.setdefault(str(row["name"]).strip(), row_number)
            self.check_raw_type(row, row_number)
        for row_number, row in enumerate(raw.choices or [], start=FIRST_DATA_ROW):
            for header in row:
                base, language = _split_column(str(header))
                if base in _CHOICE_MEDIA_COLUMNS:
                    self.ignored.setdefault("choices", set()).add(str(header))
                elif language is not None and base != "label":
                    self.problem("choices", row_number, f"'{base}' cannot be translated")
            correct = row.get("correct")
            if correct is not None and _parse_flag(str(correct)) is None:
                self.problem(
                    "choices", row_number, f"correct must be yes or empty, not {correct!r}"
                )
            failure = row.get("failure")
            if failure is not None and _parse_flag(str(failure)) is None:
                self.problem(
                    "choices", row_number, f"failure must be yes or empty, not {failure!r}"
                )
        self.raw_settings = dict((raw.settings or [{}])[0])
        for row in raw.settings or []:
            for header in row:
                base = _split_column(str(header))[0]
                if base not in _SETTINGS_COLUMNS and not _TITLE_COLUMN.fullmatch(base):
                    self.ignored.setdefault("settings", set()).add(str(header))
        for sheet in ("entities", "osm"):
            if getattr(raw, sheet, None):
                self.problem(sheet, None, f"the '{sheet}' sheet is not supported")
        if self.ignored:
            self.warn(
                None,
                None,
                "ignored presentation columns: "
                + "; ".join(
                    f"{sheet} {', '.join(sorted(columns))}"
                    for sheet, columns in sorted(self.ignored.items())
                ),
            )
        return rows_by_name

    def check_raw_type(self, row: Mapping[str, Any], row_number: int) -> None:
        raw_type = " ".join(str(row.get("type") or "").split())
        if not raw_type:
            return  # blank rows are fine; pyxform reports rows with content but no type
        parts = canonical_type(raw_type).split()
        base = parts[0]
        if base in _BLOCKED_TYPES:
            self.problem("survey", row_number, _BLOCKED_TYPES[base])
            return
        if base not in _RAW_TYPES:
            self.problem("survey", row_number, f"the question type '{raw_type}' is not supported")
            return
        if base == "select_one_external" and len(parts) == 2 and parts[1] not in self.external:
            self.problem(
                "survey", row_number, f"list '{parts[1]}' is not in the external_choices sheet"
            )
        if parts[-1] == "or_other":
            parts = parts[:-1]  # pyxform adds the "other" choice and its text question
        if base in {"select_one", "select_multiple", "rank"} and len(parts) != 2:
            self.problem("survey", row_number, f"'{raw_type}': only 'select_one LIST' is supported")
        if row.get("max_photos") is not None:
            if base != "image":
                self.problem("survey", row_number, "max_photos applies to image questions only")
            elif not str(row["max_photos"]).strip().isdigit() or not (
                1 <= int(str(row["max_photos"]).strip()) <= MAX_PHOTOS_LIMIT
            ):
                self.problem(
                    "survey",
                    row_number,
                    f"max_photos must be a whole number from 1 to {MAX_PHOTOS_LIMIT}",
                )
        required = row.get("required")
        if required is not None and _parse_flag(str(required)) is None:
            if str(required).strip().startswith(("$", "(")) or "(" in str(required):
                self.problem("survey", row_number, "a conditional required is not supported")
            else:
                self.warn("survey", row_number, f"required {required!r} is read as no")
        self.check_raw_obligation(row, row_number, base)

    def check_raw_obligation(self, row: Mapping[str, Any], row_number: int, base: str) -> None:
        obligation = str(row.get("obligation") or "").strip()
        failure_if = str(row.get("failure_if") or "").strip()
        if obligation and obligation not in OBLIGATION_CODES:
            self.problem(
                "survey",
                row_number,
                f"unknown obligation '{obligation}'; known: {', '.join(sorted(OBLIGATION_CODES))}",
            )
        if obligation and base not in {"select_one", "select_multiple", "integer", "decimal"}:
            self.problem(
                "survey", row_number, "an obligation goes on a select or a number question"
            )
        if failure_if and not obligation:
            self.problem("survey", row_number, "failure_if needs an obligation on the same row")
        if failure_if and base not in {"integer", "decimal"}:
            self.problem("survey", row_number, "failure_if applies to number questions only")
        if obligation and base in {"integer", "decimal"} and not failure_if:
            self.problem(
                "survey", row_number, "a number question with an obligation needs failure_if"
            )

    # ---- the pyxform tree ----

    def texts(self, value: Any) -> dict[str, str]:
        if value is None:
            return {}
        if isinstance(value, str):
            return {DEFAULT_LANGUAGE_KEY: value}
        result: dict[str, str] = {}
        for name, text in dict(value).items():
            code = language_code(str(name))
            if code is not None and text:
                result[code] = str(text)
        return result

    def walk(
        self,
        children: list[dict[str, Any]],
        relevance: tuple[str, ...],
        rows: dict[str, int],
        groups: tuple[str, ...] = (),
        repeat: str | None = None,
    ) -> Iterator[tuple[dict[str, Any], tuple[str, ...], tuple[str, ...], str | None]]:
        for child in children:
            kind = child.get("type")
            if kind == "loop":
                yield from self.walk(self.loop_groups(child, rows), relevance, rows, groups, repeat)
            elif kind in {"group", "repeat"}:
                if child.get("name") == "meta" and (child.get("control") or {}).get("bodyless"):
                    continue  # pyxform's generated instanceID, never asked
                name = str(child.get("name"))
                group_relevant = (child.get("bind") or {}).get("relevant")
                inner = (*relevance, str(group_relevant)) if group_relevant else relevance
                labels = self.texts(child.get("label"))
                inner_groups = groups
                if labels:
                    self.group_labels[name] = labels
                    inner_groups = (*groups, name)
                inner_repeat = name if kind == "repeat" else repeat
                yield from self.walk(
                    child.get("children") or [], inner, rows, inner_groups, inner_repeat
                )
                if kind == "repeat":
                    control = child.get("control") or {}
                    count = control.get("jr:count") or child.get("repeat_count")
                    marker = {
                        "type": "__repeat_end__",
                        "name": name,
                        "label": child.get("label"),
                        "repeat_count": count,
                    }
                    yield marker, inner, inner_groups, repeat
            else:
                yield child, relevance, groups, repeat

    def loop_groups(self, loop: dict[str, Any], rows: dict[str, int]) -> list[dict[str, Any]]:
        """pyxform's `begin loop over LIST`: one group per choice, `%(label)s` its label."""
        name = str(loop.get("name"))
        children = list(loop.get("children") or [])
        if any(child.get("type") in {"group", "repeat", "loop"} for child in children):
            self.problem(
                "survey",
                rows.get(name),
                f"begin loop over ... ({name}) holding a group is not supported: use a repeat",
            )
            return []
        groups = []
        for column in loop.get("columns") or []:
            labels = self.texts(column.get("label"))
            group = f"{name}_{column.get('name')}"
            inner = []
            for child in children:
                child_name = f"{group}_{child.get('name')}"
                rows.setdefault(child_name, rows.get(str(child.get("name")), 0))
                inner.append({**child, "name": child_name, "label": self.loop_label(child, labels)})
            groups.append(
                {
                    "type": "group",
                    "name": group,
                    "label": column.get("label"),
                    "bind": loop.get("bind") or {},  # the loop's own relevance
                    "children": inner,
                }
            )
        return groups

    def loop_label(self, child: dict[str, Any], labels: dict[str, str]) -> Any:
        """A loop question's label with `%(label)s` replaced by the choice's, per language."""
        label = child.get("label")
        fallback = next(iter(labels.values()), "")
        if isinstance(label, str):
            return label.replace("%(label)s", labels.get(DEFAULT_LANGUAGE_KEY, fallback))
        if isinstance(label, dict):
            return {
                language: str(text).replace(
                    "%(label)s", labels.get(language_code(str(language)) or "", fallback)
                )
                for language, text in label.items()
            }
        return label

    def expression(
        self, source: str, column: str, row: int, *, choice_columns: bool = False
    ) -> Expression | None:
        try:
            return parse_expression(source, allow_choice_columns=choice_columns)
        except ExpressionError as error:
            self.problem("survey", row, f"{column} {source!r}: {error}")
            return None

    def file_choices(self, node: dict[str, Any], row: int) -> tuple[list[dict[str, Any]], str]:
        """Choices of select_one_from_file: a CSV beside the form (ODK's `name`, `label`)."""
        file_name = str(node.get("itemset"))
        instance = Path(file_name).stem
        path = self.path.parent / file_name
        if not path.is_file() or path.suffix.lower() != ".csv":
            self.warn(
                "survey",
                row,
                f"{file_name} is not beside the form as a CSV: question '{node.get('name')}'"
                " has no choices and is skipped",
            )
            self.instances.setdefault(instance, ())
            return [], instance
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                records = [
                    {str(k).strip(): str(v or "").strip() for k, v in record.items() if k}
                    for record in csv.DictReader(handle)
                ]
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            self.problem("survey", row, f"{file_name} cannot be read: {error}")
            return [], instance
        self.instances[instance] = tuple(records)
        choices = []
        for record in records:
            labels = {k: v for k, v in record.items() if k == "label" or k.startswith("label::")}
            choices.append(
                {
                    **record,
                    "label": {
                        (k.partition("::")[2] or DEFAULT_LANGUAGE_KEY): v for k, v in labels.items()
                    },
                }
            )
        return choices, instance

    def question(
        self,
        node: dict[str, Any],
        relevance: tuple[str, ...],
        rows: dict[str, int],
        groups: tuple[str, ...] = (),
        repeat: str | None = None,
    ) -> Question | None:
        name = str(node.get("name"))
        row = rows.get(name, 0)
        if node.get("type") == "__repeat_end__":
            count_source = str(node.get("repeat_count") or "").strip()
            return Question(
                name=name,
                type=QuestionType.REPEAT,
                row=row,
                labels=self.texts(node.get("label")),
                relevant=tuple(
                    e for src in relevance if (e := self.expression(src, "relevant", row))
                ),
                repeat_count=self.expression(count_source, "repeat_count", row)
                if count_source
                else None,
                groups=groups,
                repeat=repeat,
            )
        kind = _PYXFORM_TYPES.get(str(node.get("type")))
        raw_choices: list[dict[str, Any]] = list(node.get("choices") or [])
        itemset_file = None
        itemset = str(node.get("itemset") or "")
        if node.get("type") == "select one external":
            raw_choices = [
                {**c, "label": self.texts(c.get("label")) or c.get("label")}
                for c in self.external.get(itemset, [])
            ]
        elif (
            kind is not None
            and not raw_choices
            and Path(itemset).suffix.lower()
            in {
                ".csv",
                ".geojson",
                ".xml",
            }
        ):
            raw_choices, itemset_file = self.file_choices(node, row)
        if str(node.get("type")) == "select all that apply" and itemset.endswith(".csv"):
            kind = QuestionType.SELECT_MULTIPLE
        if kind is None:
            if not any(p.sheet == "survey" and p.row == row for p in self.problems):
                reason = f"the question type '{node.get('type')}' is not supported"
                self.problem("survey", row, reason)
            return None
        bind = node.get("bind") or {}
        relevant = tuple(
            expr
            for source in (*relevance, bind.get("relevant"))
            if source
            for expr in [self.expression(str(source), "relevant", row)]
            if expr is not None
        )
        constraint = None
        constraint_source = bind.get("constraint") or _TYPE_CONSTRAINTS.get(str(node.get("type")))
        if constraint_source:
            constraint = self.expression(str(constraint_source), "constraint", row)
        calculation = None
        if bind.get("calculate") and kind is QuestionType.CALCULATE:
            calculation = self.expression(str(bind["calculate"]), "calculation", row)
        elif bind.get("calculate"):
            # On an asked question a calculation only proposes the answer: never a blocker.
            try:
                calculation = parse_expression(str(bind["calculate"]))
            except ExpressionError as error:
                self.warn("survey", row, f"calculation ignored: {error}")
        choice_filter = None
        if node.get("choice_filter"):
            choice_filter = self.expression(
                str(node["choice_filter"]), "choice_filter", row, choice_columns=True
            )
        choices = tuple(
            FormChoice(
                name=str(choice.get("name")),
                labels=self.texts(choice.get("label")),
                correct=bool(_parse_flag(str(choice.get("correct") or ""))),
                failure=bool(_parse_flag(str(choice.get("failure") or ""))),
                columns={
                    str(k): str(v)
                    for k, v in choice.items()
                    if k not in {"name", "label", "correct", "failure"}
                    and isinstance(v, str | int | float)
                },
            )
            for choice in raw_choices
            if str(choice.get("name") or "").strip()
        )
        required = bool(_parse_flag(str(bind.get("required") or "")))
        obligation = str(node.get("obligation") or "").strip() or None
        failure_if = None
        if node.get("failure_if"):
            failure_if = self.expression(str(node["failure_if"]), "failure_if", row)
        if (
            obligation is not None
            and kind in {QuestionType.SELECT_ONE, QuestionType.SELECT_MULTIPLE}
            and not any(choice.failure for choice in choices)
        ):
            self.problem(
                "survey", row, f"obligation '{obligation}': mark its failed choices failure = yes"
            )
        question = Question(
            name=name,
            type=kind,
            row=row,
            labels=self.texts(node.get("label")),
            hints=self.texts(node.get("hint")),
            required=required,
            required_messages=self.texts(bind.get("jr:requiredMsg")),
            constraint=constraint,
            constraint_messages=self.texts(bind.get("jr:constraintMsg")),
            relevant=relevant,
            calculation=calculation,
            choices=choices,
            choice_filter=choice_filter,
            max_photos=int(str(node.get("max_photos") or 1)),
            explanations=self.texts(node.get("explanation")),
            topic=str(node.get("topic") or "").strip() or None,
            obligation=obligation if obligation in OBLIGATION_CODES else None,
            failure_if=failure_if,
            default=_default_answer(node.get("default")),
            groups=groups,
            repeat=repeat,
            parameters={str(k): str(v) for k, v in dict(node.get("parameters") or {}).items()}
            if isinstance(node.get("parameters"), dict)
            else {},
            itemset_file=itemset_file,
        )
        if kind is QuestionType.METADATA:
            return replace(question, parameters={"meta": str(node.get("type"))})
        return question

    def check_references(self, questions: list[Question]) -> None:
        names = {q.name for q in questions}
        for question in questions:
            expressions = [("relevant", e) for e in question.relevant] + [
                (column, e)
                for column, e in (
                    ("constraint", question.constraint),
                    ("calculation", question.calculation),
                    ("choice_filter", question.choice_filter),
                    ("failure_if", question.failure_if),
                )
                if e is not None
            ]
            for column, expr in expressions:
                for missing in sorted(expr.references - names):
                    self.problem(
                        "survey", question.row, f"{column} refers to unknown ${{{missing}}}"
                    )
                if expr.uses_current and column not in {"constraint", "failure_if"}:
                    self.problem("survey", question.row, "'.' is only allowed in a constraint")
            if question.choice_filter is not None:
                known = {"name"} | {c for choice in question.choices for c in choice.columns}
                for column in sorted(question.choice_filter.choice_columns - known):
                    self.problem(
                        "survey",
                        question.row,
                        f"choice_filter uses unknown choice column '{column}'",
                    )
        self.check_cycles(questions)

    def check_cycles(self, questions: list[Question]) -> None:
        calculations = {q.name: q for q in questions if q.calculation is not None}
        visiting: set[str] = set()
        done: set[str] = set()

        def visit(name: str) -> bool:
            if name in done or name not in calculations:
                return True
            if name in visiting:
                return False
            visiting.add(name)
            calc = calculations[name].calculation
            ok = all(visit(ref) for ref in (calc.references if calc else ()))
            visiting.discard(name)
            done.add(name)
            return ok

        for name, question in calculations.items():
            if not visit(name):
                self.problem("survey", question.row, f"the calculation of {name} refers to itself")

    def load(self) -> Form:
        if self.path.suffix.lower() not in FORM_SUFFIXES:
            self.problem(None, None, f"forms must be {', '.join(sorted(FORM_SUFFIXES))} files")
            raise FormError(self.problems)
        try:
            raw = get_xlsform(str(self.path))
        except (PyXFormError, OSError, ValueError) as error:
            self.pyxform_problem(error)
            raise FormError(self.problems) from error
        rows = self.check_raw(raw)
        try:
            tree = parse_file_to_json(str(self.path), default_name=PYXFORM_FORM_NAME, warnings=[])
        except (PyXFormError, ValueError, KeyError) as error:
            self.pyxform_problem(error)
            raise FormError(self.problems) from error
        questions = [
            q
            for node, relevance, groups, repeat in self.walk(tree.get("children") or [], (), rows)
            if (q := self.question(node, relevance, rows, groups, repeat)) is not None
        ]
        self.check_references(questions)
        form = self.settings(tree, questions)
        if self.problems or form is None:
            raise FormError(self.problems + self.warnings)
        return form

    def settings(self, tree: dict[str, Any], questions: list[Question]) -> Form | None:
        settings_row = FIRST_DATA_ROW
        # form_id and version come from the settings or, as pyxform and KoBo do, the file.
        form_id = str(self.raw_settings.get("form_id") or "").strip() or self.path.stem
        version = str(self.raw_settings.get("version") or "").strip() or _file_version(self.path)
        kind_text = str(tree.get("kind") or "").strip().lower() or FormKind.CARD.value
        if kind_text not in {k.value for k in FormKind}:
            self.problem("settings", settings_row, "kind must be 'card' or 'quiz'")
        default_name = str(tree.get("default_language") or DEFAULT_LANGUAGE_KEY)
        default_language = language_code(default_name)
        if default_language is None:
            self.problem(
                "settings", settings_row, f"default_language '{default_name}' needs a code"
            )
        space_question = str(tree.get("space_question") or "").strip() or None
        if space_question is not None and not any(
            q.name == space_question and q.type is QuestionType.GEOPOINT for q in questions
        ):
            self.problem(
                "settings", settings_row, f"space_question '{space_question}' is not a geopoint"
            )
        if not any(q.asks for q in questions):
            self.problem("survey", None, "the form asks no questions")
        if kind_text == FormKind.QUIZ and not any(q.scored for q in questions):
            self.problem("choices", None, "a quiz needs choices marked correct")
        if kind_text == FormKind.QUIZ:
            for question in questions:
                if question.obligation is not None:
                    self.problem("survey", question.row, "obligations belong on cards, not quizzes")
        if self.problems:
            return None
        languages = sorted({lang for q in questions for lang in q.labels})
        return Form(
            form_id=form_id,
            version=version,
            kind=FormKind(kind_text),
            title=str(tree.get("title") or form_id),
            default_language=default_language or DEFAULT_LANGUAGE_KEY,
            questions=tuple(questions),
            source=str(self.path),
            service=str(tree.get("service") or "").strip() or None,
            space_question=space_question,
            languages=tuple(languages),
            titles={
                match.group(1): str(value)
                for key, value in tree.items()
                if (match := _TITLE_COLUMN.fullmatch(str(key))) and value
            },
            group_labels=self.group_labels,
            instances=self.instances,
            warnings=tuple(ordered_problems(self.warnings)),
        )


def _default_answer(value: Any) -> str | None:
    """A literal `default` is the proposed answer; ODK's `${last-saved#...}` has no meaning here."""
    text = str(value or "").strip()
    if not text or "${" in text:
        return None
    return text


def _file_version(path: Path) -> str:
    """The file's modification day, like KoBo's generated versions, when settings give none."""
    try:
        return f"file-{int(path.stat().st_mtime)}"
    except OSError:
        return "1"


def load_form(path: Path | str) -> Form:
    """Load and validate one XLSForm file, or raise `FormError` listing every problem."""
    return _Loader(Path(path)).load()
