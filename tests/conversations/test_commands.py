"""Command words: what channel adapters may turn into `Command`s."""

from __future__ import annotations

import pytest

from guardianes.conversations.messages import Command
from guardianes.conversations.text import match_colonias, parse_command_word

from .conftest import COLONIAS


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("cancelar", Command.CANCEL),
        ("/cancel", Command.CANCEL),
        ("Atrás", Command.BACK),
        ("ATRAS", Command.BACK),
        ("back", Command.BACK),
        ("omitir", Command.SKIP),
        ("/skip", Command.SKIP),
        ("ayuda", Command.HELP),
        ("Help", Command.HELP),
        ("menú", Command.MENU),
        ("/menu@GuardianesBot", Command.MENU),
        ("/start abc123", Command.START),
        ("/staff", Command.STAFF),
    ],
)
def test_command_words_in_both_languages(text, command):
    assert parse_command_word(text) is command


@pytest.mark.parametrize("text", ["hola", "cancelar la tarjeta", "", "/", "3", None])
def test_other_text_is_not_a_command(text):
    assert parse_command_word(text) is None


def test_fuzzy_colonia_match_ignores_accents_and_the_word_colonia():
    assert [c.name for c in match_colonias("col. villa juarez", COLONIAS)] == ["Villa Juárez"]


def test_fuzzy_colonia_match_tolerates_typos():
    assert match_colonias("Altavizta", COLONIAS)[0].name == "Altavista"
