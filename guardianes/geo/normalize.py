"""Name, tax-id and contract-number normalisation shared by the importers and the geography."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^A-Z0-9]+")
# Mexican legal forms at the end of company names, written in many ways
# ("S.A. de C.V.", "S. A. de C. V.", "S de RL de CV", "SAPI de CV", "A.C.").
_LEGAL_FORM = re.compile(
    r"(\s+(S\s?A\s?P\s?I|S\s?A\s?B|S\s?A|S\s?DE\s?R\s?L|S\s?C|A\s?C|S\s?P\s?R|S\s?C\s?L)"
    r"(\s+DE\s+(C\s?V|R\s?L(\s+DE\s+C\s?V)?|R\s?I|R\s?S))?)+$"
)
_RFC_CHARS = re.compile(r"[^A-Z0-9Ñ&]+")
_ROMAN = {"I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"}
_LOWER_WORDS = {"de", "del", "la", "las", "los", "el", "y", "e", "en", "a"}


def strip_accents(text: str) -> str:
    """Remove diacritics (á → a, ñ → n) so spellings with and without accents match."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize_name(text: str) -> str:
    """Upper-case ASCII words separated by single spaces: the matching key for names."""
    return _NON_ALNUM.sub(" ", strip_accents(text).upper()).strip()


def normalize_company_name(text: str) -> str:
    """Company name key without punctuation or the trailing legal form."""
    base = normalize_name(text)
    stripped = _LEGAL_FORM.sub("", base).strip()
    return stripped or base


def normalize_rfc(text: str | None) -> str | None:
    """The tax id in upper case without separators; None when empty."""
    if text is None:
        return None
    cleaned = _RFC_CHARS.sub("", text.strip().upper())
    return cleaned or None


def normalize_contract_number(text: str | None) -> str | None:
    """Contract number key: 'O.M.-38/2020-D' and 'OM 38/2020 D' both become 'OM382020D'."""
    if text is None:
        return None
    cleaned = _NON_ALNUM.sub("", strip_accents(text).upper())
    return cleaned or None


def display_name(text: str) -> str:
    """Title-case an all-caps name for display, keeping roman numerals and small words."""
    words = text.strip().split()
    if not words:
        return ""
    if any(ch.islower() for ch in text):
        return " ".join(words)  # already mixed case: the publisher chose it
    out: list[str] = []
    for position, word in enumerate(words):
        lower = word.lower()
        if word in _ROMAN:
            out.append(word)
        elif position > 0 and lower in _LOWER_WORDS:
            out.append(lower)
        else:
            out.append(lower[:1].upper() + lower[1:])
    return " ".join(out)
