"""Cloud API webhook payloads → neutral `InboundMessage`s and outbox status updates.

Parsing happens in two steps. `read_webhook` validates the envelope into typed models and
splits it into incoming messages (each with its sender's identifiers) and status updates; it
does no I/O. `to_inbound` then turns one incoming message into an `InboundMessage`, given the
person's stable user id (resolved by the caller from the identity table) and a media fetcher
that downloads and stores photos on arrival (their URLs live five minutes).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from guardianes.bot.channel import ChannelName
from guardianes.conversations.messages import (
    Command,
    GeoPoint,
    InboundKind,
    InboundMessage,
    StoredMedia,
)
from guardianes.conversations.text import parse_command_word

CHANNEL = ChannelName.WHATSAPP.value
# Message types that never get an answer: notices about the account, not things people said.
SILENT_TYPES = frozenset({"system", "request_welcome", "ephemeral"})


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


class Profile(_Model):
    """A contact's profile."""

    name: str | None = None
    username: str | None = None


class WebhookContact(_Model):
    """`contacts[]`: who sent the messages, by phone (`wa_id`) and/or BSUID (`user_id`)."""

    profile: Profile | None = None
    wa_id: str | None = None
    user_id: str | None = None


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

    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


class ImageContent(_Model):
    """`image`: a media id to look up and download."""

    id: str
    mime_type: str | None = None
    sha256: str | None = None
    caption: str | None = None


class MessageContext(_Model):
    """`context`: the message of ours being answered."""

    id: str | None = None


class WebhookMessage(_Model):
    """`messages[]`."""

    id: str
    sender: str | None = Field(default=None, alias="from")
    from_user_id: str | None = None
    timestamp: str | None = None
    type: str
    text: TextContent | None = None
    interactive: InteractiveContent | None = None
    button: TemplateButtonContent | None = None
    location: LocationContent | None = None
    image: ImageContent | None = None
    context: MessageContext | None = None


class WebhookErrorDetail(_Model):
    """`errors[]` of a status or message."""

    code: int | None = None
    title: str | None = None
    message: str | None = None


class WebhookStatus(_Model):
    """`statuses[]`: what happened to a message we sent."""

    id: str
    status: str
    timestamp: str | None = None
    recipient_id: str | None = None
    recipient_user_id: str | None = None
    errors: list[WebhookErrorDetail] = Field(default_factory=list)


class Metadata(_Model):
    """`metadata`: which of our numbers received it."""

    phone_number_id: str | None = None
    display_phone_number: str | None = None


class ChangeValue(_Model):
    """`entry[].changes[].value`."""

    metadata: Metadata | None = None
    contacts: list[WebhookContact] = Field(default_factory=list)
    messages: list[WebhookMessage] = Field(default_factory=list)
    statuses: list[WebhookStatus] = Field(default_factory=list)


class Change(_Model):
    """`entry[].changes[]`."""

    field: str
    value: ChangeValue


class Entry(_Model):
    """`entry[]`."""

    id: str | None = None
    changes: list[Change] = Field(default_factory=list)


class Envelope(_Model):
    """The whole webhook body."""

    object: str
    entry: list[Entry] = Field(default_factory=list)


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


@dataclass(frozen=True, slots=True)
class WebhookBatch:
    """Everything one webhook post carried, in order."""

    messages: tuple[IncomingMessage, ...] = ()
    statuses: tuple[StatusUpdate, ...] = ()


# ------------------------------------------------------------------ parsing


def read_envelope(body: bytes) -> Envelope:
    """Decode and validate a webhook body; raise `MalformedWebhookError` when it is not one."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise MalformedWebhookError(f"not JSON: {error}") from error
    try:
        return Envelope.model_validate(data)
    except ValidationError as error:
        raise MalformedWebhookError(f"not a webhook: {error.error_count()} problems") from error


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
        return None  # e.g. "deleted", "warning": nothing for the outbox to record
    error = status.errors[0] if status.errors else None
    return StatusUpdate(
        platform_message_id=status.id,
        state=state,
        error_code=error.code if error else None,
        error_title=(error.title or error.message) if error else None,
    )


def split_envelope(envelope: Envelope, phone_number_id: str | None = None) -> WebhookBatch:
    """Messages and statuses of an envelope addressed to our number (others are ignored)."""
    messages: list[IncomingMessage] = []
    statuses: list[StatusUpdate] = []
    for entry in envelope.entry:
        for change in entry.changes:
            if change.field != "messages":
                continue
            value = change.value
            metadata_id = value.metadata.phone_number_id if value.metadata else None
            if phone_number_id and metadata_id and metadata_id != phone_number_id:
                continue  # another number of the same app
            for message in value.messages:
                if message.type in SILENT_TYPES:
                    continue
                sender = _sender_of(message, value.contacts)
                if sender is not None:
                    messages.append(IncomingMessage(sender, message))
            for status in value.statuses:
                update = _status_update(status)
                if update is not None:
                    statuses.append(update)
    return WebhookBatch(messages=tuple(messages), statuses=tuple(statuses))


def read_webhook(body: bytes, phone_number_id: str | None = None) -> WebhookBatch:
    """Decode, validate and split a webhook body."""
    return split_envelope(read_envelope(body), phone_number_id)


def _received_at(message: WebhookMessage) -> datetime:
    # Meta's own timestamp: a redelivery hours later must not look like a fresh message
    # (the 24-hour window is computed from it).
    if message.timestamp and message.timestamp.isdigit():
        return datetime.fromtimestamp(int(message.timestamp), UTC)
    return datetime.now(UTC)


async def to_inbound(
    incoming: IncomingMessage,
    *,
    user_id: str,
    fetch_media: MediaFetcher,
    command_parser: CommandParser = parse_command_word,
) -> InboundMessage:
    """The neutral message for one incoming WhatsApp message.

    Raises `MediaFailedError` (retryable) when a photo could not be downloaded for a reason
    that may pass; a photo refused for good becomes an UNSUPPORTED message.
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
    return base
