"""Neutral `Prompt`s → Bot API calls (aiogram method objects), within Telegram's limits.

Choices become inline keyboards whose `callback_data` is a one-letter marker plus the
choice payload: `c:` for a press that answers the question (its keyboard is removed once
pressed) and `t:` for a multi-select toggle (the engine refreshes the keyboard instead).
A location question gets a reply keyboard with a location-request button; everything else
removes any reply keyboard left over. Texts are split under 4,096 UTF-16 units.
"""

from __future__ import annotations

import logging
from pathlib import Path

from aiogram.methods import EditMessageText, SendDocument, SendMessage, SendPhoto
from aiogram.types import (
    FSInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from guardianes.conversations.messages import Prompt, PromptKind
from guardianes.locales import Translator, translator

logger = logging.getLogger(__name__)

MAX_TEXT_UNITS = 4096  # Telegram counts message length in UTF-16 code units
MAX_CAPTION_UNITS = 1024  # captions of photos and documents
MAX_CALLBACK_BYTES = 64
MAX_BUTTONS = 100
CHOOSE_PREFIX = "c:"  # answers the question: the pressed keyboard is closed
TOGGLE_PREFIX = "t:"  # flips one option of a multi-select: the keyboard stays
SELECTED_MARK = "✅ "
UNSELECTED_MARK = "▫️ "

ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


def utf16_length(text: str) -> int:
    """Length as Telegram measures it (emoji outside the BMP count twice)."""
    return len(text.encode("utf-16-le")) // 2


def _prefix_within(text: str, limit: int) -> int:
    """The largest index `i` with `utf16_length(text[:i]) <= limit`."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def split_text(text: str, limit: int = MAX_TEXT_UNITS) -> list[str]:
    """Split at paragraph, line or word boundaries into pieces Telegram accepts."""
    pieces: list[str] = []
    rest = text
    while utf16_length(rest) > limit:
        end = _prefix_within(rest, limit)
        window = rest[:end]
        cut = end
        for separator in ("\n\n", "\n", " "):
            found = window.rfind(separator)
            if found > end // 2:  # only when it keeps pieces reasonably full
                cut = found
                break
        piece = rest[:cut].rstrip()
        pieces.append(piece or rest[:end])
        rest = rest[cut if piece else end :].lstrip()
    if rest.strip() or not pieces:
        pieces.append(rest)
    return pieces


def callback_data(prefix: str, payload: str) -> str:
    """Marker + payload, cut at a character boundary to Telegram's 64-byte limit."""
    data = prefix + payload
    encoded = data.encode()
    if len(encoded) <= MAX_CALLBACK_BYTES:
        return data
    # Payloads are promised <= 60 bytes; a longer one cannot round-trip, so the engine
    # will see an unknown choice and ask again rather than Telegram refusing the message.
    logger.warning("choice payload over %d bytes cut: %r", MAX_CALLBACK_BYTES, payload)
    return encoded[:MAX_CALLBACK_BYTES].decode("utf-8", errors="ignore")


def decode_callback(data: str) -> tuple[str, bool]:
    """(payload, answers_question) from a button's callback_data."""
    if data.startswith(TOGGLE_PREFIX):
        return data[len(TOGGLE_PREFIX) :], False
    if data.startswith(CHOOSE_PREFIX):
        return data[len(CHOOSE_PREFIX) :], True
    return data, True  # buttons from before markers existed answer the question


def _button(label: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=label.strip() or "·", callback_data=data)


def _inline_keyboard(prompt: Prompt, t: Translator) -> InlineKeyboardMarkup | None:
    rows: list[list[InlineKeyboardButton]] = []
    if prompt.kind is PromptKind.CHOICES:
        for choice in prompt.choices:
            if prompt.multiple:
                mark = SELECTED_MARK if choice.payload in prompt.selected else UNSELECTED_MARK
                rows.append(
                    [_button(mark + choice.label, callback_data(TOGGLE_PREFIX, choice.payload))]
                )
            else:
                rows.append([_button(choice.label, callback_data(CHOOSE_PREFIX, choice.payload))])
    closing: list[InlineKeyboardButton] = []
    if prompt.done_payload and (prompt.multiple or prompt.kind is PromptKind.PHOTO):
        label = prompt.done_label or t("telegram.done")
        closing.append(_button(label, callback_data(CHOOSE_PREFIX, prompt.done_payload)))
    if prompt.skip_payload and prompt.kind in (PromptKind.CHOICES, PromptKind.PHOTO):
        label = prompt.skip_label or t("telegram.skip")
        closing.append(_button(label, callback_data(CHOOSE_PREFIX, prompt.skip_payload)))
    if len(rows) + len(closing) > MAX_BUTTONS:
        logger.warning("prompt with %d choices cut to %d buttons", len(rows), MAX_BUTTONS)
        rows = rows[: MAX_BUTTONS - len(closing)]
    if closing:
        rows.append(closing)
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def _location_keyboard(prompt: Prompt, t: Translator) -> ReplyKeyboardMarkup:
    rows = [[KeyboardButton(text=t("telegram.location_button"), request_location=True)]]
    if prompt.skip_payload:
        # A reply keyboard can only send text: the catalog's "Omitir"/"Skip" is a command
        # word, so the press arrives as the SKIP command whatever the prompt's label.
        rows.append([KeyboardButton(text=t("telegram.skip"))])
    return ReplyKeyboardMarkup(keyboard=rows, resize_keyboard=True, one_time_keyboard=True)


def _full_text(prompt: Prompt, t: Translator) -> str:
    parts = [prompt.text.strip()]
    match prompt.kind:
        case PromptKind.CHOICES:
            if not parts[0]:
                parts[0] = t("telegram.choose")
            if prompt.multiple:
                parts.append(
                    t("telegram.choose_many", done=prompt.done_label or t("telegram.done"))
                )
        case PromptKind.LOCATION:
            parts.append(t("telegram.location_hint"))
        case PromptKind.PHOTO:
            if prompt.max_photos and prompt.max_photos > 1:
                done = prompt.done_label or t("telegram.done")
                parts.append(t("telegram.photo_hint_many", count=prompt.max_photos, done=done))
            else:
                parts.append(t("telegram.photo_hint"))
    return "\n\n".join(p for p in parts if p) or t("telegram.choose")


def reply_markup(prompt: Prompt, locale: str | None) -> ReplyMarkup:
    """The keyboard the last message of a prompt carries."""
    t = translator(locale)
    if prompt.kind is PromptKind.LOCATION:
        return _location_keyboard(prompt, t)
    inline = _inline_keyboard(prompt, t)
    if inline is not None:
        return inline
    return ReplyKeyboardRemove(remove_keyboard=True)


def chat_id_of(address: str) -> int | str:
    """Telegram chat ids are integers; `@channel` names stay strings."""
    return int(address) if address.lstrip("-").isdigit() else address


def render(prompt: Prompt, address: str, locale: str | None) -> list[SendMessage]:
    """The sendMessage calls for one prompt; the keyboard rides on the last piece."""
    t = translator(locale)
    chat_id = chat_id_of(address)
    pieces = split_text(_full_text(prompt, t))
    markup = reply_markup(prompt, locale)
    return [
        SendMessage(
            chat_id=chat_id,
            text=piece,
            reply_markup=markup if index == len(pieces) - 1 else None,
        )
        for index, piece in enumerate(pieces)
    ]


def render_attachment(
    prompt: Prompt, address: str, file: Path
) -> list[SendMessage | SendDocument | SendPhoto]:
    """sendDocument (or sendPhoto for an IMAGE prompt) uploading `file`; a long caption goes first.

    Our own photos are re-uploaded rather than sent by the file id they came with: ids are
    per bot, and photos from WhatsApp or the web chat never had one.
    """
    attachment = prompt.attachment
    assert attachment is not None
    chat_id = chat_id_of(address)
    caption: str | None = prompt.text.strip() or None
    before: list[SendMessage | SendDocument | SendPhoto] = []
    if caption is not None and utf16_length(caption) > MAX_CAPTION_UNITS:
        before = [SendMessage(chat_id=chat_id, text=piece) for piece in split_text(caption)]
        caption = None
    upload = FSInputFile(file, filename=attachment.file_name)
    if prompt.kind is PromptKind.IMAGE:
        return [*before, SendPhoto(chat_id=chat_id, photo=upload, caption=caption)]
    return [*before, SendDocument(chat_id=chat_id, document=upload, caption=caption)]


def render_edit(
    prompt: Prompt, address: str, message_id: int, locale: str | None
) -> EditMessageText:
    """The editMessageText call that turns an earlier message into this prompt."""
    last = render(prompt, address, locale)[-1]
    markup = last.reply_markup
    return EditMessageText(
        chat_id=last.chat_id,
        message_id=message_id,
        text=last.text,
        reply_markup=markup if isinstance(markup, InlineKeyboardMarkup) else None,
    )


def button_label(markup: InlineKeyboardMarkup | None, data: str) -> str | None:
    """The text of the button carrying `data`, without a multi-select mark."""
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text.removeprefix(SELECTED_MARK).removeprefix(UNSELECTED_MARK)
    return None
