"""Telegram updates → neutral `InboundMessage`s.

Parsing happens in two steps. `read_update` looks at one aiogram `Update` without any I/O
and says what it is: nothing to answer (edited messages, groups, service notices), or an
`Incoming` holding the `InboundMessage` and, for a photo, the file still to download.
`to_inbound` then downloads and stores that photo through a `PhotoFetcher`. The parts of an
album (one `media_group_id`) are merged by `merge_album` into one PHOTO message.

Every message's `external_id` is `tg:<update_id>`, so a redelivered update is recognised by
the inbound store's UNIQUE(channel, external_id).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from aiogram.enums import ChatType, ContentType
from aiogram.types import CallbackQuery, Message, Update, User

from guardianes.bot.telegram.names import CHANNEL, MediaFailedError
from guardianes.bot.telegram.render import button_label, decode_callback
from guardianes.conversations.messages import (
    GeoPoint,
    InboundKind,
    InboundMessage,
    StoredMedia,
)
from guardianes.conversations.text import parse_command_word

# Things people send that we cannot use: answered with the engine's polite "unsupported".
# Everything else without text, location or photo is a service notice and gets no answer.
UNSUPPORTED_CONTENT = frozenset(
    {
        ContentType.ANIMATION,
        ContentType.DOCUMENT,
        ContentType.LIVE_PHOTO,
        ContentType.PAID_MEDIA,
        ContentType.STICKER,
        ContentType.STORY,
        ContentType.VIDEO,
        ContentType.VIDEO_NOTE,
        ContentType.CHECKLIST,
        ContentType.CONTACT,
        ContentType.DICE,
        ContentType.GAME,
        ContentType.POLL,
        ContentType.INVOICE,
        ContentType.WEB_APP_DATA,
        ContentType.USERS_SHARED,
        ContentType.CHAT_SHARED,
        ContentType.GIVEAWAY,
        ContentType.UNKNOWN,
    }
)


@dataclass(frozen=True, slots=True)
class FileRef:
    """A file Telegram holds for us, to fetch with getFile."""

    file_id: str
    file_unique_id: str
    file_size: int | None = None
    mime_type: str | None = None


PhotoFetcher = Callable[[FileRef], Awaitable[StoredMedia]]


@dataclass(frozen=True, slots=True)
class Incoming:
    """One update read: the message so far, and what is left to do with it."""

    update_id: int
    inbound: InboundMessage  # a PHOTO has no `photos` until `to_inbound` fetched the file
    photo: FileRef | None = None  # the file to fetch: a photo, or an AUDIO's voice note
    media_group_id: str | None = None
    message_id: int = 0  # orders the parts of an album
    closes_keyboard: bool = False  # a press that answers its question: remove the buttons
    declined: bool = False  # its photo is not wanted now: left on Telegram's servers

    @property
    def chat_id(self) -> str:
        """Where replies go."""
        return self.inbound.address or self.inbound.user_id


def external_id(update_id: int) -> str:
    """The deduplication key of an update."""
    return f"tg:{update_id}"


def _display_name(user: User) -> str:
    return " ".join(p for p in (user.first_name, user.last_name) if p).strip() or str(user.id)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _base(update_id: int, user: User, chat_id: int, received_at: datetime) -> InboundMessage:
    return InboundMessage(
        channel=CHANNEL,
        user_id=str(user.id),
        external_id=external_id(update_id),
        kind=InboundKind.UNSUPPORTED,
        display_name=_display_name(user),
        language_code=user.language_code,
        address=str(chat_id),
        received_at=_aware(received_at),
    )


def _command_args(text: str) -> str:
    if not text.startswith("/"):
        return ""
    parts = text.split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


def _read_message(update_id: int, message: Message) -> Incoming | None:
    user = message.from_user
    if message.chat.type != ChatType.PRIVATE or user is None or user.is_bot:
        return None  # groups and channels: Guardianes only talks one to one
    base = _base(update_id, user, message.chat.id, message.date)
    incoming = Incoming(update_id=update_id, inbound=base, message_id=message.message_id)
    if message.text is not None:
        command = parse_command_word(message.text)
        if command is not None:
            inbound = replace(
                base,
                kind=InboundKind.COMMAND,
                text=message.text,
                command=command,
                command_args=_command_args(message.text),
            )
        else:
            inbound = replace(base, kind=InboundKind.TEXT, text=message.text)
        return replace(incoming, inbound=inbound)
    if message.location is not None:
        point = GeoPoint(message.location.latitude, message.location.longitude)
        title = message.venue.title if message.venue else None
        inbound = replace(base, kind=InboundKind.LOCATION, location=point, text=title)
        return replace(incoming, inbound=inbound)
    photo: FileRef | None = None
    if message.photo:
        # Telegram lists sizes smallest first; pick by area in case the order ever changes.
        largest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        photo = FileRef(largest.file_id, largest.file_unique_id, largest.file_size, "image/jpeg")
    elif message.document is not None and (message.document.mime_type or "").startswith("image/"):
        document = message.document
        photo = FileRef(
            document.file_id, document.file_unique_id, document.file_size, document.mime_type
        )
    if photo is not None:
        inbound = replace(base, kind=InboundKind.PHOTO, text=message.caption)
        return replace(
            incoming, inbound=inbound, photo=photo, media_group_id=message.media_group_id
        )
    sound = message.voice or message.audio
    if sound is not None:
        # A voice note or audio file: fetched like a photo, when a question asks for one.
        ref = FileRef(
            sound.file_id, sound.file_unique_id, sound.file_size, sound.mime_type or "audio/ogg"
        )
        inbound = replace(base, kind=InboundKind.AUDIO, text=message.caption)
        return replace(incoming, inbound=inbound, photo=ref)
    if message.content_type in UNSUPPORTED_CONTENT:
        return replace(incoming, inbound=replace(base, text=message.caption))
    return None


def _read_callback(update_id: int, query: CallbackQuery) -> Incoming | None:
    message = query.message
    if message is None or query.data is None or query.from_user.is_bot:
        return None  # inline-mode messages and game buttons are not ours
    if message.chat.type != ChatType.PRIVATE:
        return None
    payload, closes = decode_callback(query.data)
    label = button_label(message.reply_markup, query.data) if isinstance(message, Message) else None
    base = _base(update_id, query.from_user, message.chat.id, datetime.now(UTC))
    inbound = replace(
        base,
        kind=InboundKind.CHOICE,
        payload=payload,
        text=label,
        source_message_id=str(message.message_id),
    )
    return Incoming(
        update_id=update_id,
        inbound=inbound,
        message_id=message.message_id,
        closes_keyboard=closes,
    )


def read_update(update: Update) -> Incoming | None:
    """What one update says, or None when it needs no answer."""
    if update.message is not None:
        return _read_message(update.update_id, update.message)
    if update.callback_query is not None:
        return _read_callback(update.update_id, update.callback_query)
    # edited_message, channel posts, membership changes...: nothing a guardian asked.
    return None


def callback_query_id(update: Update) -> str | None:
    """The id to answer when the update is a button press (always answered)."""
    return update.callback_query.id if update.callback_query is not None else None


async def fetch_photo(incoming: Incoming, fetch: PhotoFetcher) -> StoredMedia | None:
    """The stored photo of an update; None when Telegram's file is refused for good.

    Raises `MediaFailedError` (retryable) when the download may work later.
    """
    if incoming.photo is None or incoming.declined:
        return None
    try:
        return await fetch(incoming.photo)
    except MediaFailedError as error:
        if error.retryable:
            raise
        return None


async def to_inbound(incoming: Incoming, fetch: PhotoFetcher) -> InboundMessage:
    """The neutral message of one update, its photo downloaded and stored (unless declined)."""
    if incoming.photo is None or incoming.declined:
        return incoming.inbound
    stored = await fetch_photo(incoming, fetch)
    if stored is None:
        return replace(incoming.inbound, kind=InboundKind.UNSUPPORTED)
    return replace(incoming.inbound, photos=(stored,))


def merge_album(parts: Sequence[tuple[Incoming, StoredMedia | None]]) -> InboundMessage:
    """One PHOTO message for the parts of an album, in the order they were sent.

    Its external id is the first part's (`tg:<lowest update_id>`), so a redelivered album
    is recognised; the other parts' ids travel in `part_ids`, so one redelivered late is too.
    Refused files are left out, and an album of refused files is UNSUPPORTED; an album
    nobody asked for (declined) is a PHOTO without photos, which the engine explains.
    """
    if not parts:
        raise ValueError("an album has at least one part")
    ordered = sorted(parts, key=lambda part: (part[0].message_id, part[0].update_id))
    first_part = min(ordered, key=lambda part: part[0].update_id)[0]
    first = first_part.inbound
    part_ids = tuple(
        sorted(
            {external_id(p.update_id) for p, _ in ordered if p.update_id != first_part.update_id}
        )
    )
    photos = tuple(stored for _, stored in ordered if stored is not None)
    caption = next((p.inbound.text for p, _ in ordered if p.inbound.text), None)
    received = min(p.inbound.received_at for p, _ in ordered)
    merged = replace(first, text=caption, received_at=received, part_ids=part_ids)
    if not photos and all(p.declined for p, _ in ordered):
        return replace(merged, kind=InboundKind.PHOTO, photos=())
    if not photos:
        return replace(merged, kind=InboundKind.UNSUPPORTED)
    return replace(merged, kind=InboundKind.PHOTO, photos=photos)
