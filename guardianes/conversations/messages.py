"""Neutral message types: the only shapes that cross between channel adapters and the engine.

Adapters turn a platform update into one frozen `InboundMessage`; the engine answers with a
list of `Prompt`s, which adapters render back. Prompts are stored in the outbox as JSON, so
they round-trip through `to_json` / `from_json`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from guardianes.conversations.bounds import clean_optional, clean_text

MAX_NAME_CHARS = 120  # a display name the platform gives; longer ones are cut


class InboundKind(StrEnum):
    """What a guardian sent, independent of the platform."""

    TEXT = "text"
    CHOICE = "choice"  # a button press: `payload` holds the choice payload we rendered
    LOCATION = "location"
    PHOTO = "photo"  # one or more photos already stored by the media store
    AUDIO = "audio"  # a voice note or audio file, stored like a photo and carried in `photos`
    COMMAND = "command"
    UNSUPPORTED = "unsupported"  # stickers, video, contacts...: answered politely


class Command(StrEnum):
    """Commands understood on every channel (slash commands or localized words)."""

    START = "start"
    MENU = "menu"
    HELP = "help"
    CANCEL = "cancel"
    BACK = "back"
    SKIP = "skip"
    STAFF = "staff"
    STATUS = "status"  # staff: delivery status of their latest notices
    # ARCO rights (Mexico's LFPDPPP): access + rectification, cancellation, opposition.
    MY_DATA = "misdatos"
    ERASE = "borrarmisdatos"
    OPPOSE = "oposicion"


@dataclass(frozen=True, slots=True)
class GeoPoint:
    """A WGS84 point."""

    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class StoredMedia:
    """A photo or audio already saved under the media directory (content-addressed)."""

    sha256: str
    mime_type: str
    size: int
    path: str  # relative to GUARDIANES_MEDIA_DIR
    perceptual_hash: str | None = None  # 64-bit pHash (hex), to spot reused photos
    caption: str | None = None  # what the person wrote with the photo


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One thing a guardian sent, on any channel."""

    channel: str
    user_id: str  # the channel's user id, stable for that person
    external_id: str  # the platform's id of this update/message, for deduplication
    kind: InboundKind
    text: str | None = None
    payload: str | None = None  # for CHOICE
    location: GeoPoint | None = None
    photos: tuple[StoredMedia, ...] = ()  # the stored media: photos, or one AUDIO's file
    command: Command | None = None
    command_args: str = ""
    display_name: str | None = None
    language_code: str | None = None  # the platform's hint, e.g. "es-MX"
    source_message_id: str | None = None  # the platform message whose button was pressed
    address: str | None = None  # where replies go, when it differs from `user_id`
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # Platform ids of the other updates merged into this one (the parts of an album).
    part_ids: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict, stored with the inbound event until it is processed."""
        data = asdict(self)
        data["received_at"] = self.received_at.isoformat()
        return data

    def cleaned(self) -> InboundMessage:
        """The message without control characters (NUL, lone surrogates) in any text.

        People never mean them, PostgreSQL text cannot hold NUL, and UTF-8 cannot encode a
        lone surrogate: cleaning here, once, keeps every later step from failing on them.
        """
        return replace(
            self,
            text=clean_optional(self.text),
            payload=clean_optional(self.payload),
            command_args=clean_text(self.command_args),
            display_name=None
            if self.display_name is None
            else clean_text(self.display_name)[:MAX_NAME_CHARS],
            language_code=clean_optional(self.language_code),
            source_message_id=clean_optional(self.source_message_id),
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InboundMessage:
        """Rebuild a message stored by `to_json`."""
        values = dict(data)
        values["kind"] = InboundKind(values["kind"])
        if values.get("location"):
            values["location"] = GeoPoint(**values["location"])
        values["photos"] = tuple(StoredMedia(**p) for p in values.get("photos", ()))
        if values.get("command"):
            values["command"] = Command(values["command"])
        values["received_at"] = datetime.fromisoformat(values["received_at"])
        values["part_ids"] = tuple(values.get("part_ids", ()))
        return cls(**values)


class PromptKind(StrEnum):
    """What a prompt asks of the guardian."""

    TEXT = "text"  # plain message, no answer expected
    CHOICES = "choices"  # pick one (or several when `multiple`)
    LOCATION = "location"  # share a location
    PHOTO = "photo"  # send one or more photos
    DONE = "done"  # the conversation ended: remove any keyboard
    DOCUMENT = "document"  # a file sent as a document (the "my data" export)
    IMAGE = "image"  # a picture sent as a photo (the guardian's own photos, in the export)


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file a prompt carries: stored under GUARDIANES_MEDIA_DIR, sent by each channel its way."""

    path: str  # relative to GUARDIANES_MEDIA_DIR
    file_name: str
    mime_type: str


@dataclass(frozen=True, slots=True)
class Choice:
    """One option; `payload` is what comes back in `InboundMessage.payload` (<= 60 bytes)."""

    payload: str
    label: str


@dataclass(frozen=True, slots=True)
class Prompt:
    """One outbound message in neutral form."""

    kind: PromptKind
    text: str
    choices: tuple[Choice, ...] = ()
    multiple: bool = False
    selected: tuple[str, ...] = ()  # payloads already toggled on, for multi-select
    done_label: str | None = None  # label of the "done" button of a multi-select
    done_payload: str | None = None
    skip_label: str | None = None  # offered when the question may be skipped
    skip_payload: str | None = None
    max_photos: int | None = None
    refresh: bool = False  # replaces the previous prompt (a toggled multi-select)
    attachment: Attachment | None = None  # for DOCUMENT and IMAGE; `text` is its caption

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict for the outbox."""
        data = asdict(self)
        data["choices"] = [asdict(c) for c in self.choices]
        data["selected"] = list(self.selected)
        if self.attachment is None:
            # Rows written before attachments existed have no such key; keep them alike.
            data.pop("attachment")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Prompt:
        """Rebuild a prompt stored by `to_json`."""
        values = dict(data)
        values["kind"] = PromptKind(values["kind"])
        values["choices"] = tuple(Choice(**c) for c in values.get("choices", ()))
        values["selected"] = tuple(values.get("selected", ()))
        if values.get("attachment"):
            values["attachment"] = Attachment(**values["attachment"])
        return cls(**values)


def text_prompt(text: str) -> Prompt:
    """A plain message."""
    return Prompt(kind=PromptKind.TEXT, text=text)
