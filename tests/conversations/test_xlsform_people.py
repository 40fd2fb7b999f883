"""XLSForm features people use (issue 15): defaults, notes, headings, repeats, typed types."""

from __future__ import annotations

from datetime import date

import pytest

from guardianes.conversations.context import SaveSubmission
from guardianes.conversations.expressions import Environment, evaluate, parse_expression
from guardianes.conversations.messages import Command
from guardianes.conversations.xlsform import load_form

from .conftest import Chat, FakeGazetteer, catalog_of, write_form

SETTINGS = "| settings |\n| | form_id | version |\n| | f | 1 |\n"


def started(tmp_path, text: str, gazetteer: FakeGazetteer, guardian) -> Chat:
    form = load_form(write_form(tmp_path, text + SETTINGS))
    chat = Chat(catalog=catalog_of(form), gazetteer=gazetteer, guardian=guardian)
    chat.command(Command.MENU)
    chat.text("1")
    chat.text("1")
    return chat


def saved(chat: Chat) -> dict:
    [submission] = [e for e in chat.effects if isinstance(e, SaveSubmission)]
    return dict(submission.answers)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("concat('a', 1, 'b')", "a1b"),
        ("coalesce('', 'x')", "x"),
        ("selected-at('a b c', 2)", "c"),
        ("round(2.345, 2)", 2.35),
        ("int(7.9)", 7.0),
        ("number('4') + 1", 5.0),
        ("string-length(concat('ab', 'c'))", 3.0),
        ("format-date('2026-11-28', '%d/%m/%Y')", "28/11/2026"),
        ("if(1 > 2, 'y', 'n')", "n"),
        ("once(today())", "2026-11-28"),
    ],
)
def test_the_xpath_functions_kobo_forms_use(source, expected):
    env = Environment(lookup=lambda _: "", today=date(2026, 11, 28))
    assert evaluate(parse_expression(source), env) == expected


def test_a_note_shows_answers_and_plain_text(tmp_path, gazetteer, guardian):
    chat = started(
        tmp_path,
        "| survey |\n| | type | name | label |\n| | text | n | Nombre |\n"
        "| | note | hi | <b>Hola</b> ${n} &amp; bienvenida |\n| | text | x | X |\n",
        gazetteer,
        guardian,
    )
    chat.text("Ana")
    assert "Hola Ana & bienvenida" in chat.texts()


def test_a_group_label_is_a_heading_once(tmp_path, gazetteer, guardian):
    chat = started(
        tmp_path,
        "| survey |\n| | type | name | label | appearance |\n"
        "| | begin_group | g | Datos | field-list |\n| | text | a | A | |\n| | text | b | B | |\n"
        "| | end_group | | | |\n",
        gazetteer,
        guardian,
    )
    assert chat.last.text.startswith("▸ Datos\nA")
    chat.text("uno")
    assert chat.last.text.startswith("B")


def test_the_default_is_offered_and_taken(tmp_path, gazetteer, guardian):
    chat = started(
        tmp_path,
        "| survey |\n| | type | name | label | default |\n| | integer | n | N | 4 |\n",
        gazetteer,
        guardian,
    )
    chat.press("Usar: 4")
    assert saved(chat)["n"] == 4


def test_a_repeat_with_a_count_asks_that_many_rounds(tmp_path, gazetteer, guardian):
    chat = started(
        tmp_path,
        "| survey |\n| | type | name | label | repeat_count |\n| | integer | k | K | |\n"
        "| | begin_repeat | r | R | ${k} |\n| | text | t | T | |\n| | end_repeat | | | |\n",
        gazetteer,
        guardian,
    )
    chat.text("2")
    chat.text("uno")
    chat.text("dos")
    assert saved(chat)["r"] == [{"t": "uno"}, {"t": "dos"}]


def test_time_range_and_rank_are_typed(tmp_path, gazetteer, guardian):
    chat = started(
        tmp_path,
        "| survey |\n| | type | name | label | parameters |\n| | time | h | Hora | |\n"
        "| | range | r | Rango | start=1 end=5 step=1 |\n| | rank o | o | Orden | |\n"
        "| choices |\n| | list_name | name | label |\n| | o | a | A |\n| | o | b | B |\n",
        gazetteer,
        guardian,
    )
    chat.text("9.05")
    chat.text("7")
    assert "del 1 al 5" in chat.texts()
    chat.text("3")
    chat.text("2 1")
    answers = saved(chat)
    assert (answers["h"], answers["r"], answers["o"]) == ("09:05", 3, "b a")
