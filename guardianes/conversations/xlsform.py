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

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from pyxform.errors import PyXFormError
from pyxform.xls2json import parse_file_to_json
from pyxform.xls2json_backends import get_xlsform

from guardianes.conversations.expressions import Expression, ExpressionError, parse_expression
from guardianes.conversations.obligations import OBLIGATION_CODES

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
    | frozenset({"max_photos", "topic", "obligation", "failure_if"})
)
_SETTINGS_COLUMNS = frozenset(
    {"form_id", "version", "default_language", "form_title", "kind", "service", "space_question"}
)
_CHOICE_MEDIA_COLUMNS = frozenset({"image", "audio", "video", "big-image", "media"})
_TRUE_WORDS = frozenset({"yes", "true", "true()", "1", "y", "sí", "si", "x"})
_FALSE_WORDS = frozenset({"no", "false", "false()", "0", "n", ""})
_LANGUAGE_CODE = re.compile(r"\(\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)?\s*\)\s*$")
_KNOWN_LANGUAGE_NAMES = {"spanish": "es", "español": "es", "english": "en", "inglés": "en"}
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
}


class FormKind(StrEnum):
    """A card is a surveillance report; a quiz is scored."""

    CARD = "card"
    QUIZ = "quiz"


@dataclass(frozen=True, slots=True)
class FormProblem:
    """One reason a form was refused."""

    file: str
    sheet: str | None
    row: int | None
    reason: str

    def __str__(self) -> str:
        where = self.file
        if self.sheet:
            where += f", sheet {self.sheet}"
        if self.row:
            where += f", row {self.row}"
        return f"{where}: {self.reason}"


class FormError(Exception):
    """A form the engine refuses, with every problem found (not just the first)."""

    def __init__(self, problems: list[FormProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


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

    @property
    def scored(self) -> bool:
        """A quiz question is scored when its choice list marks a correct answer."""
        return any(choice.correct for choice in self.choices)

    @property
    def asks(self) -> bool:
        """Notes and calculations never wait for an answer."""
        return self.type not in {QuestionType.NOTE, QuestionType.CALCULATE}


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


def _split_column(header: str) -> tuple[str, str | None]:
    base, _, language = header.partition("::")
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
        for row_number, row in enumerate(raw.survey or [], start=FIRST_DATA_ROW):
            for header in row:
                base, language = _split_column(str(header))
                if base not in _SURVEY_COLUMNS:
                    self.problem("survey", row_number, f"the column '{header}' is not supported")
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
                    self.problem("choices", row_number, f"the column '{header}' is not supported")
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
        for row_number, row in enumerate(raw.settings or [], start=FIRST_DATA_ROW):
            for header in row:
                base = _split_column(str(header))[0]
                if base not in _SETTINGS_COLUMNS and not _TITLE_COLUMN.fullmatch(base):
                    self.problem("settings", row_number, f"the setting '{header}' is not supported")
        for sheet in ("entities", "external_choices", "osm"):
            if getattr(raw, sheet, None):
                self.problem(sheet, None, f"the '{sheet}' sheet is not supported")
        return rows_by_name

    def check_raw_type(self, row: Mapping[str, Any], row_number: int) -> None:
        raw_type = " ".join(str(row.get("type") or "").split())
        if not raw_type:
            return  # blank rows are fine; pyxform reports rows with content but no type
        words = raw_type.replace("begin group", "begin_group").replace("end group", "end_group")
        parts = words.split()
        base = parts[0].lower().replace(" ", "_")
        if base not in _RAW_TYPES:
            self.problem("survey", row_number, f"the question type '{raw_type}' is not supported")
            return
        if base in {"select_one", "select_multiple"} and len(parts) != 2:
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
            self.problem("survey", row_number, f"required must be yes or no, not {required!r}")
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
        self, children: list[dict[str, Any]], relevance: tuple[str, ...], rows: dict[str, int]
    ) -> Iterator[tuple[dict[str, Any], tuple[str, ...]]]:
        for child in children:
            if child.get("type") == "group":
                if child.get("name") == "meta" and (child.get("control") or {}).get("bodyless"):
                    continue  # pyxform's generated instanceID, never asked
                group_relevant = (child.get("bind") or {}).get("relevant")
                inner = (*relevance, str(group_relevant)) if group_relevant else relevance
                yield from self.walk(child.get("children") or [], inner, rows)
            elif child.get("type") == "repeat":
                self.problem(
                    "survey", rows.get(str(child.get("name"))), "repeats are not supported"
                )
            else:
                yield child, relevance

    def expression(
        self, source: str, column: str, row: int, *, choice_columns: bool = False
    ) -> Expression | None:
        try:
            return parse_expression(source, allow_choice_columns=choice_columns)
        except ExpressionError as error:
            self.problem("survey", row, f"{column} {source!r}: {error}")
            return None

    def question(
        self, node: dict[str, Any], relevance: tuple[str, ...], rows: dict[str, int]
    ) -> Question | None:
        name = str(node.get("name"))
        row = rows.get(name, 0)
        kind = _PYXFORM_TYPES.get(str(node.get("type")))
        if kind is None:
            self.problem("survey", row, f"the question type '{node.get('type')}' is not supported")
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
        if bind.get("constraint"):
            constraint = self.expression(str(bind["constraint"]), "constraint", row)
        calculation = None
        if bind.get("calculate"):
            calculation = self.expression(str(bind["calculate"]), "calculation", row)
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
                    if k not in {"name", "label", "correct", "failure"} and isinstance(v, str)
                },
            )
            for choice in node.get("choices") or []
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
        return Question(
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
        )

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
            for node, relevance in self.walk(tree.get("children") or [], (), rows)
            if (q := self.question(node, relevance, rows)) is not None
        ]
        self.check_references(questions)
        form = self.settings(tree, questions)
        if self.problems or form is None:
            raise FormError(self.problems)
        return form

    def settings(self, tree: dict[str, Any], questions: list[Question]) -> Form | None:
        settings_row = FIRST_DATA_ROW
        form_id = str(tree.get("id_string") or "").strip()
        version = str(tree.get("version") or "").strip()
        if not str(self.raw_settings.get("form_id") or "").strip():
            self.problem("settings", settings_row, "form_id is required")
        if not version or not str(self.raw_settings.get("version") or "").strip():
            self.problem("settings", settings_row, "version is required")
        kind_text = str(tree.get("kind") or "").strip().lower()
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
        )


def load_form(path: Path | str) -> Form:
    """Load and validate one XLSForm file, or raise `FormError` listing every problem."""
    return _Loader(Path(path)).load()
