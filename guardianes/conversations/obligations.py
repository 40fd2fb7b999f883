"""Contract obligations a card question can check, and which of a card's answers are failures.

A form tags a question with the survey column `obligation` (one of `ObligationCode`); a
select question marks the choices that mean "failed" with `failure` = `yes` in the choices
sheet, a number question gives a `failure_if` expression (e.g. `. > 0`). This module only
reads a finished card's answers; it does no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from guardianes.conversations.expressions import (
    Environment,
    ExpressionError,
    Value,
    evaluate_bool,
    parse_expression,
)

if TYPE_CHECKING:
    from guardianes.conversations.xlsform import Form, Question


class ObligationCode(StrEnum):
    """What a contract obliges; labels live in the catalogs as `evidence.obligation.<code>`."""

    MOWING = "mowing"
    IRRIGATION = "irrigation"
    LITTER = "litter"
    TREES = "trees"
    PLAYGROUND = "playground"
    BENCHES = "benches"
    LIGHTING = "lighting"
    COLLECTION_DAY = "collection_day"
    DUMPING = "dumping"


# The service each obligation usually belongs to (a form's own `service` setting wins).
OBLIGATION_SERVICE: dict[ObligationCode, str] = {
    ObligationCode.MOWING: "green_space_maintenance",
    ObligationCode.IRRIGATION: "green_space_maintenance",
    ObligationCode.LITTER: "green_space_maintenance",
    ObligationCode.TREES: "green_space_maintenance",
    ObligationCode.PLAYGROUND: "green_space_maintenance",
    ObligationCode.BENCHES: "green_space_maintenance",
    ObligationCode.LIGHTING: "street_lighting",
    ObligationCode.COLLECTION_DAY: "garbage_collection",
    ObligationCode.DUMPING: "garbage_collection",
}

OBLIGATION_CODES: frozenset[str] = frozenset(code.value for code in ObligationCode)


def obligations_of_service(service_code: str) -> tuple[str, ...]:
    """Every obligation code usually checked for a service, in declaration order."""
    return tuple(
        code.value for code, service in OBLIGATION_SERVICE.items() if service == service_code
    )


@dataclass(frozen=True, slots=True)
class ObligationFinding:
    """What one tagged question of a card says about its obligation."""

    obligation: str
    question: str
    answer: Any
    failed: bool


def obligation_failed(
    form: Form, question: Question, answer: Any, answers: dict[str, Any], today: date
) -> bool:
    """Whether one answer to a tagged question means its obligation failed."""
    # Imported here: form_logic imports xlsform, which imports this module for the codes.
    from guardianes.conversations.form_logic import environment, expression_value

    if question.failure_if is not None:
        env = environment(form, answers, today, current=expression_value(answer))
        return evaluate_bool(question.failure_if, env)
    chosen = set(answer) if isinstance(answer, list) else {str(answer)}
    return any(choice.failure and choice.name in chosen for choice in question.choices)


def failed_obligations(
    form: Form, answers: dict[str, Any], *, today: date | None = None
) -> list[ObligationFinding]:
    """Every tagged question the card answered, with whether its answer means "failed"."""
    on_day = today or date.today()
    findings: list[ObligationFinding] = []
    for question in form.questions:
        if question.obligation is None or question.name not in answers:
            continue
        answer = answers[question.name]
        if answer is None or answer == "":
            continue
        findings.append(
            ObligationFinding(
                obligation=question.obligation,
                question=question.name,
                answer=answer,
                failed=obligation_failed(form, question, answer, answers, on_day),
            )
        )
    return findings


@dataclass(frozen=True, slots=True)
class ObligationRule:
    """How one tagged question of a form version marks failure, kept with its stored cards."""

    question: str
    obligation: str
    failure_choices: tuple[str, ...] = ()
    failure_if: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict for the card definition row."""
        return {
            "name": self.question,
            "obligation": self.obligation,
            "failure_choices": list(self.failure_choices),
            "failure_if": self.failure_if,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ObligationRule | None:
        """Rebuild a rule stored by `to_json`; None for anything else in the list."""
        if not isinstance(data, dict) or not data.get("obligation") or not data.get("name"):
            return None
        return cls(
            question=str(data["name"]),
            obligation=str(data["obligation"]),
            failure_choices=tuple(str(c) for c in data.get("failure_choices") or ()),
            failure_if=str(data["failure_if"]) if data.get("failure_if") else None,
        )


def obligation_rules(form: Form) -> tuple[ObligationRule, ...]:
    """The obligation rules of a form's tagged questions."""
    return tuple(
        ObligationRule(
            question=q.name,
            obligation=q.obligation,
            failure_choices=tuple(c.name for c in q.choices if c.failure),
            failure_if=q.failure_if.source if q.failure_if is not None else None,
        )
        for q in form.questions
        if q.obligation is not None
    )


def findings_from_rules(
    rules: tuple[ObligationRule, ...] | list[ObligationRule],
    answers: dict[str, Any],
    *,
    today: date | None = None,
) -> list[ObligationFinding]:
    """What a stored card says about each obligation, read with its form version's rules."""
    # Imported here: form_logic imports xlsform, which imports this module for the codes.
    from guardianes.conversations.form_logic import expression_value

    def lookup(name: str) -> Value:
        return expression_value(answers.get(name))

    findings: list[ObligationFinding] = []
    for rule in rules:
        answer = answers.get(rule.question)
        if answer is None or answer in ("", []):
            continue
        if rule.failure_if is not None:
            try:
                expression = parse_expression(rule.failure_if)
            except ExpressionError:
                continue  # the form loader refused bad expressions; an edited row is skipped
            env = Environment(
                lookup=lookup,
                today=today or date.today(),
                current=expression_value(answer),
            )
            failed = evaluate_bool(expression, env)
        else:
            chosen = {str(a) for a in answer} if isinstance(answer, list) else {str(answer)}
            failed = bool(chosen & set(rule.failure_choices))
        findings.append(ObligationFinding(rule.obligation, rule.question, answer, failed))
    return findings
