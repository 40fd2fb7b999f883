"""Loading XLSForms: what is accepted, how it is read, and refusals with row numbers."""

from __future__ import annotations

import csv

import pytest
from openpyxl import load_workbook

from guardianes.conversations.forms import build_forms
from guardianes.conversations.xlsform import FormError, QuestionType, load_form
from guardianes.domain.enums import FormKind

from .conftest import form_file, write_form

SETTINGS = """| settings |
| | form_id | version | kind |
| | f | 1 | card |
"""


def refusal(tmp_path, text):
    with pytest.raises(FormError) as error:
        load_form(write_form(tmp_path, text))
    return error.value.problems


def test_every_supported_type_loads_with_its_row_number():
    form = load_form(form_file("all_types.md"))
    types = {q.name: (q.type, q.row) for q in form.questions}
    assert types["nombre"] == (QuestionType.TEXT, 3)
    assert types["edad"][0] is QuestionType.INTEGER
    assert types["metros"][0] is QuestionType.DECIMAL
    assert types["fecha"][0] is QuestionType.DATE
    assert types["zona"][0] is QuestionType.SELECT_ONE
    assert types["problemas"][0] is QuestionType.SELECT_MULTIPLE
    assert types["lugar"][0] is QuestionType.GEOPOINT
    assert types["fotos"][0] is QuestionType.IMAGE
    assert types["intro"][0] is QuestionType.NOTE
    assert types["doble"][0] is QuestionType.CALCULATE


def test_settings_give_id_version_kind_service_and_titles():
    form = load_form(form_file("all_types.md"))
    assert (form.form_id, form.version, form.kind) == ("prueba_tipos", "3", FormKind.CARD)
    assert form.service == "green_space_maintenance"
    assert form.default_language == "es"
    assert form.localized_title("en") == "Types test"
    assert form.localized_title("es") == "Prueba de tipos"


def test_groups_are_flattened_and_keep_their_relevance():
    form = load_form(form_file("all_types.md"))
    bolsas = form.question("bolsas")
    assert [e.source for e in bolsas.relevant] == ["selected(${problemas}, 'basura')"]
    assert "detalle" not in {q.name for q in form.questions}


def test_multilingual_labels_fall_back_to_the_default_language():
    form = load_form(form_file("all_types.md"))
    assert form.text(form.question("nombre").labels, "en") == "Place name"
    assert form.text(form.question("solo_es").labels, "en") == "Solo español"
    assert form.text(form.question("metros").constraint_messages, "en") == "Debe ser positivo"


def test_max_photos_column_sets_the_photo_limit():
    form = load_form(form_file("all_types.md"))
    assert form.question("fotos").max_photos == 3


def test_image_without_max_photos_takes_one_photo(tmp_path):
    form = load_form(
        write_form(
            tmp_path, "| survey |\n| | type | name | label |\n| | image | f | Foto |\n" + SETTINGS
        )
    )
    assert form.question("f").max_photos == 1


def test_choice_filter_columns_and_correct_marks_are_kept():
    quiz = load_form(build_forms.FORMS_DIR / "cuestionario_capacitacion.xlsx")
    first = quiz.question("p01")
    assert [c.correct for c in first.choices] == [False, True, False]
    parque = load_form(form_file("all_types.md")).question("parque")
    assert parque.choices[0].columns == {"zona": "norte"}


def test_unsupported_type_is_refused_with_its_row(tmp_path):
    problems = refusal(
        tmp_path,
        "| survey |\n| | type | name | label |\n| | text | a | A |\n| | geotrace | b | B |\n"
        + SETTINGS,
    )
    assert [(p.sheet, p.row) for p in problems] == [("survey", 3)]
    assert "geotrace" in problems[0].reason


def test_a_repeat_loads_with_its_end_marker(tmp_path):
    form = load_form(
        write_form(
            tmp_path,
            "| survey |\n| | type | name | label |\n| | begin_repeat | r | R |\n"
            "| | text | a | A |\n| | end_repeat | | |\n" + SETTINGS,
        )
    )
    assert [(q.name, q.type, q.repeat) for q in form.questions] == [
        ("a", QuestionType.TEXT, "r"),
        ("r", QuestionType.REPEAT, None),
    ]


def test_presentation_columns_are_one_warning_not_a_refusal(tmp_path):
    form = load_form(
        write_form(
            tmp_path,
            "| survey |\n| | type | name | label | appearance | guidance_hint |\n"
            "| | text | a | A | | |\n| | text | b | B | multiline | x |\n" + SETTINGS,
        )
    )
    assert [w.reason for w in form.warnings] == [
        "ignored presentation columns: survey appearance, guidance_hint"
    ]


def test_unsupported_function_is_refused_with_row_and_column(tmp_path):
    problems = refusal(
        tmp_path,
        "| survey |\n| | type | name | label | relevant |\n| | text | a | A | |\n"
        "| | text | b | B | pulldata('x') > 3 |\n" + SETTINGS,
    )
    assert problems[0].row == 3
    assert "relevant" in problems[0].reason and "pulldata()" in problems[0].reason


def test_reference_to_an_unknown_question_is_refused(tmp_path):
    problems = refusal(
        tmp_path,
        "| survey |\n| | type | name | label | constraint |\n| | integer | a | A | . < ${nada} |\n"
        + SETTINGS,
    )
    assert any(p.row == 2 and "nada" in p.reason for p in problems)


def test_every_problem_is_reported_at_once(tmp_path):
    problems = refusal(
        tmp_path,
        "| survey |\n| | type | name | label | relevant | max_photos |\n"
        "| | geoshape | a | A | | |\n| | text | b | B | jr:foo(1) | |\n| | text | c | C | | 3 |\n"
        "| settings |\n| | form_id | version | kind | style |\n| | f | 1 | poll | pages |\n",
    )
    where = {(p.sheet, p.row) for p in problems}
    assert {("survey", 2), ("survey", 3), ("survey", 4), ("settings", 2)} <= where
    assert any("kind must be" in p.reason for p in problems)


def test_blockers_come_before_warnings_each_once(tmp_path):
    problems = refusal(
        tmp_path,
        "| survey |\n| | type | name | label | appearance |\n| | geotrace | a | A | x |\n"
        "| | text | t | T | |\n| | geotrace | b | B | y |\n" + SETTINGS,
    )
    assert [(p.row, p.warning) for p in problems] == [(2, False), (None, True)]
    assert problems[0].reason.endswith("(also rows 4)")


def test_missing_form_id_version_and_kind_default_from_the_file(tmp_path):
    form = load_form(
        write_form(
            tmp_path, "| survey |\n| | type | name | label |\n| | text | a | A |\n", "mi_forma.md"
        )
    )
    assert form.form_id == "mi_forma"
    assert form.kind is FormKind.CARD
    assert form.version


def test_quiz_without_correct_answers_is_refused(tmp_path):
    problems = refusal(
        tmp_path,
        "| survey |\n| | type | name | label |\n| | select_one l | a | A |\n"
        "| choices |\n| | list_name | name | label |\n| | l | x | X |\n"
        "| settings |\n| | form_id | version | kind |\n| | q | 1 | quiz |\n",
    )
    assert any("marked correct" in p.reason for p in problems)


def test_calculation_cycle_is_refused(tmp_path):
    problems = refusal(
        tmp_path,
        "| survey |\n| | type | name | label | calculation |\n| | text | t | T | |\n"
        "| | calculate | a | | ${b} + 1 |\n| | calculate | b | | ${a} + 1 |\n" + SETTINGS,
    )
    assert any("refers to itself" in p.reason for p in problems)


def test_pyxform_errors_become_problems_with_rows(tmp_path):
    problems = refusal(
        tmp_path,
        "| survey |\n| | type | name | label |\n| | text | a | A |\n| | text | a | B |\n"
        + SETTINGS,
    )
    assert problems and problems[0].row == 3


def test_question_named_data_does_not_collide_with_the_form_root(tmp_path):
    form = load_form(
        write_form(
            tmp_path, "| survey |\n| | type | name | label |\n| | text | data | D |\n" + SETTINGS
        )
    )
    assert form.question("data").type is QuestionType.TEXT


def test_csv_forms_load(tmp_path):
    path = tmp_path / "form.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerows(
            [
                ["survey", "type", "name", "label"],
                ["", "integer", "n", "N"],
                ["settings", "form_id", "version", "kind"],
                ["", "csvform", "1", "card"],
            ]
        )
    assert load_form(path).form_id == "csvform"


def test_other_file_types_are_refused(tmp_path):
    path = tmp_path / "form.txt"
    path.write_text("hello")
    with pytest.raises(FormError):
        load_form(path)


def test_shipped_forms_are_the_four_programme_forms(shipped):
    cards = {f.form_id: f.service for f in shipped.cards()}
    assert cards == {
        "tarjeta_parques": "green_space_maintenance",
        "tarjeta_basura": "garbage_collection",
        "tarjeta_alumbrado": "street_lighting",
    }
    (quiz,) = shipped.quizzes()
    assert sum(q.scored for q in quiz.questions) >= 12
    assert shipped.get("tarjeta_parques").space_question == "ubicacion"


@pytest.mark.parametrize("definition", build_forms.FORMS, ids=lambda d: d["file"])
def test_shipped_spreadsheets_match_build_forms(definition):
    workbook = load_workbook(build_forms.FORMS_DIR / definition["file"], read_only=True)
    rows = {
        sheet: [list(r) for r in workbook[sheet].iter_rows(values_only=True)]
        for sheet in ("survey", "choices", "settings")
    }
    assert rows["settings"][1] == [
        definition["settings"].get(c) for c in build_forms.SETTINGS_COLUMNS
    ]
    assert len(rows["survey"]) == len(definition["survey"]) + 1
    assert [r[1] for r in rows["survey"][1:]] == [
        row.get("name") or None for row in definition["survey"]
    ]
    assert len(rows["choices"]) == len(definition["choices"]) + 1
