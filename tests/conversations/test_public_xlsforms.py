"""The published XLSForms of ../shared/data/xlsforms run in the engine from first to last question.

Forms written by others (HOT field mapping, a Mozambican land-rights programme), read from
../shared/data as published. `bench.xlsform_driver` answers each question as a careful
guardian would; every form pyxform accepts ends in a saved card, the one it refuses is
refused with its row.
"""

from __future__ import annotations

import pytest

from bench.xlsform_driver import public_forms
from guardianes.conversations.xlsform import FormError, QuestionType, load_form

from .conftest import Chat, FakeGazetteer, catalog_of, fill

RUNNABLE = [p for p in public_forms() if not p.name.startswith("invalid_")]


@pytest.mark.parametrize("path", RUNNABLE, ids=lambda p: p.name)
def test_a_published_form_runs_from_first_to_last_question(path, gazetteer, guardian):
    chat = Chat(catalog=catalog_of(load_form(path)), gazetteer=gazetteer, guardian=guardian)
    submission = fill(chat, path)
    form = load_form(path)
    assert submission.form_id == form.form_id
    asked = [q for q in form.questions if q.asks and q.name in submission.answers]
    assert asked, "no question was answered"


def test_the_form_pyxform_refuses_is_refused_with_its_row():
    with pytest.raises(FormError) as error:
        load_form(next(p for p in public_forms() if p.name == "invalid_hot_health.xls"))
    [problem] = error.value.problems
    assert (problem.sheet, problem.row) == ("choices", 8)
    assert "yes_no" in problem.reason


def test_metadata_rows_are_filled_not_asked(gazetteer: FakeGazetteer, guardian):
    path = next(p for p in RUNNABLE if p.name == "hot_solidwaste.xlsx")
    chat = Chat(catalog=catalog_of(load_form(path)), gazetteer=gazetteer, guardian=guardian)
    answers = fill(chat, path).answers
    assert answers["today"] == chat.now.date().isoformat()
    assert answers["start"] and answers["end"]
    assert answers["deviceid"] == ""


def test_a_repeat_without_count_asks_to_add_another(gazetteer: FakeGazetteer, guardian):
    path = next(p for p in RUNNABLE if p.name == "legend_LEGEND_A2_limites_povoados.xlsx")
    form = load_form(path)
    assert form.question("pontos_pov").type is QuestionType.REPEAT
    chat = Chat(catalog=catalog_of(form), gazetteer=gazetteer, guardian=guardian)
    answers = fill(chat, path).answers
    assert len(answers["pontos_pov"]) == 2
    assert answers["pontos_pov"][0]["auto_gps"]["latitude"] == 28.6353
