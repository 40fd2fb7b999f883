"""Answers an attacker (or a strange keyboard) types get a friendly reply, never an exception."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from guardianes.conversations.bounds import parse_count, parse_epoch_seconds
from guardianes.conversations.dates import parse_local_datetime

from .conftest import answer_until_zona


def test_an_ethiopic_digit_at_a_choice_question_is_asked_again(types_chat):
    answer_until_zona(types_chat)

    step = types_chat.text("፩")

    assert types_chat.last.text.startswith("Zona")
    assert step.prompts[0].text != step.prompts[-1].text  # a friendly "pick one" first


def test_an_arabic_indic_digit_at_a_choice_question_picks_that_option(types_chat):
    answer_until_zona(types_chat)

    types_chat.text("١")  # ARABIC-INDIC DIGIT ONE: a decimal digit, so it means 1

    assert types_chat.state["form"]["answers"]["zona"] == "norte"


def test_a_400_digit_number_is_refused_politely(types_chat):
    types_chat.text("Parque Lerdo")

    step = types_chat.text("9" * 400)

    assert "número" in step.prompts[0].text
    assert types_chat.last.text == "Años del parque"
    assert "edad" not in types_chat.state["form"]["answers"]


def test_a_400_digit_decimal_is_refused_politely(types_chat):
    types_chat.text("Parque Lerdo")
    types_chat.text("40")

    step = types_chat.text("9" * 400 + ",5")

    assert "número" in step.prompts[0].text
    assert types_chat.last.text == "Metros"


def test_a_huge_menu_number_is_not_an_option(types_chat):
    answer_until_zona(types_chat)

    types_chat.text("9" * 5000)

    assert types_chat.last.text.startswith("Zona")


@pytest.mark.parametrize("text", ["፩", "1" * 40, "", "-1", "1_000", "٣"])
def test_parse_count_takes_only_short_runs_of_decimal_digits(text):
    expected = {"٣": 3}.get(text)

    assert parse_count(text) == expected


@pytest.mark.parametrize("value", ["9" * 30, "١٧٠٠٠٠٠٠٠٠", -5, 10**20, "abc", "1e9", None])
def test_implausible_epoch_seconds_are_none(value):
    assert parse_epoch_seconds(value) is None


def test_epoch_seconds_as_text_or_number_give_the_same_moment():
    assert parse_epoch_seconds("1700000000") == parse_epoch_seconds(1700000000) is not None


@pytest.mark.parametrize("text", ["31/12/9999 10:00", "1/1/1800 9 am"])
def test_dates_no_time_zone_can_hold_are_not_read(text):
    assert parse_local_datetime(text, date(2026, 11, 20)) is None


def test_an_ordinary_visit_date_is_still_read():
    assert parse_local_datetime("5/12/2026 10:00", date(2026, 11, 20)) == datetime(2026, 12, 5, 10)
