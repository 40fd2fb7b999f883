"""A fake WhatsApp Cloud API (Graph API) on 127.0.0.1, and signed webhook posts shaped like Meta's.

The server is a real aiohttp application on a random loopback port: it records every send,
serves media lookups and downloads behind the bearer token, and can be told to fail the next
sends with a given Graph error code. `WebhookFactory` builds the webhook bodies Meta posts,
for both identifier generations (classic `wa_id`, 2026 business-scoped `user_id`, or both),
serialized and signed the way Meta does it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

API_VERSION = "v23.0"


@dataclass(frozen=True)
class RecordedSend:
    """One `POST /{phone_number_id}/messages` the fake received."""

    phone_number_id: str
    body: dict[str, Any]
    message_id: str | None  # None when the send was failed on purpose

    @property
    def type(self) -> str:
        """The message type (`text`, `interactive`, `template`)."""
        return str(self.body.get("type"))

    @property
    def to(self) -> str | None:
        """The phone-number address, when the send used one."""
        value = self.body.get("to")
        return str(value) if value is not None else None

    @property
    def recipient(self) -> str | None:
        """The business-scoped user id address, when the send used one."""
        value = self.body.get("recipient")
        return str(value) if value is not None else None

    @property
    def text(self) -> str:
        """The visible text: a text body, an interactive body, or the template's parameters."""
        if self.type == "text":
            return str(self.body["text"]["body"])
        if self.type == "interactive":
            return str(self.body["interactive"]["body"]["text"])
        if self.type in {"document", "image"}:
            return str(self.body[self.type].get("caption", ""))
        if self.type == "template":
            components = self.body["template"].get("components", [])
            return " ".join(p["text"] for c in components for p in c.get("parameters", []))
        return ""

    @property
    def interactive_type(self) -> str | None:
        """`button`, `list` or `location_request_message` for interactive messages."""
        if self.type != "interactive":
            return None
        return str(self.body["interactive"]["type"])

    @property
    def button_ids(self) -> list[str]:
        """Reply-button ids, in order."""
        if self.interactive_type != "button":
            return []
        return [b["reply"]["id"] for b in self.body["interactive"]["action"]["buttons"]]

    @property
    def button_titles(self) -> list[str]:
        """Reply-button titles, in order."""
        if self.interactive_type != "button":
            return []
        return [b["reply"]["title"] for b in self.body["interactive"]["action"]["buttons"]]

    @property
    def list_rows(self) -> list[dict[str, str]]:
        """List rows (id, title, description?), in order."""
        if self.interactive_type != "list":
            return []
        sections = self.body["interactive"]["action"]["sections"]
        return [row for section in sections for row in section["rows"]]


@dataclass(frozen=True)
class Fault:
    """A failure to answer instead of a success."""

    code: int | None  # Graph error code; None for a bare server error
    http_status: int = 400
    message: str = "injected failure"
    retry_after: str | None = None


@dataclass(frozen=True)
class UploadedMedia:
    """A file the bot uploaded with `POST /{phone_number_id}/media`."""

    filename: str
    mime_type: str
    data: bytes


@dataclass
class _Media:
    data: bytes
    mime_type: str


@dataclass
class FakeGraphServer:
    """The Graph API endpoints Guardianes uses, on loopback, recording what it gets."""

    token: str = "test-token"
    phone_number_id: str = "1234567890"
    sends: list[RecordedSend] = field(default_factory=list)
    media_downloads: list[str] = field(default_factory=list)
    uploads: dict[str, UploadedMedia] = field(default_factory=dict)  # by the media id answered
    unauthorized: int = 0
    _faults: list[Fault] = field(default_factory=list)
    _media_faults: list[Fault] = field(default_factory=list)
    _media: dict[str, _Media] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _changed: asyncio.Condition | None = None
    _runner: web.AppRunner | None = None
    port: int = 0

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Listen on 127.0.0.1 at a random free port."""
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_post("/{version}/{phone_number_id}/messages", self._messages)
        app.router.add_post("/{version}/{phone_number_id}/media", self._upload)
        app.router.add_get("/{version}/{media_id}", self._media_info)
        app.router.add_get("/download/{media_id}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """What WHATSAPP_API_BASE should be (with the API version)."""
        return f"http://127.0.0.1:{self.port}/{API_VERSION}"

    @property
    def origin(self) -> str:
        """Scheme, host and port."""
        return f"http://127.0.0.1:{self.port}"

    # ---------------------------------------------------------------- test controls

    def fail_next(self, count: int, fault: Fault) -> None:
        """Make the next `count` sends fail with `fault` (then succeed again)."""
        self._faults.extend([fault] * count)

    def fail_next_with_code(self, count: int, code: int, http_status: int = 400) -> None:
        """Make the next `count` sends fail with a Graph error code."""
        self.fail_next(count, Fault(code=code, http_status=http_status))

    def fail_next_media(self, count: int, fault: Fault) -> None:
        """Make the next `count` media lookups fail with `fault`."""
        self._media_faults.extend([fault] * count)

    def add_media(
        self, data: bytes, mime_type: str = "image/jpeg", *, media_id: str | None = None
    ) -> str:
        """Register a media file (under a given id, e.g. a replayed payload's) and return it."""
        media_id = media_id or f"{next(self._ids) + 900_000_000_000}"
        self._media[media_id] = _Media(data, mime_type)
        return media_id

    @property
    def delivered(self) -> list[RecordedSend]:
        """Sends that were answered with a message id."""
        return [s for s in self.sends if s.message_id is not None]

    async def wait_for_sends(self, count: int, within: float = 5.0) -> list[RecordedSend]:
        """Wait until at least `count` sends were accepted; returns all accepted sends."""
        assert self._changed is not None, "start() the server first"
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: len(self.delivered) >= count)
        return self.delivered

    async def wait_for_attempts(self, count: int, within: float = 5.0) -> list[RecordedSend]:
        """Wait until at least `count` sends were attempted (failed ones included)."""
        assert self._changed is not None, "start() the server first"
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: len(self.sends) >= count)
        return self.sends

    # ---------------------------------------------------------------- handlers

    def _authorized(self, request: web.Request) -> bool:
        if request.headers.get("Authorization") == f"Bearer {self.token}":
            return True
        self.unauthorized += 1
        return False

    @staticmethod
    def _auth_error() -> web.Response:
        return web.json_response(
            {
                "error": {
                    "message": "Invalid OAuth access token.",
                    "type": "OAuthException",
                    "code": 190,
                    "fbtrace_id": "fake",
                }
            },
            status=401,
        )

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    async def _messages(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._auth_error()
        body = await request.json()
        phone_number_id = request.match_info["phone_number_id"]
        if self._faults:
            fault = self._faults.pop(0)
            self.sends.append(RecordedSend(phone_number_id, body, None))
            await self._notify()
            return self._fault_response(fault)
        message_id = f"wamid.FAKE{next(self._ids):08d}"
        self.sends.append(RecordedSend(phone_number_id, body, message_id))
        await self._notify()
        contact: dict[str, str] = {"input": body.get("to") or body.get("recipient", "")}
        if body.get("to"):
            contact["wa_id"] = str(body["to"])
        else:
            contact["user_id"] = str(body.get("recipient", ""))
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [contact],
                "messages": [{"id": message_id}],
            }
        )

    async def _upload(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._auth_error()
        form = await request.post()
        upload = form.get("file")
        if form.get("messaging_product") != "whatsapp" or not isinstance(upload, web.FileField):
            return web.json_response(
                {"error": {"message": "(#100) The parameter file is required.", "code": 100}},
                status=400,
            )
        media_id = f"{next(self._ids) + 800_000_000_000}"
        self.uploads[media_id] = UploadedMedia(
            upload.filename, str(form.get("type") or upload.content_type), upload.file.read()
        )
        return web.json_response({"id": media_id})

    @staticmethod
    def _fault_response(fault: Fault) -> web.Response:
        headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
        if fault.code is None:
            return web.Response(status=fault.http_status, text="Internal Server Error")
        return web.json_response(
            {
                "error": {
                    "message": f"({fault.code}) {fault.message}",
                    "type": "OAuthException",
                    "code": fault.code,
                    "error_data": {"messaging_product": "whatsapp", "details": fault.message},
                    "fbtrace_id": "fake",
                }
            },
            status=fault.http_status,
            headers=headers,
        )

    async def _media_info(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._auth_error()
        if self._media_faults:
            return self._fault_response(self._media_faults.pop(0))
        media_id = request.match_info["media_id"]
        media = self._media.get(media_id)
        if media is None:
            return web.json_response(
                {"error": {"message": "Unsupported get request.", "code": 100}}, status=400
            )
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "url": f"{self.origin}/download/{media_id}",
                "mime_type": media.mime_type,
                "sha256": hashlib.sha256(media.data).hexdigest(),
                "file_size": len(media.data),
                "id": media_id,
            }
        )

    async def _download(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._auth_error()
        media = self._media.get(request.match_info["media_id"])
        if media is None:
            return web.Response(status=404)
        self.media_downloads.append(request.match_info["media_id"])
        return web.Response(body=media.data, content_type=media.mime_type)


@asynccontextmanager
async def running_graph_server(**options: Any) -> AsyncIterator[FakeGraphServer]:
    """A started fake Graph server, stopped afterwards."""
    server = FakeGraphServer(**options)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


# -------------------------------------------------------------------- webhook posts


@dataclass(frozen=True)
class Person:
    """A WhatsApp user as a webhook identifies them: phone (wa_id), BSUID (user_id), or both."""

    name: str = "Ana López"
    wa_id: str | None = "5216141234567"
    user_id: str | None = None

    def contact(self) -> dict[str, Any]:
        """The `contacts[]` entry Meta sends with an incoming message."""
        entry: dict[str, Any] = {"profile": {"name": self.name}}
        if self.wa_id:
            entry["wa_id"] = self.wa_id
        if self.user_id:
            entry["user_id"] = self.user_id
        return entry

    def sender_fields(self) -> dict[str, str]:
        """The sender fields of a `messages[]` entry (`from` only when the phone is shared)."""
        fields: dict[str, str] = {}
        if self.wa_id:
            fields["from"] = self.wa_id
        if self.user_id:
            fields["from_user_id"] = self.user_id
        return fields


CLASSIC = Person(name="Ana López", wa_id="5216141234567", user_id=None)
SCOPED_ONLY = Person(name="Ana López", wa_id=None, user_id="MX.13491208655302741918")
BOTH = Person(name="Ana López", wa_id="5216141234567", user_id="MX.13491208655302741918")


@dataclass(frozen=True)
class SignedPost:
    """A webhook POST: the exact bytes and the headers Meta would send."""

    body: bytes
    headers: dict[str, str]

    def json(self) -> dict[str, Any]:
        """The decoded body."""
        data: dict[str, Any] = json.loads(self.body)
        return data


def meta_json(payload: dict[str, Any]) -> bytes:
    """Serialize like Meta: compact, non-ASCII escaped as \\uXXXX, and `/` escaped as `\\/`."""
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"))
    return text.replace("/", "\\/").encode("ascii")


def sign(app_secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 header value for a body."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class WebhookFactory:
    """Builds signed webhook posts shaped like the Cloud API's real payloads."""

    app_secret: str = "test-app-secret"
    phone_number_id: str = "1234567890"
    display_phone_number: str = "5216140000000"
    waba_id: str = "102290129340398"
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def new_message_id(self) -> str:
        """A fresh wamid."""
        return f"wamid.HBgMNTIxNjE0MTIzNDU2NxUCABIYFDNB{next(self._ids):010d}=="

    def post(self, value: dict[str, Any], *, secret: str | None = None) -> SignedPost:
        """Wrap a change `value` in Meta's envelope, serialize and sign it."""
        envelope = {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": self.waba_id,
                    "changes": [{"value": value, "field": "messages"}],
                }
            ],
        }
        body = meta_json(envelope)
        return SignedPost(
            body=body,
            headers={
                "Content-Type": "application/json",
                "X-Hub-Signature-256": sign(secret or self.app_secret, body),
            },
        )

    def _value(self, person: Person, messages: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": self.display_phone_number,
                "phone_number_id": self.phone_number_id,
            },
            "contacts": [person.contact()],
            "messages": messages,
        }

    def message(
        self,
        person: Person,
        kind: str,
        content: dict[str, Any] | None,
        *,
        message_id: str | None = None,
        context_id: str | None = None,
    ) -> dict[str, Any]:
        """One `messages[]` entry of a type, with its content object."""
        entry: dict[str, Any] = {
            **person.sender_fields(),
            "id": message_id or self.new_message_id(),
            "timestamp": str(int(time.time())),
            "type": kind,
        }
        if content is not None:
            entry[kind] = content
        if context_id:
            entry["context"] = {"from": self.display_phone_number, "id": context_id}
        return entry

    def messages(self, person: Person, *entries: dict[str, Any]) -> SignedPost:
        """A post carrying several messages of one person (Meta batches them)."""
        return self.post(self._value(person, list(entries)))

    # ------------------------------------------------------------ one message per post

    def text(self, person: Person, body: str, *, message_id: str | None = None) -> SignedPost:
        """A text message."""
        return self.messages(
            person, self.message(person, "text", {"body": body}, message_id=message_id)
        )

    def button_reply(
        self, person: Person, reply_id: str, title: str, *, context_id: str = "wamid.OUT1"
    ) -> SignedPost:
        """A press on a reply button."""
        content = {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}}
        return self.messages(
            person, self.message(person, "interactive", content, context_id=context_id)
        )

    def list_reply(
        self,
        person: Person,
        reply_id: str,
        title: str,
        description: str | None = None,
        *,
        context_id: str = "wamid.OUT1",
    ) -> SignedPost:
        """A choice from a list message."""
        reply: dict[str, str] = {"id": reply_id, "title": title}
        if description:
            reply["description"] = description
        content = {"type": "list_reply", "list_reply": reply}
        return self.messages(
            person, self.message(person, "interactive", content, context_id=context_id)
        )

    def template_button(
        self, person: Person, payload: str, text: str, *, context_id: str = "wamid.OUT1"
    ) -> SignedPost:
        """A press on a template's quick-reply button."""
        return self.messages(
            person,
            self.message(
                person, "button", {"payload": payload, "text": text}, context_id=context_id
            ),
        )

    def location(
        self,
        person: Person,
        latitude: float,
        longitude: float,
        name: str | None = None,
        address: str | None = None,
    ) -> SignedPost:
        """A shared location (pin or current position)."""
        content: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        if name:
            content["name"] = name
        if address:
            content["address"] = address
        return self.messages(person, self.message(person, "location", content))

    def image_entry(
        self, person: Person, media_id: str, caption: str | None = None, data: bytes = b""
    ) -> dict[str, Any]:
        """One image `messages[]` entry (for batching several photos in one post)."""
        content: dict[str, Any] = {
            "mime_type": "image/jpeg",
            "sha256": hashlib.sha256(data).hexdigest(),
            "id": media_id,
        }
        if caption:
            content["caption"] = caption
        return self.message(person, "image", content)

    def image(
        self, person: Person, media_id: str, caption: str | None = None, data: bytes = b""
    ) -> SignedPost:
        """A photo, optionally with a caption."""
        return self.messages(person, self.image_entry(person, media_id, caption, data))

    def unsupported(self, person: Person, kind: str) -> SignedPost:
        """Audio, sticker, video, contacts, reaction, document or an `unsupported` message."""
        contents: dict[str, dict[str, Any] | list[dict[str, Any]] | None] = {
            "audio": {
                "mime_type": "audio/ogg; codecs=opus",
                "sha256": "x",
                "id": "555",
                "voice": True,
            },
            "sticker": {"mime_type": "image/webp", "sha256": "x", "id": "556", "animated": False},
            "video": {"mime_type": "video/mp4", "sha256": "x", "id": "557"},
            "document": {
                "mime_type": "application/pdf",
                "sha256": "x",
                "id": "558",
                "filename": "a.pdf",
            },
            "reaction": {"message_id": "wamid.OUT1", "emoji": "\U0001f44d"},
            "contacts": [
                {
                    "name": {"formatted_name": "Luis", "first_name": "Luis"},
                    "phones": [{"phone": "+52 614 000 0000", "type": "CELL"}],
                }
            ],
            "unsupported": None,
        }
        entry = self.message(person, kind, None)
        content = contents[kind]
        if content is not None:
            entry[kind] = content
        if kind == "unsupported":
            entry["errors"] = [
                {"code": 131051, "title": "Message type unknown", "message": "Message type unknown"}
            ]
        return self.messages(person, entry)

    # ------------------------------------------------------------ statuses

    def status(
        self,
        message_id: str,
        status: str,
        person: Person = CLASSIC,
        *,
        error_code: int | None = None,
        error_title: str = "Message failed",
    ) -> SignedPost:
        """A status callback (sent, delivered, read, failed) for one of our messages."""
        entry: dict[str, Any] = {
            "id": message_id,
            "status": status,
            "timestamp": str(int(time.time())),
        }
        if person.wa_id:
            entry["recipient_id"] = person.wa_id
        if person.user_id:
            entry["recipient_user_id"] = person.user_id
        if status != "failed":
            entry["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "service"}
        if error_code is not None:
            entry["errors"] = [
                {
                    "code": error_code,
                    "title": error_title,
                    "message": error_title,
                    "error_data": {"details": error_title},
                }
            ]
        value: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "metadata": {
                "display_phone_number": self.display_phone_number,
                "phone_number_id": self.phone_number_id,
            },
            "statuses": [entry],
        }
        if status != "failed":
            # Meta omits contacts on failed statuses.
            value["contacts"] = [person.contact()]
        return self.post(value)
