"""What the web chat routes do: turn posts into inbound messages, read replies, list spaces."""

from __future__ import annotations

import asyncio
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from shapely.geometry import mapping, shape

from guardianes.bot.webchat.channel import WebChatChannel
from guardianes.conversations.messages import (
    Attachment,
    Command,
    GeoPoint,
    InboundKind,
    InboundMessage,
    Prompt,
    StoredMedia,
)
from guardianes.conversations.text import parse_command_word
from guardianes.services import webchat as webchat_store
from guardianes.services.delivery import ChannelName
from guardianes.services.inbound import handle_inbound
from guardianes.services.intake import MediaDecision, media_decision
from guardianes.services.media import check_media, store_media
from guardianes.services.privacy import media_file
from guardianes.services.runtime import Runtime
from guardianes.storage.models_webchat import WebChatOwnMessage

CHANNEL = ChannelName.WEBCHAT.value
MAX_WAIT_SECONDS = 25.0  # below the idle timeouts of common proxies (30-60 s)
MAX_PHOTOS_PER_POST = 10
PAGE_SIZE = 100  # messages per read; the page reads again from the last id it got
MAX_TEXT_CHARS = 4000
# Map coordinates to ~1 m: enough to click a park, a fraction of the bytes.
COORDINATE_DECIMALS = 5
SIMPLIFY_DEGREES = 0.00001
_USER_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class WebChatInputError(ValueError):
    """A post the web chat refuses; `reason` is a `web.po` key, `status` the HTTP status."""

    def __init__(self, reason: str, status: int = 422) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class PostKind(StrEnum):
    """What the page posts."""

    TEXT = "text"
    CHOICE = "choice"
    LOCATION = "location"
    PHOTO = "photo"
    COMMAND = "command"


@dataclass(frozen=True, slots=True)
class ChatPost:
    """One post of the page, before it becomes an `InboundMessage`."""

    user_id: str
    client_id: str  # a UUID the page made for this post; a retry sends the same one
    kind: PostKind
    text: str | None = None
    payload: str | None = None
    source_message_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    command: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """A bot message as the page shows it; `replaces` is the id of a message it updates."""

    id: int
    prompt: Prompt
    replaces: int | None = None


def new_user_id() -> str:
    """A random, unguessable id for one browser (it is the chat's only credential)."""
    return secrets.token_urlsafe(18)


def valid_user_id(value: str | None) -> bool:
    """True for ids `new_user_id` could have made."""
    return bool(value) and _USER_ID.fullmatch(value or "") is not None


def _external_id(post: ChatPost) -> str:
    try:
        client_id = str(uuid.UUID(post.client_id))
    except ValueError as error:
        raise WebChatInputError("web.error.bad_request", 400) from error
    # Namespaced by the browser, so one page can never claim another page's ids.
    return f"{post.user_id}:{client_id}"


def build_inbound(
    post: ChatPost, photos: Sequence[StoredMedia] = (), *, declined: bool = False
) -> InboundMessage:
    """The neutral message for a post; raises `WebChatInputError` when a field is missing.

    `declined`: the post carried photos the conversation did not ask for (not stored).
    """
    common: dict[str, Any] = {
        "channel": CHANNEL,
        "user_id": post.user_id,
        "external_id": _external_id(post),
        "language_code": post.language,
        "source_message_id": post.source_message_id or None,
    }
    match post.kind:
        case PostKind.TEXT:
            text = (post.text or "").strip()
            if not text:
                raise WebChatInputError("web.error.empty_text")
            if len(text) > MAX_TEXT_CHARS:
                raise WebChatInputError("web.error.text_too_long")
            command = parse_command_word(text) if text.startswith("/") else None
            if command is not None:
                args = text.split(maxsplit=1)[1] if " " in text else ""
                return InboundMessage(
                    kind=InboundKind.COMMAND, command=command, command_args=args, **common
                )
            return InboundMessage(kind=InboundKind.TEXT, text=text, **common)
        case PostKind.CHOICE:
            if not post.payload:
                raise WebChatInputError("web.error.bad_request", 400)
            return InboundMessage(kind=InboundKind.CHOICE, payload=post.payload, **common)
        case PostKind.LOCATION:
            return InboundMessage(
                kind=InboundKind.LOCATION,
                location=_point(post.latitude, post.longitude),
                **common,
            )
        case PostKind.PHOTO:
            if not photos and not declined:
                raise WebChatInputError("web.error.no_photo")
            return InboundMessage(kind=InboundKind.PHOTO, photos=tuple(photos), **common)
        case PostKind.COMMAND:
            try:
                command = Command(post.command or "")
            except ValueError as error:
                raise WebChatInputError("web.error.bad_request", 400) from error
            return InboundMessage(kind=InboundKind.COMMAND, command=command, **common)


def _point(latitude: float | None, longitude: float | None) -> GeoPoint:
    if latitude is None or longitude is None:
        raise WebChatInputError("web.error.bad_location")
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        raise WebChatInputError("web.error.bad_location")
    return GeoPoint(latitude, longitude)


async def store_photos(runtime: Runtime, files: Sequence[bytes]) -> list[StoredMedia]:
    """Store uploaded photos; `MediaRejectedError` for the first one that is refused."""
    if len(files) > MAX_PHOTOS_PER_POST:
        raise WebChatInputError("web.error.too_many_photos", 413)
    settings = runtime.settings
    return [
        await store_media(settings.media_dir, data, max_bytes=settings.max_photo_bytes)
        for data in files
    ]


@dataclass(frozen=True, slots=True)
class PhotoIntake:
    """What became of a post's photos: stored, declined (not asked for) or a duplicate post."""

    decision: MediaDecision
    photos: tuple[StoredMedia, ...] = ()


async def take_photos(runtime: Runtime, post: ChatPost, files: Sequence[bytes]) -> PhotoIntake:
    """Check every upload, then store them only when the conversation asks for photos.

    A refused file raises `MediaRejectedError` whatever the conversation's step, so the page
    can say why; nothing touches the disk before the conversation logic decided.
    """
    if len(files) > MAX_PHOTOS_PER_POST:
        raise WebChatInputError("web.error.too_many_photos", 413)
    for data in files:
        check_media(data, max_bytes=runtime.settings.max_photo_bytes)
    if not files:
        return PhotoIntake(MediaDecision.FETCH)
    decision = await media_decision(runtime, CHANNEL, post.user_id, [_external_id(post)])
    if decision is not MediaDecision.FETCH:
        return PhotoIntake(decision)
    return PhotoIntake(decision, tuple(await store_photos(runtime, files)))


async def admit_post(runtime: Runtime, user_id: str, client_address: str | None) -> bool:
    """True when this browser and its network address are within their rate limits."""
    limits = runtime.rate_limits
    if client_address and not await limits.allow_address(client_address):
        return False
    return await limits.allow_person(CHANNEL, user_id)


async def post_message(runtime: Runtime, inbound: InboundMessage) -> bool:
    """Process one message now; False when this post was already received.

    A registered guardian's message is also kept for their page's history (after a
    reload, in a second tab), placed after the newest reply that came before it.
    """
    before = await webchat_store.newest_reply_id(runtime, CHANNEL, inbound.user_id)
    accepted = await handle_inbound(runtime, inbound)
    if accepted:
        await _remember_own(runtime, inbound, before)
    return accepted


async def _remember_own(runtime: Runtime, inbound: InboundMessage, after_reply: int) -> None:
    own = _own(0, after_reply, inbound)
    if own is None:
        return
    await webchat_store.keep_own_message(
        runtime,
        CHANNEL,
        WebChatOwnMessage(
            user_id=inbound.user_id,
            client_id=own.client_id,
            after_reply=after_reply,
            kind=own.kind,
            text=own.text,
            payload=own.payload,
            source_message_id=own.source_message_id,
            photos=own.photos,
            latitude=own.latitude,
            longitude=own.longitude,
        ),
    )


def webchat_channel(runtime: Runtime) -> WebChatChannel | None:
    """The running web chat channel, if this process has one."""
    channel = runtime.channels.get(CHANNEL)
    return channel if isinstance(channel, WebChatChannel) else None


async def _read_messages(
    runtime: Runtime, channel: WebChatChannel | None, address: str, after_id: int
) -> list[ChatMessage]:
    rows = await webchat_store.sent_messages(runtime, CHANNEL, address, after_id, PAGE_SIZE)
    found = {
        row.id: ChatMessage(
            id=row.id, prompt=Prompt.from_json(row.payload), replaces=_int(row.edit_message_id)
        )
        for row in rows
    }
    # Rows confirmed but whose SENT is still being committed; after a full page of database
    # rows they wait for the page's next read, which keeps the order.
    if channel is not None and len(rows) < PAGE_SIZE:
        for confirmed in channel.confirmed_after(address, after_id):
            if confirmed.outbox_id not in found:
                delivery = confirmed.delivery
                found[confirmed.outbox_id] = ChatMessage(
                    id=confirmed.outbox_id,
                    prompt=delivery.prompt,
                    replaces=_int(delivery.edit_message_id),
                )
    return [found[key] for key in sorted(found)]


async def read_messages(
    runtime: Runtime, address: str, after_id: int, wait_seconds: float = 0.0
) -> list[ChatMessage]:
    """Messages sent to one chat after `after_id`, waiting up to `wait_seconds` for one."""
    channel = webchat_channel(runtime)
    wait_seconds = min(max(wait_seconds, 0.0), MAX_WAIT_SECONDS)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    while True:
        if channel is None:
            return await _read_messages(runtime, None, address, after_id)
        # Listen before reading, so a send landing between the read and the wait is seen.
        with channel.listening(address) as event:
            found = await _read_messages(runtime, channel, address, after_id)
            remaining = deadline - loop.time()
            if found or remaining <= 0:
                return found
            if not await channel.wait(event, remaining):
                return []


async def attachment_of(
    runtime: Runtime, user_id: str, message_id: int
) -> tuple[Path, Attachment] | None:
    """The file of a message sent to this chat, if it has one still on disk."""
    row = await webchat_store.attachment_message(runtime, CHANNEL, user_id, message_id)
    prompt = Prompt.from_json(row.payload) if row is not None else None
    if prompt is None or prompt.attachment is None:
        return None
    path = media_file(runtime.settings.media_dir, prompt.attachment.path)
    if path is None or not path.is_file():
        return None
    return path, prompt.attachment


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


async def spaces_geojson(runtime: Runtime) -> dict[str, Any]:
    """The public spaces as a light GeoJSON FeatureCollection for the offline map."""
    spaces = await webchat_store.public_spaces(runtime)
    features = [
        {
            "type": "Feature",
            "id": space.id,
            "properties": {
                "name": space.name,
                "kind": space.kind,
                "center": [
                    round(space.centroid_lon, COORDINATE_DECIMALS),
                    round(space.centroid_lat, COORDINATE_DECIMALS),
                ],
            },
            "geometry": _light_geometry(space.geometry_geojson),
        }
        for space in spaces
    ]
    return {"type": "FeatureCollection", "features": features}


def _light_geometry(geometry: dict[str, Any]) -> dict[str, Any]:
    simplified = shape(geometry).simplify(SIMPLIFY_DEGREES, preserve_topology=True)
    light: dict[str, Any] = _rounded(mapping(simplified))
    return light


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, COORDINATE_DECIMALS)
    if isinstance(value, list | tuple):
        return [_rounded(item) for item in value]
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    return value


# ---------------------------------------------------------------- the person's own messages


@dataclass(frozen=True, slots=True)
class OwnMessage:
    """Something the person sent, as their page shows it after a reload or in another tab."""

    id: int
    client_id: str  # the id the page made for its post: that page already shows it
    after_reply: int  # the newest bot message before it, to place it in the log
    kind: str
    text: str | None
    payload: str | None
    source_message_id: str | None
    photos: int
    latitude: float | None
    longitude: float | None


def _own(event_id: int, after_reply: int, inbound: InboundMessage) -> OwnMessage | None:
    start = inbound.kind is InboundKind.COMMAND and inbound.command is Command.START
    if start and not inbound.command_args:
        return None  # the page's own first /start, not something the person did
    location = inbound.location
    return OwnMessage(
        id=event_id,
        client_id=inbound.external_id.split(":", 1)[-1],
        after_reply=after_reply,
        kind=inbound.kind.value,
        text=inbound.text
        if inbound.kind is not InboundKind.COMMAND
        else f"/{inbound.command.value if inbound.command else ''} {inbound.command_args}".strip(),
        payload=inbound.payload,
        source_message_id=inbound.source_message_id,
        photos=len(inbound.photos),
        latitude=location.latitude if location else None,
        longitude=location.longitude if location else None,
    )


async def read_own_messages(runtime: Runtime, user_id: str, after_id: int) -> list[OwnMessage]:
    """The guardian's own messages after `after_id` (their page shows them with the replies)."""
    rows = await webchat_store.own_messages(runtime, user_id, after_id, PAGE_SIZE)
    return [
        OwnMessage(
            id=row.id,
            client_id=row.client_id,
            after_reply=row.after_reply,
            kind=row.kind,
            text=row.text,
            payload=row.payload,
            source_message_id=row.source_message_id,
            photos=row.photos,
            latitude=row.latitude,
            longitude=row.longitude,
        )
        for row in rows
    ]
