"""Message catalogs: every user-facing text of the bot, Spanish first, then English.

Each area keeps its own gettext catalog (`<locale>/LC_MESSAGES/<area>.po`) with symbolic
message ids such as `menu.title`; all catalogs of a locale are merged into one `Translator`.
`guardianes locales check` (run in CI) fails when the languages' keys differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent
SUPPORTED_LOCALES: tuple[str, ...] = ("es", "en")
DEFAULT_LOCALE = "es"


def normalize_locale(value: str | None, default: str = DEFAULT_LOCALE) -> str:
    """Map a platform language hint such as `es-MX` or `en_US` to a supported locale."""
    if not value:
        return default
    base = value.replace("_", "-").split("-", 1)[0].lower()
    return base if base in SUPPORTED_LOCALES else default


def _read_catalog_file(path: Path) -> dict[str, str]:
    with path.open("rb") as handle:
        catalog = read_po(handle)
    return {str(m.id): str(m.string) for m in catalog if m.id and isinstance(m.id, str)}


@cache
def load_messages(locale: str) -> dict[str, str]:
    """All messages of one locale, merged from every area's catalog."""
    merged: dict[str, str] = {}
    for path in sorted((LOCALES_DIR / locale / "LC_MESSAGES").glob("*.po")):
        merged.update(_read_catalog_file(path))
    return merged


@dataclass(frozen=True, slots=True)
class Translator:
    """Looks up symbolic message ids in one locale, falling back to the default locale."""

    locale: str

    def __call__(self, key: str, **values: object) -> str:
        """The text for `key`, formatted with `values` (`{name}` placeholders)."""
        text = load_messages(self.locale).get(key) or load_messages(DEFAULT_LOCALE).get(key)
        if not text:
            # A missing key is a bug caught by `locales check`; show the key, never crash.
            return key
        return text.format(**values) if values else text


def translator(locale: str | None) -> Translator:
    """The translator for a locale (unsupported ones fall back to the default)."""
    return Translator(normalize_locale(locale))


def catalog_differences() -> list[str]:
    """Problems between locales: keys present in one language's catalog and not another's."""
    problems: list[str] = []
    areas = {
        p.name
        for loc in SUPPORTED_LOCALES
        for p in (LOCALES_DIR / loc / "LC_MESSAGES").glob("*.po")
    }
    for area in sorted(areas):
        keys: dict[str, set[str]] = {}
        for loc in SUPPORTED_LOCALES:
            path = LOCALES_DIR / loc / "LC_MESSAGES" / area
            if not path.exists():
                problems.append(f"{loc}/LC_MESSAGES/{area} is missing")
                continue
            messages = _read_catalog_file(path)
            empty = sorted(k for k, v in messages.items() if not v.strip())
            problems.extend(f"{loc}/{area}: empty translation for {k}" for k in empty)
            keys[loc] = set(messages)
        for loc, mine in keys.items():
            for other, theirs in keys.items():
                for key in sorted(mine - theirs):
                    problems.append(f"{area}: key {key} is in {loc} but not in {other}")
    return problems
