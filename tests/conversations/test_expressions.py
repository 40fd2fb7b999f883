"""The ODK expression subset: parsing refuses what it can't run; evaluation follows XPath."""

from __future__ import annotations

import math
from datetime import date

import pytest

from guardianes.conversations.expressions import (
    Environment,
    ExpressionError,
    Value,
    evaluate,
    parse_expression,
    tokenize,
)

TODAY = date(2026, 11, 20)


def run(source: str, current: Value = "", choice: dict[str, str] | None = None, **answers: Value):
    expr = parse_expression(source, allow_choice_columns=choice is not None)
    env = Environment(
        lookup=lambda name: answers.get(name, ""), today=TODAY, current=current, choice=choice
    )
    return evaluate(expr, env)


def test_tokenizer_reads_references_words_and_operators():
    kinds = [(t.kind, t.text) for t in tokenize("${a} div 2 mod 3 and not(.)")]
    assert kinds == [
        ("ref", "a"),
        ("op", "div"),
        ("number", "2"),
        ("op", "mod"),
        ("number", "3"),
        ("op", "and"),
        ("name", "not"),
        ("op", "("),
        ("dot", "."),
        ("op", ")"),
    ]


def test_parse_collects_references_and_current():
    expr = parse_expression("${a} > 1 and . < ${b}")
    assert expr.references == {"a", "b"}
    assert expr.uses_current


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("7 div 2", 3.5),
        ("7 mod 3", 1.0),
        ("-3 + 1", -2.0),
        ("10 - 2 - 3", 5.0),
    ],
)
def test_arithmetic_follows_precedence(source, expected):
    assert run(source) == expected


def test_division_by_zero_is_infinity_not_a_crash():
    assert run("1 div 0") == math.inf
    assert math.isnan(run("1 mod 0"))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("${n} = 3", True),
        ("${n} != 3", False),
        ("${n} < 4", True),
        ("${n} <= 3", True),
        ("${n} > 3", False),
        ("${n} >= 3", True),
        ("${s} = 'si'", True),
        ('${s} = "no"', False),
    ],
)
def test_comparisons(source, expected):
    assert run(source, n=3.0, s="si") is expected


def test_unanswered_compares_false_with_numbers_instead_of_failing():
    assert run("${missing} > 3") is False
    assert run("${missing} < 3") is False
    assert run("${missing} = ''") is True


def test_numeric_text_compares_as_number():
    assert run("${n} = 3", n="3") is True


def test_and_or_not():
    assert run("1 = 1 and 2 = 2") is True
    assert run("1 = 2 or 2 = 2") is True
    assert run("not(1 = 2)") is True
    assert run("true() and not(false())") is True


def test_selected_checks_one_value_of_a_multi_select():
    assert run("selected(${p}, 'b')", p="a b") is True
    assert run("selected(${p}, 'c')", p="a b") is False


def test_count_selected_counts_values():
    assert run("count-selected(${p})", p="a b c") == 3.0
    assert run("count-selected(${p})") == 0.0


def test_string_length_of_current_answer():
    assert run("string-length(.) >= 3", current="abc") is True
    assert run("string-length(.)", current="") == 0.0


def test_regex_searches_and_anchors_work():
    assert run("regex(., '^[0-9]{5}$')", current="31000") is True
    assert run("regex(., '^[0-9]{5}$')", current="3100a") is False


def test_today_is_the_context_date_and_dates_order():
    assert run("today()") == "2026-11-20"
    assert run(". <= today()", current="2026-11-19") is True
    assert run(". <= today()", current="2026-12-01") is False


def test_if_picks_a_branch():
    assert run("if(${n} > 2, 'big', 'small')", n=3.0) == "big"
    assert run("if(${n} > 2, 'big', 'small')", n=1.0) == "small"


def test_choice_filter_reads_bare_choice_columns():
    assert run("zona = ${z}", choice={"zona": "norte"}, z="norte") is True
    assert run("zona = ${z}", choice={"zona": "sur"}, z="norte") is False


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("pulldata('a', 'b')", "pulldata() is not supported"),
        ("digest(${a}, 'x')", "digest() is not supported"),
        ("selected(${a})", "takes 2 argument"),
        ("${a} >", "ends too early"),
        ("(${a} = 1", "expected ')'"),
        ("foo = 1", "not supported here"),
        ("${a} ~ 2", "unexpected character"),
        ("regex(., '[')", "invalid regular expression"),
        ("", "empty"),
        ("1 2", "after the expression"),
    ],
)
def test_unsupported_syntax_is_refused_at_parse_time(source, message):
    with pytest.raises(ExpressionError) as error:
        parse_expression(source)
    assert message in str(error.value)
