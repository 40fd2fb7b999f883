"""XPath over a form's answers: relevance, choice filters, calculations, scores, labels."""

from __future__ import annotations

import html
import math
import re
from datetime import date
from typing import Any

from guardianes.conversations.expressions import (
    Environment,
    Value,
    evaluate,
    evaluate_bool,
    to_string,
)
from guardianes.conversations.xlsform import Form, FormChoice, Question, QuestionType

_PLACEHOLDER = re.compile(r"\$\{\s*([A-Za-z_][\w.\-]*)\s*\}")
_TAG = re.compile(r"<[^>]+>")


def expression_value(answer: Any) -> Value:
    """An answer as XPath sees it: numbers, strings, space-separated selections."""
    if answer is None:
        return ""
    if isinstance(answer, bool | str):
        return answer
    if isinstance(answer, int | float):
        return float(answer)
    if isinstance(answer, dict) and "latitude" in answer:
        return f"{answer['latitude']} {answer['longitude']} 0 0"
    if isinstance(answer, list):
        return " ".join(str(a["path"]) if isinstance(a, dict) else str(a) for a in answer)
    return str(answer)


def jsonable(value: Value) -> str | int | float | bool:
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return ""
        return int(value) if value.is_integer() else value
    return value


def environment(
    form: Form,
    answers: dict[str, Any],
    today: date,
    *,
    current: Value = "",
    choice: dict[str, str] | None = None,
) -> Environment:
    """The environment for evaluating expressions of a form against answers so far."""

    def lookup(name: str) -> Value:
        if name in answers:
            return expression_value(answers[name])
        try:
            question = form.question(name)
        except KeyError:
            return ""
        if question.calculation is not None and question.type is QuestionType.CALCULATE:
            # A calculation referenced before the walk reached it: compute it now.
            return evaluate(question.calculation, environment(form, answers, today))
        return ""

    def choice_name(value: str, question_name: str) -> str:
        try:
            question = form.question(question_name)
        except KeyError:
            return value
        for item in question.choices:
            if item.name == value:
                return form.text(item.labels, form.default_language) or value
        return value

    def repeat_value(repeat: str, name: str, index: int) -> Value:
        rounds = answers.get(repeat)
        if not isinstance(rounds, list) or not 1 <= index <= len(rounds):
            return ""
        item = rounds[index - 1]
        return expression_value(item.get(name)) if isinstance(item, dict) else ""

    def instance_value(instance: str, key_column: str, key: str, column: str) -> str:
        for record in form.instances.get(instance, ()):
            if record.get(key_column) == key:
                return record.get(column, "")
        return ""

    return Environment(
        lookup=lookup,
        today=today,
        current=current,
        choice=choice,
        choice_name=choice_name,
        repeat_value=repeat_value,
        instance_value=instance_value,
    )


def is_relevant(form: Form, question: Question, answers: dict[str, Any], today: date) -> bool:
    """True when the question's own and its groups' relevance hold."""
    env = environment(form, answers, today)
    return all(evaluate_bool(expr, env) for expr in question.relevant)


def visible_choices(
    form: Form, question: Question, answers: dict[str, Any], today: date
) -> list[tuple[int, FormChoice]]:
    """Choices passing the choice filter, with their index in the full list."""
    if question.choice_filter is None:
        return list(enumerate(question.choices))
    shown = []
    for index, choice in enumerate(question.choices):
        columns = {"name": choice.name, **choice.columns}
        env = environment(form, answers, today, choice=columns)
        if evaluate_bool(question.choice_filter, env):
            shown.append((index, choice))
    return shown


def score_quiz(form: Form, answers: dict[str, Any], today: date) -> tuple[int, int]:
    """(right answers, scored questions): a question counts when its answer is exactly right."""
    score = total = 0
    for question in form.questions:
        if not question.scored or not is_relevant(form, question, answers, today):
            continue
        total += 1
        score += int(answer_is_right(question, answers.get(question.name)))
    return score, total


def answer_is_right(question: Question, answer: Any) -> bool:
    """A quiz answer is right when it picks exactly the choices marked correct."""
    correct = {c.name for c in question.choices if c.correct}
    if question.type is QuestionType.SELECT_MULTIPLE:
        return isinstance(answer, list) and set(answer) == correct
    return answer in correct


def final_answers(form: Form, answers: dict[str, Any], today: date) -> dict[str, Any]:
    """Answers of relevant questions plus every relevant calculation, in form order."""
    result: dict[str, Any] = {}
    known = dict(answers)
    for question in form.questions:
        if not is_relevant(form, question, known, today):
            known.pop(question.name, None)
            continue
        if question.repeat is not None:
            continue  # kept inside the repeat's list of rounds
        if question.calculation is not None and question.type is QuestionType.CALCULATE:
            value = jsonable(evaluate(question.calculation, environment(form, known, today)))
            result[question.name] = known[question.name] = value
        elif question.name in answers:
            result[question.name] = answers[question.name]
    return result


def substitute(form: Form, text: str, answers: dict[str, Any], locale: str) -> str:
    """A label as the guardian reads it: `${field}` replaced by its answer, HTML as plain text."""

    def shown(match: re.Match[str]) -> str:
        name = match.group(1)
        value = answers.get(name)
        try:
            question = form.question(name)
        except KeyError:
            return ""
        if question.choices and value is not None:
            names = value if isinstance(value, list) else [value]
            labels = {c.name: form.text(c.labels, locale) or c.name for c in question.choices}
            return ", ".join(labels.get(str(n), str(n)) for n in names)
        return to_string(expression_value(value))

    plain = _TAG.sub("", re.sub(r"<br\s*/?>", "\n", text, flags=re.IGNORECASE))
    return html.unescape(_PLACEHOLDER.sub(shown, plain)).strip()
