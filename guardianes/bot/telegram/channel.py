"""`TelegramChannel`: sends outbox rows through the Bot API and classifies failures.

No retries and no pacing here: the outbox sender paces per chat and per channel, and acts
on the `FailureKind` this channel reports (wait `retry_after`, back off, give up).

Edits (a refreshed multi-select, a pressed question's keyboard removed) are outbox rows
paced like sends. The sender tells each edit what the message shows now (`Delivery.shown`),
so an edit that would change nothing, or touch a keyboard already removed, is never sent:
Telegram would answer it 400 "message is not modified" and count it against the caps.
"""

from __future__ import annotations

import logging
from pathlib import Path

import aiohttp
from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramRetryAfter,
)
from aiogram.methods import EditMessageReplyMarkup, EditMessageText
from aiogram.types import InlineKeyboardMarkup, Message

from guardianes.bot.telegram.render import chat_id_of, render, render_attachment, render_edit
from guardianes.services.delivery import (
    ChannelName,
    Delivery,
    FailureKind,
    SendFailedError,
    SendResult,
    ShownMessage,
)
from guardianes.services.privacy import media_file

logger = logging.getLogger(__name__)

# 400 descriptions that mean the person cannot be reached rather than a wrong request.
UNREACHABLE_DESCRIPTIONS = ("chat not found", "user not found", "peer_id_invalid")
# 400 descriptions of an edit that cannot happen: send the prompt as a new message instead.
EDIT_IMPOSSIBLE_DESCRIPTIONS = (
    "message to edit not found",
    "message can't be edited",
    "message identifier is not specified",
)
NOT_MODIFIED = "message is not modified"
# The outbox kind of a row that removes the keyboard of `edit_message_id`.
CLOSE_KEYBOARD = "close_keyboard"


def classify(error: Exception) -> SendFailedError:
    """The outbox's reading of an error raised by aiogram or the HTTP client."""
    detail = str(error)
    match error:
        case TelegramRetryAfter():
            return SendFailedError(
                FailureKind.RATE_LIMITED, detail, retry_after=float(error.retry_after)
            )
        case TelegramForbiddenError():
            return SendFailedError(FailureKind.UNREACHABLE, detail)
        case TelegramBadRequest() if any(
            text in error.message.lower() for text in UNREACHABLE_DESCRIPTIONS
        ):
            return SendFailedError(FailureKind.UNREACHABLE, detail)
        case TelegramBadRequest() | TelegramEntityTooLarge() | TelegramMigrateToChat():
            return SendFailedError(FailureKind.PERMANENT, detail)
        case TelegramAPIError() | ClientDecodeError() | aiohttp.ClientError() | TimeoutError():
            # Server errors, network errors, timeouts, and also a revoked token or a
            # conflicting poller: all may pass, and the outbox caps the attempts.
            return SendFailedError(FailureKind.RETRY, detail)
    return SendFailedError(FailureKind.RETRY, f"{type(error).__name__}: {detail}")


def _message_id(result: Message | bool) -> str | None:
    return str(result.message_id) if isinstance(result, Message) else None


class TelegramChannel:
    """The Telegram side of the outbox."""

    name: str = ChannelName.TELEGRAM.value

    def __init__(self, bot: Bot, media_dir: Path | None = None) -> None:
        self.bot = bot
        self.media_dir = media_dir  # where attachments (the "my data" export, photos) live

    async def send(self, delivery: Delivery) -> SendResult:
        """Edit the pressed message for a refreshed prompt, else send; map failures."""
        try:
            target = delivery.edit_message_id
            if delivery.kind == CLOSE_KEYBOARD:
                return await self._close_keyboard(delivery)
            if target and target.isdigit():
                if delivery.shown is not None and delivery.shown.keyboard_closed:
                    # Answered and closed meanwhile: the refreshed prompt is a new message.
                    return await self._send(delivery)
                if self._unchanged(delivery, int(target)):
                    return SendResult(platform_message_id=target)
                edited = await self._edit(delivery, int(target))
                if edited is not None:
                    return edited
            return await self._send(delivery)
        except SendFailedError:
            raise
        except Exception as error:
            failure = classify(error)
            logger.info("telegram send of row %s failed: %s", delivery.outbox_id, failure)
            raise failure from error

    async def _send(self, delivery: Delivery) -> SendResult:
        last: Message | None = None
        methods = (
            render_attachment(delivery.prompt, delivery.address, self._file(delivery))
            if delivery.prompt.attachment is not None
            else render(delivery.prompt, delivery.address, delivery.locale)
        )
        for method in methods:
            last = await self.bot(method)
        return SendResult(platform_message_id=_message_id(last) if last else None)

    def _file(self, delivery: Delivery) -> Path:
        attachment = delivery.prompt.attachment
        assert attachment is not None
        path = media_file(self.media_dir, attachment.path) if self.media_dir else None
        if path is None or not path.is_file():
            # Deleted since it was queued (retention, erasure): sending again cannot help.
            raise SendFailedError(FailureKind.PERMANENT, f"file {attachment.path} is gone")
        return path

    @staticmethod
    def _unchanged(delivery: Delivery, message_id: int) -> bool:
        """True when the edit would show exactly what the message shows now."""
        shown = delivery.shown
        if shown is None:
            return False
        now = render_edit(shown.prompt, delivery.address, message_id, shown.locale)
        new = render_edit(delivery.prompt, delivery.address, message_id, delivery.locale)
        return _same_content(now, new)

    async def _close_keyboard(self, delivery: Delivery) -> SendResult:
        """Remove the keyboard of a pressed question, unless it has none left."""
        target = delivery.edit_message_id or ""
        if not target.isdigit() or not _has_inline_keyboard(delivery.shown, delivery.address):
            return SendResult(platform_message_id=target or None)
        try:
            await self.bot(
                EditMessageReplyMarkup(chat_id=chat_id_of(delivery.address), message_id=int(target))
            )
        except TelegramBadRequest as error:
            description = error.message.lower()
            if NOT_MODIFIED in description or any(
                text in description for text in EDIT_IMPOSSIBLE_DESCRIPTIONS
            ):
                # Closed by someone else, or too old to edit: either way nothing to press.
                return SendResult(platform_message_id=target)
            raise
        return SendResult(platform_message_id=target)

    async def _edit(self, delivery: Delivery, message_id: int) -> SendResult | None:
        method = render_edit(delivery.prompt, delivery.address, message_id, delivery.locale)
        try:
            result = await self.bot(method)
        except TelegramBadRequest as error:
            description = error.message.lower()
            if NOT_MODIFIED in description:
                return SendResult(platform_message_id=str(message_id))
            if any(text in description for text in EDIT_IMPOSSIBLE_DESCRIPTIONS):
                return None
            raise
        return SendResult(platform_message_id=_message_id(result) or str(message_id))


def _same_content(one: EditMessageText, other: EditMessageText) -> bool:
    """What Telegram compares before answering "message is not modified"."""
    return one.text == other.text and _markup_json(one.reply_markup) == _markup_json(
        other.reply_markup
    )


def _markup_json(markup: InlineKeyboardMarkup | None) -> object:
    return None if markup is None else markup.model_dump(exclude_none=True)


def _has_inline_keyboard(shown: ShownMessage | None, address: str) -> bool:
    """Whether the message still carries buttons (unknown messages are assumed to)."""
    if shown is None:
        return True
    if shown.keyboard_closed:
        return False
    markup = render(shown.prompt, address, shown.locale)[-1].reply_markup
    return isinstance(markup, InlineKeyboardMarkup)
