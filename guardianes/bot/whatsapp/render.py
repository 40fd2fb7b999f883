"""Neutral prompts → WhatsApp messages, within the Cloud API's size limits.

Choices become reply buttons (≤ 3 short options), a list message (≤ 10 rows), or a numbered
text menu beyond that; the engine understands a typed number as the n-th choice, so numbers
always follow `prompt.choices` order. Multi-select is a numbered menu ("1,3") plus a "done"
button. Long texts are split: 4,096 characters per text, 1,024 per interactive body.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from guardianes.bot.whatsapp.client import (
    ButtonsMessage,
    ListMessage,
    ListRow,
    LocationRequestMessage,
    OutgoingMessage,
    ReplyButton,
    TemplateMessage,
    TextMessage,
)
from guardianes.conversations.messages import Choice, Prompt, PromptKind
from guardianes.locales import Translator, translator

MAX_TEXT = 4096
MAX_INTERACTIVE_BODY = 1024
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_LIST_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_LIST_BUTTON = 20
# Meta refuses template parameters with newlines, tabs or more than four spaces in a row.
MAX_TEMPLATE_PARAMETER = 1000
_WHITESPACE = re.compile(r"\s+")
ELLIPSIS = "…"
SELECTED_MARK = "✅"


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split a text into pieces of at most `limit` characters, at paragraph, line or word ends."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = -1
        for separator in ("\n\n", "\n", " "):
            cut = window.rfind(separator)
            if cut > limit // 2:
                break
        if cut <= 0:
            cut = limit  # one unbroken word longer than half the limit: cut it
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters at a word end, with an ellipsis when cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rstrip()
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space].rstrip()
    return cut + ELLIPSIS


def row_for(choice: Choice) -> ListRow:
    """A list row: the label as title, the rest of a long label as description."""
    label = " ".join(choice.label.split())
    if len(label) <= MAX_ROW_TITLE:
        return ListRow(id=choice.payload, title=label)
    title = shorten(label, MAX_ROW_TITLE)
    consumed = len(title) - len(ELLIPSIS)
    description = shorten(ELLIPSIS + label[consumed:].lstrip(), MAX_ROW_DESCRIPTION)
    return ListRow(id=choice.payload, title=title, description=description)


def _with_body(leading: str, body_limit: int) -> tuple[list[OutgoingMessage], str]:
    """Texts to send before an interactive message, and the body (≤ `body_limit`) it carries."""
    pieces = split_text(leading, body_limit) or [""]
    before: list[OutgoingMessage] = [TextMessage(p) for p in _regroup(pieces[:-1])]
    return before, pieces[-1]


def _regroup(pieces: Sequence[str]) -> list[str]:
    """Re-join body-sized pieces into as few ≤ 4,096-character texts as possible."""
    return split_text("\n\n".join(pieces)) if pieces else []


def _interactive_body(text: str, t: Translator) -> tuple[list[OutgoingMessage], str]:
    body = text.strip() or t("whatsapp.choose")
    return _with_body(body, MAX_INTERACTIVE_BODY)


def _numbered_menu(prompt: Prompt) -> str:
    lines = []
    for number, choice in enumerate(prompt.choices, start=1):
        mark = f" {SELECTED_MARK}" if choice.payload in prompt.selected else ""
        lines.append(f"{number}. {choice.label}{mark}")
    return "\n".join(lines)


def _extra_buttons(prompt: Prompt, t: Translator, *, done: bool) -> list[ReplyButton]:
    buttons = []
    if done and prompt.done_payload:
        label = prompt.done_label or t("whatsapp.done")
        buttons.append(ReplyButton(prompt.done_payload, shorten(label, MAX_BUTTON_TITLE)))
    if prompt.skip_payload:
        label = prompt.skip_label or t("whatsapp.skip")
        buttons.append(ReplyButton(prompt.skip_payload, shorten(label, MAX_BUTTON_TITLE)))
    return buttons


def _single_choice(prompt: Prompt, t: Translator) -> list[OutgoingMessage]:
    options = list(prompt.choices)
    if prompt.skip_payload:
        options.append(Choice(prompt.skip_payload, prompt.skip_label or t("whatsapp.skip")))
    labels_fit = all(len(c.label.strip()) <= MAX_BUTTON_TITLE for c in options)
    if len(options) <= MAX_BUTTONS and labels_fit:
        before, body = _interactive_body(prompt.text, t)
        buttons = tuple(ReplyButton(c.payload, c.label.strip()) for c in options)
        return [*before, ButtonsMessage(body, buttons)]
    if len(prompt.choices) <= MAX_LIST_ROWS:
        text = prompt.text.strip() or t("whatsapp.choose")
        if len(options) > MAX_LIST_ROWS:
            # The skip row does not fit: offer the skip word instead.
            options = list(prompt.choices)
            text = f"{text}\n\n{t('whatsapp.skip_hint')}"
        before, body = _interactive_body(text, t)
        button = shorten(t("whatsapp.list_button"), MAX_LIST_BUTTON)
        rows = tuple(row_for(c) for c in options)
        return [*before, ListMessage(body, button, rows)]
    hints = [t("whatsapp.choose_number")]
    if prompt.skip_payload:
        hints.append(t("whatsapp.skip_hint"))
    text = "\n\n".join(p for p in (prompt.text.strip(), _numbered_menu(prompt), *hints) if p)
    return [TextMessage(p) for p in split_text(text)]


def _multiple_choice(prompt: Prompt, t: Translator) -> list[OutgoingMessage]:
    done_label = prompt.done_label or t("whatsapp.done")
    hint = t("whatsapp.choose_numbers", done=done_label)
    text = "\n\n".join(p for p in (prompt.text.strip(), _numbered_menu(prompt), hint) if p)
    buttons = tuple(_extra_buttons(prompt, t, done=True))
    if not buttons:
        return [TextMessage(p) for p in split_text(text)]
    if len(text) <= MAX_INTERACTIVE_BODY:
        return [ButtonsMessage(text, buttons)]
    # The menu does not fit an interactive body: send it as text, then the buttons.
    menu = "\n\n".join(p for p in (prompt.text.strip(), _numbered_menu(prompt)) if p)
    return [*(TextMessage(p) for p in split_text(menu)), ButtonsMessage(hint, buttons)]


def _photo(prompt: Prompt, t: Translator) -> list[OutgoingMessage]:
    hint = (
        t(
            "whatsapp.photo_hint_many",
            count=prompt.max_photos,
            done=prompt.done_label or t("whatsapp.done"),
        )
        if prompt.max_photos and prompt.max_photos > 1
        else t("whatsapp.photo_hint")
    )
    text = "\n\n".join(p for p in (prompt.text.strip(), hint) if p)
    buttons = tuple(_extra_buttons(prompt, t, done=True))
    if not buttons:
        return [TextMessage(p) for p in split_text(text)]
    before, body = _with_body(text, MAX_INTERACTIVE_BODY)
    return [*before, ButtonsMessage(body, buttons)]


def _skippable_text(prompt: Prompt, t: Translator) -> list[OutgoingMessage]:
    # An optional typed answer: the skip button is the only sign that it may be left out.
    before, body = _interactive_body(prompt.text, t)
    return [*before, ButtonsMessage(body, tuple(_extra_buttons(prompt, t, done=False)))]


def _location(prompt: Prompt, t: Translator) -> list[OutgoingMessage]:
    parts = [prompt.text.strip() or t("whatsapp.location_hint")]
    if prompt.skip_payload:
        # A location request carries no extra buttons: the skip word does it.
        parts.append(t("whatsapp.skip_hint"))
    before, body = _with_body("\n\n".join(parts), MAX_INTERACTIVE_BODY)
    return [*before, LocationRequestMessage(body)]


def render(prompt: Prompt, locale: str | None) -> list[OutgoingMessage]:
    """The WhatsApp messages, in order, that show one prompt."""
    t = translator(locale)
    match prompt.kind:
        case PromptKind.CHOICES if prompt.choices:
            if prompt.multiple:
                return _multiple_choice(prompt, t)
            return _single_choice(prompt, t)
        case PromptKind.LOCATION:
            return _location(prompt, t)
        case PromptKind.PHOTO:
            return _photo(prompt, t)
        case PromptKind.TEXT if prompt.skip_payload:
            return _skippable_text(prompt, t)
        case _:
            return [TextMessage(p) for p in split_text(prompt.text)]


def template_parameter(text: str) -> str:
    """A prompt text made acceptable as a template body parameter (one line, bounded)."""
    return shorten(_WHITESPACE.sub(" ", text).strip(), MAX_TEMPLATE_PARAMETER)


def render_template(prompt: Prompt, name: str, language: str) -> TemplateMessage:
    """The approved template carrying a prompt's text (outside the 24-hour window)."""
    parameter = template_parameter(prompt.text)
    return TemplateMessage(
        name=name, language=language, body_parameters=(parameter,) if parameter else ()
    )
