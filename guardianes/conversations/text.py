"""Text helpers shared by every flow: normalising, command words, fuzzy colonia matching."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from difflib import SequenceMatcher

from guardianes.conversations.context import ColoniaRef
from guardianes.conversations.messages import Command

# Whole-message words (after normalize) that mean a command, in Spanish and English.
COMMAND_WORDS: dict[str, Command] = {
    "start": Command.START,
    "inicio": Command.START,
    "iniciar": Command.START,
    "comenzar": Command.START,
    "menu": Command.MENU,
    "menu principal": Command.MENU,
    "main menu": Command.MENU,
    "ayuda": Command.HELP,
    "help": Command.HELP,
    "?": Command.HELP,
    "cancelar": Command.CANCEL,
    "cancela": Command.CANCEL,
    "cancel": Command.CANCEL,
    "salir": Command.CANCEL,
    "atras": Command.BACK,
    "regresar": Command.BACK,
    "volver": Command.BACK,
    "anterior": Command.BACK,
    "back": Command.BACK,
    "omitir": Command.SKIP,
    "saltar": Command.SKIP,
    "skip": Command.SKIP,
    "staff": Command.STAFF,
    "personal": Command.STAFF,
    "estado": Command.STATUS,
    "status": Command.STATUS,
    # ARCO rights: what a person types to see, erase or stop the use of their data. Only
    # phrases no card answer is likely to be ("alto" is a grass height, so it is not here).
    "mis datos": Command.MY_DATA,
    "misdatos": Command.MY_DATA,
    "my data": Command.MY_DATA,
    "mydata": Command.MY_DATA,
    "borrar mis datos": Command.ERASE,
    "borrarmisdatos": Command.ERASE,
    "borrar datos": Command.ERASE,
    "borrardatos": Command.ERASE,
    "eliminar mis datos": Command.ERASE,
    "delete my data": Command.ERASE,
    "deletemydata": Command.ERASE,
    "erase my data": Command.ERASE,
    "no quiero que usen mis datos": Command.OPPOSE,
    "oposicion": Command.OPPOSE,
    "stop": Command.OPPOSE,
    "don't use my data": Command.OPPOSE,
    "do not use my data": Command.OPPOSE,
    "dontusemydata": Command.OPPOSE,
    "opposition": Command.OPPOSE,
}
# "I'm done" for photo and multi-select questions (not a Command: it only means something there).
DONE_WORDS: frozenset[str] = frozenset(
    {"listo", "lista", "terminar", "termine", "ya", "fin", "hecho", "done", "finish", "finished"}
)
_SPACES = re.compile(r"\s+")
_COLONIA_NOISE = re.compile(r"^(colonia|col|fracc|fraccionamiento|barrio)\.?\s+")
FUZZY_THRESHOLD = 0.55
MAX_SUGGESTIONS = 5


def normalize(text: str) -> str:
    """Lower-case, strip accents and punctuation at the ends, collapse spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", stripped.casefold()).strip(" .,;:!¡¿")


def parse_command_word(text: str | None) -> Command | None:
    """The command a whole message means: `/cancelar`, `Atrás`, `help`, `/start@bot x`..."""
    if not text:
        return None
    word = text.strip()
    if word.startswith("/"):
        # Telegram sends `/cmd@BotName args`; only the command itself matters.
        word = word[1:].split(maxsplit=1)[0].split("@", 1)[0] if word[1:].strip() else ""
    word = normalize(word) if word != "?" else word
    if word in COMMAND_WORDS:
        return COMMAND_WORDS[word]
    try:
        return Command(word)
    except ValueError:
        return None


def is_done_word(text: str | None) -> bool:
    """True when the message says "done" in either language."""
    return bool(text) and normalize(text or "") in DONE_WORDS


def _colonia_key(name: str) -> str:
    return _COLONIA_NOISE.sub("", normalize(name))


def _similarity(query: str, name: str) -> float:
    if not query or not name:
        return 0.0
    if query == name:
        return 1.0
    ratio = SequenceMatcher(None, query, name).ratio()
    words = name.split()
    if query in name:
        # A typed fragment ("villa") should rank colonias containing it high.
        ratio = max(ratio, 0.75 + 0.2 * len(query) / len(name))
    best_word = max((SequenceMatcher(None, query, w).ratio() for w in words), default=0.0)
    return max(ratio, best_word * 0.9)


def match_colonias(
    query: str, colonias: Sequence[ColoniaRef], limit: int = MAX_SUGGESTIONS
) -> list[ColoniaRef]:
    """Colonias ranked by similarity to what was typed; an exact match comes alone."""
    key = _colonia_key(query)
    exact = [c for c in colonias if _colonia_key(c.name) == key]
    if len(exact) == 1:
        return exact
    scored = sorted(
        (
            (score, c)
            for c in colonias
            if (score := _similarity(key, _colonia_key(c.name))) >= FUZZY_THRESHOLD
        ),
        key=lambda pair: (-pair[0], pair[1].name),
    )
    return [c for _, c in scored[:limit]]
