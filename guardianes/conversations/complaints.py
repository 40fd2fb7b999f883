"""Does a finished card report a failure of the service? Then the guardian is shown where to
complain to the municipality.

A form may tag its failing choices itself: a `failure` column on the choices sheet set to
`yes` (the convention the evidence domain's obligation tags use). Forms without tags fall
back to the rules below, written over the existing choices and numbers of the shipped cards.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from guardianes.conversations.xlsform import Form, FormChoice, QuestionType

_TRUE_WORDS = frozenset({"yes", "true", "1", "sí", "si", "x"})

Rule = Callable[[Any], bool]


def _equals(*values: str) -> Rule:
    return lambda answer: isinstance(answer, str) and answer in values


def _positive(answer: Any) -> bool:
    return isinstance(answer, int | float) and not isinstance(answer, bool) and answer > 0


# question name -> test of its answer, per shipped card; any test passing is a failure.
SHIPPED_FAILURE_RULES: Mapping[str, Mapping[str, Rule]] = {
    "tarjeta_parques": {
        "poda": _equals("no"),
        "riego": _equals("mal", "no_hay"),
        "basura": _equals("mucha"),
        "arboles_problema": _equals("si"),
        "juegos": _equals("mal"),
        "equipo_deportivo": _equals("mal"),
        "bancas": _equals("mal"),
        "alumbrado": _equals("mal"),
        "luminarias_apagadas": _positive,
    },
    "tarjeta_basura": {
        "dias_cumplidos": _equals("no"),
        "tiradero": _equals("si"),
    },
    "tarjeta_alumbrado": {
        "lamparas_apagadas": _positive,
        "postes_danados": _positive,
    },
}


def _tagged_failure(choice: FormChoice) -> bool:
    flag = getattr(choice, "failure", None)
    if isinstance(flag, bool):
        return flag
    return str(choice.columns.get("failure", "")).strip().lower() in _TRUE_WORDS


def failing_questions(form: Form, answers: Mapping[str, Any]) -> list[str]:
    """The names of the questions whose answers report a failure, in form order."""
    tagged = any(_tagged_failure(c) for q in form.questions for c in q.choices)
    rules = SHIPPED_FAILURE_RULES.get(form.form_id, {})
    failing: list[str] = []
    for question in form.questions:
        if question.name not in answers:
            continue
        answer = answers[question.name]
        if tagged:
            picked = answer if isinstance(answer, list) else [answer]
            failed = question.type in {
                QuestionType.SELECT_ONE,
                QuestionType.SELECT_MULTIPLE,
            } and any(c.name in picked and _tagged_failure(c) for c in question.choices)
        else:
            rule = rules.get(question.name)
            failed = rule is not None and rule(answer)
        if failed:
            failing.append(question.name)
    return failing


def card_reports_failure(form: Form, answers: Mapping[str, Any]) -> bool:
    """True when a card's answers say the service failed somewhere."""
    return bool(failing_questions(form, answers))
