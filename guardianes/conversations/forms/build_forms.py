"""Rebuild the shipped XLSForm spreadsheets from their definitions, one .toml beside each.

Staff edit the .xlsx files directly; developers change the .toml files and run
`python -m guardianes.conversations.forms.build_forms` so the spreadsheets stay reproducible.
A test checks that the committed .xlsx files say what these definitions say.

Conventions (see `guardianes.conversations.xlsform`): settings `kind` (card | quiz),
`service`, `space_question`, `title_en`; survey `max_photos`, `obligation`, `failure_if`;
choices `correct`, `failure`.

A .toml holds `[settings]`, `[[survey]]` rows (bilingual columns as `label.es`/`label.en`,
a message by its `MESSAGES` name, or `shared = "comment"`), `shared_choices` by list name and
local `[choices.<list>]`; the quiz adds `[[questions]]` with `options = [[es, en, correct]]`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

FORMS_DIR = Path(__file__).resolve().parent
ES = "Español (es)"
EN = "English (en)"
DEFAULT_LANGUAGE = ES
SURVEY_COLUMNS = (
    "type",
    "name",
    f"label::{ES}",
    f"label::{EN}",
    f"hint::{ES}",
    f"hint::{EN}",
    "required",
    f"required_message::{ES}",
    f"required_message::{EN}",
    "constraint",
    f"constraint_message::{ES}",
    f"constraint_message::{EN}",
    "relevant",
    "calculation",
    "choice_filter",
    "max_photos",
    "obligation",
    "failure_if",
)
# The quiz also carries, per question, the reason of its right answer and its course topic.
QUIZ_SURVEY_COLUMNS = (*SURVEY_COLUMNS, f"explanation::{ES}", f"explanation::{EN}", "topic")
CHOICE_COLUMNS = ("list_name", "name", f"label::{ES}", f"label::{EN}", "correct", "failure")
SETTINGS_COLUMNS = (
    "form_id",
    "version",
    "form_title",
    "title_en",
    "default_language",
    "kind",
    "service",
    "space_question",
)
# Fixed workbook timestamps so rebuilding unchanged forms changes no cell metadata.
_FIXED_TIME = datetime(2026, 11, 1)

Row = dict[str, Any]


def choices(
    list_name: str,
    *items: Sequence[Any],
    failures: Sequence[str] = (),
) -> list[Row]:
    """Choice rows (name, es, en[, correct]); a true fourth item marks a quiz question's answer.

    `failures` names the choices that mean a contract obligation failed (column `failure`).
    """
    return [
        {
            "list_name": list_name,
            "name": item[0],
            f"label::{ES}": item[1],
            f"label::{EN}": item[2],
            "correct": "yes" if len(item) > 3 and item[3] else None,
            "failure": "yes" if item[0] in failures else None,
        }
        for item in items
    ]


# What the definitions share: a message (by name), a choice list (by list name), a survey row.
MESSAGES = {
    "required": {"es": "Esta pregunta es obligatoria.", "en": "This question is required."},
    "not_future": {"es": "La fecha no puede ser futura.", "en": "The date can't be in the future."},
    "count_range": {"es": "Escribe un número de 0 a 100.", "en": "Type a number from 0 to 100."},
}
_YES_NO = (("si", "Sí", "Yes"), ("no", "No", "No"))
SHARED_CHOICES = {
    "si_no": choices("si_no", *_YES_NO),
    # Obligation yes/no lists: "no" fails a duty done ("¿está podado?"), "sí" reports a problem.
    "cumple": choices("cumple", *_YES_NO, failures=("no",)),
    "hay_problema": choices("hay_problema", *_YES_NO, failures=("si",)),
    "estado": choices(
        "estado",
        ("bien", "Bien", "Good"),
        ("regular", "Regular", "Fair"),
        ("mal", "Mal", "Poor"),
        ("no_hay", "No hay", "There is none"),
        failures=("mal",),
    ),
    "calificacion": choices(
        "calificacion",
        ("1", "1 - Muy mal", "1 - Very poor"),
        ("2", "2 - Mal", "2 - Poor"),
        ("3", "3 - Regular", "3 - Fair"),
        ("4", "4 - Bien", "4 - Good"),
        ("5", "5 - Muy bien", "5 - Very good"),
    ),
}
SHARED_ROWS = {
    "comment": {
        "type": "text",
        "name": "comentario",
        "label": {
            "es": "¿Algo más que quieras contarnos?",
            "en": "Anything else you want to tell us?",
        },
    },
}


def survey_row(entry: dict[str, Any]) -> Row:
    """A survey row from its definition; a bilingual column is {es, en} or a `MESSAGES` name."""
    entry = SHARED_ROWS[entry["shared"]] if "shared" in entry else entry
    row: Row = {}
    for key, given in entry.items():
        value = MESSAGES[given] if isinstance(given, str) and key.endswith("_message") else given
        if isinstance(value, dict):
            row[f"{key}::{ES}"], row[f"{key}::{EN}"] = value["es"], value["en"]
        else:
            row[key] = value
    return row


def _quiz(questions: list[dict[str, Any]]) -> tuple[list[Row], list[Row]]:
    """Survey and choice rows of the quiz questions p01, p02, …, each its own choice list."""
    rows: list[Row] = []
    lists: list[Row] = []
    for number, question in enumerate(questions, start=1):
        name = f"p{number:02d}"
        kind = "select_multiple" if question.get("multiple") else "select_one"
        entry = {"type": f"{kind} {name}", "name": name, "label": question["label"]}
        entry |= {"required": "yes", "explanation": question["why"], "topic": question["topic"]}
        rows.append(survey_row(entry))
        options = question["options"]
        lists += choices(name, *((chr(ord("a") + i), *o) for i, o in enumerate(options)))
    answered = " + ".join(f"if(${{{row['name']}}} != '', 1, 0)" for row in rows)
    rows.append({"type": "calculate", "name": "respondidas", "calculation": answered})
    return rows, lists


def load_definition(path: Path) -> dict[str, Any]:
    """One form's definition, as `write_form` takes it, from its .toml file."""
    with path.open("rb") as file:
        data = tomllib.load(file)
    settings = {"default_language": DEFAULT_LANGUAGE, **data["settings"]}
    survey = [survey_row(entry) for entry in data["survey"]]
    lists = [row for name in data.get("shared_choices", ()) for row in SHARED_CHOICES[name]]
    for name, choice_list in data.get("choices", {}).items():
        lists += choices(name, *choice_list["items"], failures=choice_list.get("failures", ()))
    definition = {"file": f"{path.stem}.xlsx", "settings": settings}
    if settings["kind"] == "quiz":
        rows, answers = _quiz(data["questions"])
        survey += rows
        lists += answers
        definition["survey_columns"] = QUIZ_SURVEY_COLUMNS
    return definition | {"survey": survey, "choices": lists}


FORMS: tuple[dict[str, Any], ...] = tuple(
    load_definition(FORMS_DIR / f"{name}.toml")
    for name in (
        "tarjeta_parques",
        "tarjeta_basura",
        "tarjeta_alumbrado",
        "cuestionario_capacitacion",
    )
)


def write_form(definition: dict[str, Any], folder: Path = FORMS_DIR) -> Path:
    """Write one definition as an .xlsx workbook."""
    # openpyxl is a pyxform dependency; imported here so the engine never loads it.
    from openpyxl import Workbook  # type: ignore[import-untyped]  # ships no type hints

    workbook = Workbook()
    workbook.properties.created = _FIXED_TIME
    workbook.properties.modified = _FIXED_TIME
    workbook.properties.creator = "guardianes"
    sheets = (
        ("survey", definition.get("survey_columns", SURVEY_COLUMNS), definition["survey"]),
        ("choices", CHOICE_COLUMNS, definition["choices"]),
        ("settings", SETTINGS_COLUMNS, [definition["settings"]]),
    )
    first = workbook.active
    assert first is not None
    workbook.remove(first)
    for title, columns, rows in sheets:
        sheet = workbook.create_sheet(title)
        sheet.append(list(columns))
        for row in rows:
            sheet.append([row.get(column) or None for column in columns])
        sheet.freeze_panes = "A2"
    path = folder / str(definition["file"])
    workbook.save(path)
    return path


def main() -> None:
    """Rebuild every shipped form."""
    for definition in FORMS:
        print(write_form(definition))


if __name__ == "__main__":
    main()
