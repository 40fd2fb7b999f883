"""One call of the engine: the state being edited, the prompts and effects being collected.

Every question the engine asks records an `ask` in the state: a short `ref` naming the
question plus the keys of its options. Buttons carry `"<ref>:<key>"`, so a press of an
earlier question's button is recognised as stale, and a typed number or label is mapped to
the option shown on screen, with no need to rebuild the question.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from guardianes.conversations.bounds import parse_count
from guardianes.conversations.catalog import FormCatalog
from guardianes.conversations.context import Effect, EngineContext, Role
from guardianes.conversations.messages import (
    Choice,
    InboundKind,
    InboundMessage,
    Prompt,
    PromptKind,
)
from guardianes.conversations.state import Ask, ConversationState, Draft, FlowStep
from guardianes.conversations.text import normalize
from guardianes.locales import normalize_locale, translator

MAX_PAYLOAD_BYTES = 60
_NUMBER_LIST = re.compile(r"^\s*\d+(\s*[,;y ]\s*\d+)*\s*$")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What `advance` returns: the state to persist as JSON (None = forget), prompts, effects."""

    state: dict[str, Any] | None
    prompts: list[Prompt] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)


class Stale:
    """Marker: the button pressed belongs to a question no longer on screen."""


STALE = Stale()


def make_ref(scope: str, keys: list[str]) -> str:
    """A short, stable name for a question: changes when its options change."""
    digest = zlib.crc32("|".join([scope, *keys]).encode("utf-8"))
    return "r" + _base36(digest)


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out


@dataclass(frozen=True, slots=True)
class Route:
    """A step's two halves: (re)ask its question, handle a reply to it."""

    ask: Callable[[Turn], None]
    handle: Callable[[Turn], None]


class Turn:
    """The working copy of one conversation while one inbound message is handled."""

    def __init__(
        self,
        state: ConversationState,
        inbound: InboundMessage,
        ctx: EngineContext,
        catalog: FormCatalog,
    ) -> None:
        self.state = state
        self.inbound = inbound
        self.ctx = ctx
        self.catalog = catalog
        self.prompts: list[Prompt] = []
        self.effects: list[Effect] = []
        self.forget = False
        self.erased = False  # the person's data is being erased: no state, effects kept
        self.registered_now = False

    # ---- who and which language ----

    @property
    def registered(self) -> bool:
        """A guardian exists (or was registered by this very turn)."""
        return self.ctx.guardian is not None or self.registered_now

    @property
    def is_staff(self) -> bool:
        """Staff see the broadcast / visit notice entry."""
        return self.ctx.guardian is not None and self.ctx.guardian.role is Role.STAFF

    @property
    def locale(self) -> str:
        """The guardian's language: chosen here, else their profile, else the platform's hint."""
        if self.state.locale:
            return self.state.locale
        if self.ctx.guardian is not None:
            return normalize_locale(self.ctx.guardian.locale, self.ctx.default_locale)
        return normalize_locale(self.inbound.language_code, self.ctx.default_locale)

    def t(self, key: str, **values: object) -> str:
        """The localized text for a message id, in this channel's own wording when it has one.

        A hint like "use the clip 📎" is Telegram's and WhatsApp's; the catalogs give other
        channels their words as `<key>.<channel>` (e.g. `form.location_hint.webchat`), so the
        engine stays free of any channel and only names the channel the message came from.
        """
        translate = translator(self.locale)
        variant = f"{key}.{self.inbound.channel}"
        text = translate(variant, **values)
        return text if text != variant else translate(key, **values)

    def has_text(self, key: str) -> bool:
        """True when the catalog defines the message id."""
        return self.t(key) != key

    # ---- state helpers ----

    @property
    def step(self) -> FlowStep | None:
        """The current step (None before the first message)."""
        return self.state.step

    @property
    def data(self) -> Draft:
        """Scratch data of the current flow (draft name, colonia candidates, staff draft)."""
        return self.state.data

    def goto(self, step: FlowStep) -> None:
        """Enter a step; the caller then asks its question."""
        self.state.step = step
        self.state.ask = None

    def result(self) -> Outcome:
        """The Outcome of this turn."""
        if self.forget:
            return Outcome(state=None, prompts=self.prompts, effects=[])
        if self.erased:
            return Outcome(state=None, prompts=self.prompts, effects=self.effects)
        return Outcome(state=self.state.to_json(), prompts=self.prompts, effects=self.effects)

    # ---- output ----

    def say(self, text: str) -> None:
        """Send a plain message."""
        self.prompts.append(Prompt(kind=PromptKind.TEXT, text=text))

    def ask(
        self,
        *,
        scope: str,
        text: str,
        kind: PromptKind = PromptKind.CHOICES,
        options: list[tuple[str, str]] | None = None,
        extras: dict[str, str] | None = None,
        multiple: bool = False,
        selected: list[str] | None = None,
        max_photos: int | None = None,
        refresh: bool = False,
    ) -> None:
        """Ask a question and remember its options so the reply can be matched to them.

        `options` are (key, label) pairs a guardian may also pick by number or label;
        `extras` are "done"/"skip" buttons, reachable by button or by command word only.
        """
        options = options or []
        extras = extras or {}
        keys = [key for key, _ in options]
        ref = make_ref(scope, keys + sorted(extras))
        self.state.ask = Ask(
            ref=ref, keys=keys, labels=[label for _, label in options], extras=sorted(extras)
        )

        def payload(key: str) -> str:
            value = f"{ref}:{key}"
            if len(value.encode("utf-8")) > MAX_PAYLOAD_BYTES:
                # Keys are indexes or short words we choose, so this is a programming error.
                raise ValueError(f"choice payload over {MAX_PAYLOAD_BYTES} bytes: {value}")
            return value

        self.prompts.append(
            Prompt(
                kind=kind if options or kind is not PromptKind.CHOICES else PromptKind.TEXT,
                text=text,
                choices=tuple(Choice(payload(key), label) for key, label in options),
                multiple=multiple,
                selected=tuple(payload(key) for key in selected or []),
                done_label=extras.get("done"),
                done_payload=payload("done") if "done" in extras else None,
                skip_label=extras.get("skip"),
                skip_payload=payload("skip") if "skip" in extras else None,
                max_photos=max_photos,
                refresh=refresh,
            )
        )

    # ---- input ----

    def pressed(self) -> str | Stale | None:
        """The key of the button pressed: STALE if it is not on screen, None if no button."""
        if self.inbound.kind is not InboundKind.CHOICE:
            return None
        ask = self.state.ask
        ref, _, key = (self.inbound.payload or "").partition(":")
        if ask is None or ref != ask.ref:
            return STALE
        if key in ask.keys or key in ask.extras:
            return key
        return STALE

    def typed_option(self, text: str | None = None) -> str | None:
        """The option a typed reply names: its number ("3") or its label, accent-insensitive."""
        value = (text if text is not None else self.inbound.text) or ""
        keys, labels = self._options()
        wanted = normalize(value)
        number = parse_count(wanted)
        if number is not None:
            index = number - 1
            return keys[index] if 0 <= index < len(keys) else None
        if wanted.isdigit():
            return None  # digits without a decimal value ("፩"): no option is meant
        if not wanted:
            return None
        exact = [k for k, label in zip(keys, labels, strict=True) if normalize(label) == wanted]
        if len(exact) == 1:
            return exact[0]
        prefix = [
            k for k, label in zip(keys, labels, strict=True) if normalize(label).startswith(wanted)
        ]
        return prefix[0] if len(prefix) == 1 else None

    def _options(self) -> tuple[list[str], list[str]]:
        ask = self.state.ask
        return (ask.keys, ask.labels) if ask is not None else ([], [])

    def typed_options(self) -> list[str] | None:
        """Several options typed at once ("1,3" or "1 y 3" or "poda, riego"), else None."""
        value = self.inbound.text or ""
        keys, _ = self._options()
        if _NUMBER_LIST.match(value):
            numbers = [parse_count(n) for n in re.findall(r"\d+", value)]
            if all(n is not None and 1 <= n <= len(keys) for n in numbers):
                return list(dict.fromkeys(keys[n - 1] for n in numbers if n is not None))
            return None
        parts = [p for p in re.split(r"[,;\n]", value) if p.strip()]
        found = [self.typed_option(p) for p in parts]
        if parts and all(found):
            return list(dict.fromkeys(k for k in found if k))
        return None

    def choice_or_typed(self) -> str | Stale | None:
        """A pressed button's key or the option a typed reply names."""
        pressed = self.pressed()
        if pressed is not None:
            return pressed
        if self.inbound.kind is InboundKind.TEXT:
            return self.typed_option()
        return None
