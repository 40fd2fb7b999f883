"""Obligations on cards: tagging questions in the XLSForm, refusals, and reading failures."""

from __future__ import annotations

from datetime import date

import pytest

from guardianes.conversations.obligations import (
    ObligationRule,
    failed_obligations,
    findings_from_rules,
    obligation_rules,
)
from guardianes.conversations.xlsform import FormError, load_form

from .conftest import write_form

SETTINGS = """| settings |
| | form_id | version | kind | service |
| | parque | 1 | card | green_space_maintenance |
"""
CARD = (
    """| survey |
| | type | name | label | obligation | failure_if |
| | select_one cumple | poda | ¿Está podado? | mowing | |
| | integer | lamparas | ¿Cuántas apagadas? | lighting | . > 0 |
| | text | nota | Nota | | |
| choices |
| | list_name | name | label | failure |
| | cumple | si | Sí | |
| | cumple | no | No | yes |
"""
    + SETTINGS
)


def refusal(tmp_path, text: str) -> list[str]:
    with pytest.raises(FormError) as error:
        load_form(write_form(tmp_path, text))
    return [str(problem) for problem in error.value.problems]


def test_a_tagged_question_carries_its_obligation_and_failed_choices(tmp_path) -> None:
    form = load_form(write_form(tmp_path, CARD))
    assert form.question("poda").obligation == "mowing"
    assert [c.failure for c in form.question("poda").choices] == [False, True]
    assert form.question("lamparas").failure_if is not None
    assert form.question("nota").obligation is None


def test_an_unknown_obligation_code_is_refused_with_its_row(tmp_path) -> None:
    problems = refusal(tmp_path, CARD.replace("| mowing |", "| podar |"))
    assert any("row 2" in p and "unknown obligation 'podar'" in p for p in problems)


def test_a_select_obligation_without_failed_choices_is_refused(tmp_path) -> None:
    problems = refusal(tmp_path, CARD.replace("| No | yes |", "| No | |"))
    assert any("mark its failed choices failure = yes" in p for p in problems)


def test_a_number_obligation_needs_failure_if(tmp_path) -> None:
    problems = refusal(tmp_path, CARD.replace("| . > 0 |", "| |"))
    assert any("row 3" in p and "needs failure_if" in p for p in problems)


def test_failure_if_without_an_obligation_is_refused(tmp_path) -> None:
    problems = refusal(tmp_path, CARD.replace("| Nota | | |", "| Nota | | . > 0 |"))
    assert any("row 4" in p and "failure_if needs an obligation" in p for p in problems)


def test_a_quiz_cannot_carry_obligations(tmp_path) -> None:
    quiz = """| survey |
| | type | name | label | obligation |
| | select_one cumple | poda | ¿Está podado? | mowing |
| choices |
| | list_name | name | label | failure | correct |
| | cumple | si | Sí | | yes |
| | cumple | no | No | yes | |
| settings |
| | form_id | version | kind |
| | examen | 1 | quiz |
"""
    problems = refusal(tmp_path, quiz)
    assert any("obligations belong on cards" in p for p in problems)


def test_failed_obligations_reads_choices_and_numbers(tmp_path) -> None:
    form = load_form(write_form(tmp_path, CARD))
    findings = failed_obligations(form, {"poda": "no", "lamparas": 0}, today=date(2026, 11, 1))
    assert [(f.obligation, f.failed) for f in findings] == [("mowing", True), ("lighting", False)]
    findings = failed_obligations(form, {"poda": "si", "lamparas": 3}, today=date(2026, 11, 1))
    assert [(f.obligation, f.failed) for f in findings] == [("mowing", False), ("lighting", True)]


def test_a_skipped_question_says_nothing_about_its_obligation(tmp_path) -> None:
    form = load_form(write_form(tmp_path, CARD))
    assert failed_obligations(form, {"nota": "x"}) == []


def test_rules_stored_with_a_card_read_answers_as_the_form_does(tmp_path) -> None:
    form = load_form(write_form(tmp_path, CARD))
    stored = [ObligationRule.from_json(rule.to_json()) for rule in obligation_rules(form)]
    rules = tuple(rule for rule in stored if rule is not None)
    answers = {"poda": "no", "lamparas": 2}
    assert findings_from_rules(rules, answers) == failed_obligations(form, answers)


def test_every_shipped_card_is_tagged_and_the_quiz_is_not(shipped) -> None:
    tagged = {
        form.form_id: {r.obligation for r in obligation_rules(form)}
        for form in shipped.forms.values()
    }
    assert tagged == {
        "tarjeta_parques": {"mowing", "irrigation", "litter", "trees", "playground", "benches"},
        "tarjeta_basura": {"collection_day", "dumping"},
        "tarjeta_alumbrado": {"lighting"},
        "cuestionario_capacitacion": set(),
    }


def test_staff_can_tag_a_new_form_dropped_in_the_forms_folder(tmp_path) -> None:
    from guardianes.conversations.catalog import FormCatalog

    write_form(tmp_path, CARD, name="nueva.md")
    catalog = FormCatalog.load(tmp_path)
    assert {r.obligation for r in obligation_rules(catalog.forms["parque"])} == {
        "mowing",
        "lighting",
    }
