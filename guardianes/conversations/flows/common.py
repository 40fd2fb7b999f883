"""What every flow shares: reading a choice, re-asking, the city's names in texts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path

from guardianes.conversations.flows import dispatch
from guardianes.conversations.messages import InboundKind
from guardianes.conversations.state import FlowStep
from guardianes.conversations.turn import STALE, Stale, Turn
from guardianes.locales import DEFAULT_LOCALE, LOCALES_DIR, SUPPORTED_LOCALES

CITY_TEXT_KEYS = ("programme", "city", "office", "owner", "contact")
LANGUAGE_NAMES = {"es": "Español", "en": "English"}
MIN_NAME_LENGTH = 2
MAX_NAME_LENGTH = 60

Action = Callable[[Turn], None]


# ---- reading replies ----


def choice_key(turn: Turn) -> str | Stale | None:
    """The option chosen by button or typed; says "stale" and returns STALE when needed."""
    key = turn.choice_or_typed()
    if key is STALE:
        turn.say(turn.t("stale_button"))
    return key


def retry(turn: Turn, message_key: str = "expect.choice") -> None:
    """Say what was expected and ask the current step's question again."""
    turn.say(turn.t(message_key))
    dispatch.reask(turn)


def chosen(turn: Turn) -> str | None:
    """The option chosen; None after re-asking (nothing chosen, or a stale button)."""
    key = choice_key(turn)
    if key is None:
        retry(turn)
        return None
    if isinstance(key, Stale):
        dispatch.reask(turn)
        return None
    return key


def on_choice(turn: Turn, actions: Mapping[str, Action]) -> None:
    """Run the action of the option chosen; anything else re-asks (saying why)."""
    key = choice_key(turn)
    if isinstance(key, str) and key in actions:
        actions[key](turn)
    elif key is None:
        retry(turn)
    else:
        dispatch.reask(turn)


def read_name(turn: Turn) -> str | None:
    """A display name: the platform's (its button) or a typed one of sensible length."""
    if turn.pressed() == "platform":
        return turn.data.platform_name or None
    return typed_text(turn, MAX_NAME_LENGTH)


def typed_text(turn: Turn, max_length: int) -> str | None:
    """Typed text with its spaces collapsed, if its length is within bounds."""
    text = " ".join((turn.inbound.text or "").split())
    if turn.inbound.kind is not InboundKind.TEXT or not MIN_NAME_LENGTH <= len(text) <= max_length:
        return None
    return text


def service_label(turn: Turn, service: str) -> str:
    """A service's name in the guardian's language (its code when the catalog has none)."""
    key = f"service.{service}"
    return turn.t(key) if turn.has_text(key) else service


# ---- asking ----


def ask_languages(turn: Turn, step: FlowStep) -> None:
    """The supported languages, one button each."""
    turn.goto(step)
    turn.ask(
        scope=step,
        text=turn.t("reg.choose_language"),
        options=[(code, LANGUAGE_NAMES[code]) for code in SUPPORTED_LOCALES],
    )


def ask_typed(turn: Turn, step: FlowStep, text_key: str) -> None:
    """Enter a step whose answer is typed text."""
    turn.goto(step)
    turn.ask(scope=step, text=turn.t(text_key))


def ask_yes_no(turn: Turn, *, scope: str, question: str, yes: str, no: str) -> None:
    """A yes/no question; the keys are "yes" and "no"."""
    turn.ask(scope=scope, text=turn.t(question), options=[("yes", turn.t(yes)), ("no", turn.t(no))])


# ---- the city's names ----


def city_texts(turn: Turn) -> dict[str, str]:
    """The names texts show: the guardian's city; before the city is known, every city's
    names together (a deployment serving several cities greets for all of them)."""
    cities = turn.ctx.cities
    city = turn.ctx.city or (cities[0] if len(cities) == 1 else None)
    chosen_id = turn.data.city_id
    if city is None and chosen_id is not None:
        city = next((c for c in cities if c.id == chosen_id), None)
    if city is None and not cities:
        # Only an engine run without any city (the service always passes one): neutral words.
        return {key: turn.t(f"cities.unnamed.{key}") for key in CITY_TEXT_KEYS}
    if city is not None:
        return {
            "programme": city.programme_name,
            "city": city.name,
            "office": city.office_name,
            "owner": city.privacy_owner,
            "contact": city.privacy_contact,
        }

    def joined(values: list[str]) -> str:
        return " / ".join(dict.fromkeys(values))

    return {
        "programme": joined([c.programme_name for c in cities]),
        "city": joined([c.name for c in cities]),
        "office": joined([c.office_name for c in cities]),
        "owner": joined([c.privacy_owner for c in cities]),
        "contact": joined([c.privacy_contact for c in cities]),
    }


def city_notice(turn: Turn) -> str:
    """The privacy notice with the city's programme, name, data owner and contact."""
    text = privacy_notice(turn.locale, turn.ctx.privacy_notice_version)
    for key, value in city_texts(turn).items():
        text = text.replace("{" + key + "}", value)
    return text


@cache
def privacy_notice(locale: str, version: str) -> str:
    """The privacy notice text of a locale with its version filled in."""
    for candidate in (locale, DEFAULT_LOCALE):
        path = LOCALES_DIR / candidate / "privacy_notice.md"
        if path.exists():
            # Plain replace, not str.format: the notice is Markdown and may contain braces.
            return Path(path).read_text(encoding="utf-8").replace("{version}", version).strip()
    return version
