"""Cloud API webhook payloads → neutral `InboundMessage`s and outbox status updates.

Parsing happens in two steps. `read_webhook` validates the envelope into typed models and
splits it into incoming messages (each with its sender's identifiers) and status updates; it
does no I/O. `to_inbound` then turns one incoming message into an `InboundMessage`, given the
person's stable user id (resolved by the caller from the identity table) and a media fetcher
that downloads and stores photos on arrival (their URLs live five minutes).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from guardianes.conversations.bounds import parse_epoch_seconds
from guardianes.conversations.messages import (
    Command,
    GeoPoint,
    InboundKind,
    InboundMessage,
    StoredMedia,
)
from guardianes.conversations.text import parse_command_word
from guardianes.services.delivery import ChannelName

logger = logging.getLogger(__name__)

CHANNEL = ChannelName.WHATSAPP.value
# Message types that never get an answer: notices about the account, not things people said.
SILENT_TYPES = frozenset({"request_welcome", "ephemeral"})
MAX_MESSAGE_ID = 200  # the inbound store's key length; Meta's wamids are ~60 characters
MAX_WA_ID = 40
MAX_USER_ID = 200


class MalformedWebhookError(ValueError):
    """The body is not JSON or not shaped like a Cloud API webhook."""


class MediaFailedError(Exception):
    """A photo could not be fetched or stored; `retryable` says whether Meta should redeliver."""

    def __init__(self, detail: str, *, retryable: bool) -> None:
        super().__init__(detail)
        self.retryable = retryable


MediaFetcher = Callable[[str], Awaitable[StoredMedia]]
CommandParser = Callable[[str | None], Command | None]


# ------------------------------------------------------------------ payload models


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


M = TypeVar("M", bound=_Model)


class Profile(_Model):
    """A contact's profile."""

    name: str | None = None
    username: str | None = None


class WebhookContact(_Model):
    """`contacts[]`: who sent the messages, by phone (`wa_id`) and/or BSUID (`user_id`)."""

    profile: Profile | None = None
    wa_id: str | None = Field(default=None, max_length=MAX_WA_ID)
    user_id: str | None = Field(default=None, max_length=MAX_USER_ID)


class TextContent(_Model):
    """`text`."""

    body: str = ""


class Reply(_Model):
    """`button_reply` / `list_reply`: the id we rendered and its title."""

    id: str
    title: str | None = None
    description: str | None = None


class InteractiveContent(_Model):
    """`interactive`: a reply to our buttons or list."""

    type: str
    button_reply: Reply | None = None
    list_reply: Reply | None = None


class TemplateButtonContent(_Model):
    """`button`: a press on a template's quick-reply button."""

    payload: str | None = None
    text: str | None = None


class LocationContent(_Model):
    """`location`."""

    latitude: float = Field(ge=-90.0, le=90.0)
    longitude: float = Field(ge=-180.0, le=180.0)
    name: str | None = None
    address: str | None = None


class ImageContent(_Model):
    """`image`: a media id to look up and download."""

    id: str
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None


class AudioContent(_Model):
    """`audio`: a voice note (`voice: true`) or an audio file, as a media id."""

    id: str
    mime_type: str | None = None
    sha256: str | None = None
    voice: bool | None = None


class MessageContext(_Model):
    """`context`: the message of ours being answered."""

    id: str | None = Field(default=None, max_length=MAX_MESSAGE_ID)


class ReactionContent(_Model):
    """`reaction`: an emoji on an earlier message; an empty or missing emoji removes it."""

    message_id: str | None = None
    emoji: str | None = None


class SystemContent(_Model):
    """`system`: a notice about the person's account, e.g. `user_changed_number`."""

    type: str | None = None
    body: str | None = None
    wa_id: str | None = Field(default=None, max_length=MAX_WA_ID)
    user_id: str | None = Field(default=None, max_length=MAX_USER_ID)
    previous_user_id: str | None = Field(default=None, max_length=MAX_USER_ID)


class WebhookErrorDetail(_Model):
    """`errors[]` of a status, a message or a whole change value."""

    code: int | None = None
    title: str | None = None
    message: str | None = None

    def describe(self) -> str:
        """ "code 131051: Message type unknown"."""
        return f"code {self.code}: {self.title or self.message or ''}".strip()


# Meta sends the time as a string of digits; some senders put a number.
Timestamp = str | int | float | None


class WebhookMessage(_Model):
    """`messages[]`."""

    id: str = Field(min_length=1, max_length=MAX_MESSAGE_ID)
    sender: str | None = Field(default=None, alias="from", max_length=MAX_WA_ID)
    from_user_id: str | None = Field(default=None, max_length=MAX_USER_ID)
    timestamp: Timestamp = None
    type: str = Field(max_length=40)
    text: TextContent | None = None
    interactive: InteractiveContent | None = None
    button: TemplateButtonContent | None = None
    location: LocationContent | None = None
    image: ImageContent | None = None
    audio: AudioContent | None = None
    context: MessageContext | None = None
    reaction: ReactionContent | None = None
    system: SystemContent | None = None
    errors: list[WebhookErrorDetail] = Field(default_factory=list)


class WebhookStatus(_Model):
    """`statuses[]`: what happened to a message we sent."""

    id: str = Field(min_length=1, max_length=MAX_MESSAGE_ID)
    status: str
    timestamp: Timestamp = None
    recipient_id: str | None = None
    recipient_user_id: str | None = None
    errors: list[WebhookErrorDetail] = Field(default_factory=list)


class Metadata(_Model):
    """`metadata`: which of our numbers received it."""

    phone_number_id: str | None = None
    display_phone_number: str | None = None


class ChangeValue(_Model):
    """`entry[].changes[].value`; its lists are validated item by item (see `split_envelope`)."""

    metadata: Metadata | None = None
    contacts: list[Any] = Field(default_factory=list)
    messages: list[Any] = Field(default_factory=list)
    statuses: list[Any] = Field(default_factory=list)
    errors: list[Any] = Field(default_factory=list)


class Change(_Model):
    """`entry[].changes[]`."""

    field: str
    value: ChangeValue


class Entry(_Model):
    """`entry[]`."""

    id: str | int | None = None
    changes: list[Any] = Field(default_factory=list)


class Envelope(_Model):
    """The whole webhook body."""

    object: str
    entry: list[Any] = Field(default_factory=list)


# ------------------------------------------------------------------ parsed results


@dataclass(frozen=True, slots=True)
class Sender:
    """The identifiers one payload gives for a person; at least one is set."""

    wa_id: str | None
    bsuid: str | None
    name: str | None = None

    @property
    def address(self) -> str:
        """Where replies go: the phone number when the payload shares it, else the BSUID."""
        address = self.wa_id or self.bsuid
        if address is None:
            raise ValueError("sender without identifiers")
        return address


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """One message someone sent, with who sent it."""

    sender: Sender
    message: WebhookMessage


class DeliveryState(StrEnum):
    """The Cloud API's message statuses."""

    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """A status callback for one of our messages, for the outbox."""

    platform_message_id: str
    state: DeliveryState
    error_code: int | None = None
    error_title: str | None = None

    @property
    def error(self) -> str | None:
        """A short description of the failure, if any."""
        if self.error_code is None and not self.error_title:
            return None
        return f"code {self.error_code}: {self.error_title or ''}".strip()


class NoticeKind(StrEnum):
    """Things a webhook reports that are kept (NOTED) but never answered."""

    REACTION = "reaction"
    EDIT = "edit"
    REVOKE = "revoke"
    SYSTEM = "system"
    ERROR = "error"  # a platform error reported for a whole change value
    REFUSED = "refused"  # a message we could not read, logged with its id and field
    OTHER = "other"  # request_welcome, ephemeral...


@dataclass(frozen=True, slots=True)
class Notice:
    """One such thing; `new_wa_id` is set when a person changed their phone number."""

    external_id: str
    kind: NoticeKind
    detail: str | None = None
    old_wa_id: str | None = None
    new_wa_id: str | None = None
    old_user_id: str | None = None  # a business-scoped user id (BSUID) that changed
    new_user_id: str | None = None


@dataclass(frozen=True, slots=True)
class WebhookBatch:
    """Everything one webhook post carried, in order."""

    messages: tuple[IncomingMessage, ...] = ()
    statuses: tuple[StatusUpdate, ...] = ()
    notices: tuple[Notice, ...] = ()


# ------------------------------------------------------------------ parsing


def read_envelope(body: bytes) -> Envelope:
    """Decode and validate a webhook body; raise `MalformedWebhookError` when it is not one."""
    try:
        data = json.loads(body)
    except RecursionError as error:
        # JSON nested thousands deep: the decoder's recursion limit, not a server error.
        raise MalformedWebhookError("not JSON: nested too deep") from error
    except (UnicodeDecodeError, ValueError) as error:
        raise MalformedWebhookError(f"not JSON: {error}") from error
    try:
        return Envelope.model_validate(data)
    except (ValidationError, RecursionError) as error:
        raise MalformedWebhookError("not a webhook envelope") from error


def _first_problem(error: ValidationError) -> str:
    """The field of the first problem, e.g. `timestamp` or `location.latitude`."""
    first = error.errors()[0]
    return ".".join(str(part) for part in first["loc"]) or "(whole item)"


def _id_of(raw: Any) -> str | None:
    value = raw.get("id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) else None


def _refused(raw: Any, error: ValidationError, what: str) -> Notice | None:
    """Log a refused item with its id and field; a notice when its id can be kept."""
    item_id = _id_of(raw)
    field = _first_problem(error)
    logger.warning(
        "WhatsApp %s %s refused: field %s: %s",
        what,
        (item_id or "?")[:80],
        field,
        error.errors()[0]["msg"],
    )
    if item_id and len(item_id) <= MAX_MESSAGE_ID:
        return Notice(item_id, NoticeKind.REFUSED, f"{what} field {field}")
    return None


def _valid_items(raw_items: list[Any], model: type[M], what: str, notices: list[Notice]) -> list[M]:
    valid: list[M] = []
    for raw in raw_items:
        try:
            valid.append(model.model_validate(raw))
        except ValidationError as error:
            notice = _refused(raw, error, what)
            if notice is not None:
                notices.append(notice)
    return valid


def _sender_of(message: WebhookMessage, contacts: list[WebhookContact]) -> Sender | None:
    contact = next(
        (
            c
            for c in contacts
            if (message.sender and c.wa_id == message.sender)
            or (message.from_user_id and c.user_id == message.from_user_id)
        ),
        contacts[0] if len(contacts) == 1 else None,
    )
    wa_id = message.sender or (contact.wa_id if contact else None)
    bsuid = message.from_user_id or (contact.user_id if contact else None)
    if not wa_id and not bsuid:
        return None
    name = contact.profile.name if contact and contact.profile else None
    return Sender(wa_id=wa_id or None, bsuid=bsuid or None, name=name)


def _status_update(status: WebhookStatus) -> StatusUpdate | None:
    try:
        state = DeliveryState(status.status)
    except ValueError:
        return None  # e.g. "deleted", "warning", "played": nothing for the outbox to record
    error = status.errors[0] if status.errors else None
    return StatusUpdate(
        platform_message_id=status.id,
        state=state,
        error_code=error.code if error else None,
        error_title=(error.title or error.message) if error else None,
    )


def _notice_of(message: WebhookMessage) -> Notice | None:
    """The notice a message is, when it is not something a person asks the bot."""
    kind = message.type
    if kind == "reaction":
        emoji = message.reaction.emoji if message.reaction else None
        target = message.reaction.message_id if message.reaction else None
        action = "reacted" if emoji else "removed a reaction"
        return Notice(message.id, NoticeKind.REACTION, f"{action} on {target or '?'}")
    if kind == "edit":
        return Notice(message.id, NoticeKind.EDIT)
    if kind in {"revoke", "deleted"}:
        return Notice(message.id, NoticeKind.REVOKE)
    if kind == "system":
        system = message.system
        system_type = system.type if system else None
        if system and system.type == "user_changed_number" and system.wa_id and message.sender:
            return Notice(
                message.id,
                NoticeKind.SYSTEM,
                system_type,
                old_wa_id=message.sender,
                new_wa_id=system.wa_id,
            )
        if system and system.type == "user_changed_user_id" and system.user_id:
            return Notice(
                message.id,
                NoticeKind.SYSTEM,
                system_type,
                old_user_id=system.previous_user_id or message.from_user_id,
                new_user_id=system.user_id,
            )
        return Notice(message.id, NoticeKind.SYSTEM, system_type)
    if kind in SILENT_TYPES:
        return Notice(message.id, NoticeKind.OTHER, kind)
    return None


def _value_errors(entry_id: str, value: ChangeValue, notices: list[Notice]) -> None:
    for index, raw in enumerate(value.errors):
        try:
            error = WebhookErrorDetail.model_validate(raw)
        except ValidationError:
            continue
        detail = error.describe()
        logger.warning("WhatsApp reported an error for %s: %s", entry_id, detail)
        digest = hashlib.sha256(
            json.dumps(raw, sort_keys=True, default=str).encode() + entry_id.encode()
        ).hexdigest()[:24]
        notices.append(Notice(f"error:{digest}:{index}", NoticeKind.ERROR, detail))


def split_envelope(envelope: Envelope, phone_number_id: str | None = None) -> WebhookBatch:
    """Messages, statuses and notices of an envelope addressed to our number.

    Items are validated one by one: a malformed message is logged with its id and field
    and left out, and the rest of the post is still processed (Meta would redeliver a
    refused post for days).
    """
    messages: list[IncomingMessage] = []
    statuses: list[StatusUpdate] = []
    notices: list[Notice] = []
    for entry in _valid_items(envelope.entry, Entry, "entry", notices):
        entry_id = str(entry.id or "")
        for change in _valid_items(entry.changes, Change, "change", notices):
            if change.field != "messages":
                continue
            value = change.value
            metadata_id = value.metadata.phone_number_id if value.metadata else None
            if phone_number_id and metadata_id and metadata_id != phone_number_id:
                continue  # another number of the same app
            _value_errors(entry_id, value, notices)
            contacts = _valid_items(value.contacts, WebhookContact, "contact", notices)
            for message in _valid_items(value.messages, WebhookMessage, "message", notices):
                for error in message.errors:
                    logger.info("WhatsApp message %s carries %s", message.id, error.describe())
                notice = _notice_of(message)
                if notice is not None:
                    notices.append(notice)
                    continue
                sender = _sender_of(message, contacts)
                if sender is not None:
                    messages.append(IncomingMessage(sender, message))
                else:
                    logger.warning("WhatsApp message %s refused: field from: missing", message.id)
            for status in _valid_items(value.statuses, WebhookStatus, "status", notices):
                update = _status_update(status)
                if update is not None:
                    statuses.append(update)
    return WebhookBatch(messages=tuple(messages), statuses=tuple(statuses), notices=tuple(notices))


def read_webhook(body: bytes, phone_number_id: str | None = None) -> WebhookBatch:
    """Decode, validate and split a webhook body."""
    return split_envelope(read_envelope(body), phone_number_id)


def _received_at(message: WebhookMessage) -> datetime:
    # Meta's own timestamp: a redelivery hours later must not look like a fresh message
    # (the 24-hour window is computed from it). An implausible one means "now".
    return parse_epoch_seconds(message.timestamp) or datetime.now(UTC)


async def to_inbound(
    incoming: IncomingMessage,
    *,
    user_id: str,
    fetch_media: MediaFetcher,
    command_parser: CommandParser = parse_command_word,
    download: bool = True,
) -> InboundMessage:
    """The neutral message for one incoming WhatsApp message.

    Raises `MediaFailedError` (retryable) when a photo or voice note could not be downloaded
    for a reason that may pass; one refused for good becomes an UNSUPPORTED message. With
    `download=False` the file is left on Meta's servers: a PHOTO (or AUDIO) without media.
    """
    message = incoming.message
    sender = incoming.sender

    base = InboundMessage(
        channel=CHANNEL,
        user_id=user_id,
        external_id=message.id,
        kind=InboundKind.UNSUPPORTED,
        display_name=sender.name,
        source_message_id=message.context.id if message.context else None,
        address=sender.address,
        received_at=_received_at(message),
    )

    match message.type:
        case "text" if message.text is not None:
            body = message.text.body
            command = command_parser(body)
            if command is not None:
                return replace(base, kind=InboundKind.COMMAND, text=body, command=command)
            return replace(base, kind=InboundKind.TEXT, text=body)
        case "interactive" if message.interactive is not None:
            reply = message.interactive.button_reply or message.interactive.list_reply
            if reply is not None:
                return replace(base, kind=InboundKind.CHOICE, payload=reply.id, text=reply.title)
        case "button" if message.button is not None and message.button.payload:
            return replace(
                base,
                kind=InboundKind.CHOICE,
                payload=message.button.payload,
                text=message.button.text,
            )
        case "location" if message.location is not None:
            point = GeoPoint(message.location.latitude, message.location.longitude)
            return replace(
                base, kind=InboundKind.LOCATION, location=point, text=message.location.name
            )
        case "image" if message.image is not None and not download:
            return replace(base, kind=InboundKind.PHOTO, text=message.image.caption)
        case "image" if message.image is not None:
            try:
                stored = await fetch_media(message.image.id)
            except MediaFailedError as error:
                if error.retryable:
                    raise
                return replace(base, kind=InboundKind.UNSUPPORTED, text=message.image.caption)
            return replace(
                base, kind=InboundKind.PHOTO, photos=(stored,), text=message.image.caption
            )
        case "audio" if message.audio is not None and not download:
            return replace(base, kind=InboundKind.AUDIO)
        case "audio" if message.audio is not None:
            # A voice note is fetched and stored like a photo.
            try:
                stored = await fetch_media(message.audio.id)
            except MediaFailedError as error:
                if error.retryable:
                    raise
                return base
            return replace(base, kind=InboundKind.AUDIO, photos=(stored,))
    return base
