"""A fake Telegram Bot API: a real aiohttp server on 127.0.0.1 that records every call.

It speaks the Bot API's HTTP shapes (`POST /bot<token>/<method>` with form or JSON
parameters, `{"ok": ..., "result"|"error_code"+"description"+"parameters"}` answers, and
`GET /file/bot<token>/<path>` downloads), so aiogram talks to it unmodified through
`TelegramAPIServer.from_base(fake.base_url)`.

Tests inject updates (`fake.push(...)`, built by `fake.updates`, an `UpdateFactory`),
inject faults (`fake.fail_next("sendMessage", 2, Fault.too_many_requests(3))`), optionally
enforce Telegram's rate caps (`RateLimits`), and wait for calls without sleeping
(`await fake.wait_for_calls("sendMessage", 2)`).

Like Telegram it refuses (400) an edit that changes nothing ("message is not modified"),
a second answer to one callback query, and an answer later than `callback_answer_timeout`
seconds after the press. `send_delay` makes it a slow platform: a message is delivered
(and recorded) on arrival, and the answer comes that many seconds later.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456789:AAE-guardianes-fake-token_for-tests"
BOT_ID = 123456789
DEFAULT_WAIT = 5.0
PRIVATE = "private"

# Parameters aiogram sends JSON-encoded inside form fields.
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "commands",
        "scope",
        "allowed_updates",
        "link_preview_options",
        "entities",
        "reply_parameters",
        "media",
    }
)
INT_FIELDS = frozenset(
    {"chat_id", "message_id", "offset", "limit", "timeout", "cache_time", "max_connections"}
)
BOOL_FIELDS = frozenset(
    {"show_alert", "drop_pending_updates", "disable_notification", "protect_content"}
)
# Methods that put a message in a chat: the ones Telegram's flood control counts.
SENDING_METHODS = frozenset(
    {"sendMessage", "editMessageText", "editMessageReplyMarkup", "sendDocument", "sendPhoto"}
)
UPLOADS = "_uploads"  # files of a multipart request, by form field
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
DEFAULT_CALLBACK_ANSWER_TIMEOUT = 10.0
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


# ------------------------------------------------------------------ people and files


@dataclass(frozen=True, slots=True)
class TgUser:
    """A Telegram user as updates describe them."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "es"
    is_bot: bool = False

    def to_json(self) -> dict[str, Any]:
        """The `User` object."""
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    def private_chat(self) -> dict[str, Any]:
        """The `Chat` of a private conversation with this user."""
        chat: dict[str, Any] = {"id": self.id, "type": PRIVATE, "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        return chat


BOT = TgUser(BOT_ID, "Guardianes", username="guardianes_test_bot", language_code=None, is_bot=True)
ALICE = TgUser(5_100_001, "Alicia", "Domínguez", username="alicia_chih", language_code="es-MX")
BOB = TgUser(5_100_002, "Bob", language_code="en")


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file tests registered; served by getFile and the file endpoint."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes

    def to_json(self) -> dict[str, Any]:
        """The `File` object getFile answers."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


# ------------------------------------------------------------------ updates


class UpdateFactory:
    """Builds update payloads shaped like Telegram's, numbering updates and messages."""

    def __init__(self, *, first_update_id: int = 700_000_001) -> None:
        self._update_ids = itertools.count(first_update_id)
        self._message_ids: dict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._file_numbers = itertools.count(1)
        self._groups = itertools.count(13_500_000_000_000_001)
        self.files: dict[str, StoredFile] = {}
        self.clock: Callable[[], float] = time.time
        # When each callback query was made (monotonic seconds): answers are timed from it.
        self.callbacks_made: dict[str, float] = {}

    def next_message_id(self, chat_id: int) -> int:
        """The next message id in a chat (users and the bot share one sequence per chat)."""
        return next(self._message_ids[chat_id])

    def add_file(
        self,
        data: bytes,
        *,
        folder: str = "photos",
        extension: str = "jpg",
        file_id: str | None = None,
    ) -> StoredFile:
        """Register bytes under a new file id (or a given one, e.g. a replayed update's)."""
        number = next(self._file_numbers)
        stored = StoredFile(
            file_id=file_id or f"AgACAgEAAxkBAAI{number:06d}fake",
            file_unique_id=f"AQAD{number:06d}",
            file_path=f"{folder}/file_{number}.{extension}",
            data=data,
        )
        self.files[stored.file_id] = stored
        return stored

    def update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """An update of any kind (`message`, `callback_query`, `edited_message`...)."""
        return {"update_id": next(self._update_ids), kind: payload}

    def message_payload(
        self, user: TgUser, chat: dict[str, Any] | None = None, **content: Any
    ) -> dict[str, Any]:
        """A `Message` sent by `user` (in their private chat unless `chat` is given)."""
        chat = chat or user.private_chat()
        return {
            "message_id": self.next_message_id(chat["id"]),
            "from": user.to_json(),
            "chat": chat,
            "date": int(self.clock()),
            **content,
        }

    def message(self, user: TgUser, **content: Any) -> dict[str, Any]:
        """A `message` update with the given content fields."""
        return self.update("message", self.message_payload(user, **content))

    def text(self, user: TgUser, text: str) -> dict[str, Any]:
        """A text message."""
        return self.message(user, text=text)

    def command(self, user: TgUser, name: str, args: str = "") -> dict[str, Any]:
        """A `/command args` message with its bot_command entity."""
        text = f"/{name}" + (f" {args}" if args else "")
        entity = {"type": "bot_command", "offset": 0, "length": len(name) + 1}
        return self.message(user, text=text, entities=[entity])

    def location(
        self, user: TgUser, latitude: float, longitude: float, *, live_period: int | None = None
    ) -> dict[str, Any]:
        """A shared location (live when `live_period` is set)."""
        location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        if live_period:
            location["live_period"] = live_period
        return self.message(user, location=location)

    def venue(self, user: TgUser, latitude: float, longitude: float, title: str) -> dict[str, Any]:
        """A venue (a place picked from the map's list)."""
        location = {"latitude": latitude, "longitude": longitude}
        venue = {"location": location, "title": title, "address": "Chihuahua, Chih."}
        return self.message(user, location=location, venue=venue)

    def photo_sizes(self, data: bytes) -> list[dict[str, Any]]:
        """The sizes Telegram makes of one photo; the last (largest) holds `data`."""
        sizes = []
        for width, blob in ((90, data[:16] + b"-s"), (320, data[:16] + b"-m"), (1280, data)):
            stored = self.add_file(blob)
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": len(blob),
                    "width": width,
                    "height": width * 3 // 4,
                }
            )
        return sizes

    def photo(
        self,
        user: TgUser,
        data: bytes,
        *,
        caption: str | None = None,
        media_group_id: str | None = None,
    ) -> dict[str, Any]:
        """A compressed photo in three sizes."""
        content: dict[str, Any] = {"photo": self.photo_sizes(data)}
        if caption:
            content["caption"] = caption
        if media_group_id:
            content["media_group_id"] = media_group_id
        return self.message(user, **content)

    def document(
        self,
        user: TgUser,
        data: bytes,
        *,
        mime_type: str = "image/jpeg",
        file_name: str = "foto.jpg",
        media_group_id: str | None = None,
    ) -> dict[str, Any]:
        """A file sent uncompressed ("as a document")."""
        stored = self.add_file(data, folder="documents", extension=file_name.rsplit(".", 1)[-1])
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(data),
        }
        content: dict[str, Any] = {"document": document}
        if media_group_id:
            content["media_group_id"] = media_group_id
        return self.message(user, **content)

    def album(
        self, user: TgUser, photos: Iterable[bytes], *, caption: str | None = None
    ) -> list[dict[str, Any]]:
        """Several photos sent together: one update each, sharing a media_group_id."""
        group = str(next(self._groups))
        return [
            self.photo(user, data, caption=caption if i == 0 else None, media_group_id=group)
            for i, data in enumerate(photos)
        ]

    def sticker(self, user: TgUser) -> dict[str, Any]:
        """A sticker."""
        sticker = {
            "file_id": "CAACAgIAAxkBAAIBsticker",
            "file_unique_id": "AgADsticker",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return self.message(user, sticker=sticker)

    def voice(self, user: TgUser) -> dict[str, Any]:
        """A voice note."""
        voice = {
            "file_id": "AwACAgEAAxkBAAIBvoice",
            "file_unique_id": "AgADvoice",
            "duration": 4,
            "mime_type": "audio/ogg",
        }
        return self.message(user, voice=voice)

    def audio(self, user: TgUser) -> dict[str, Any]:
        """An audio file (a song or a recording shared as a file)."""
        audio = {
            "file_id": "CQACAgEAAxkBAAIBaudio",
            "file_unique_id": "AgADaudio",
            "duration": 12,
            "mime_type": "audio/mpeg",
            "file_name": "grabacion.mp3",
            "file_size": 48_000,
        }
        return self.message(user, audio=audio)

    def video(self, user: TgUser) -> dict[str, Any]:
        """A video."""
        video = {
            "file_id": "BAACAgEAAxkBAAIBvideo",
            "file_unique_id": "AgADvideo",
            "width": 640,
            "height": 480,
            "duration": 3,
        }
        return self.message(user, video=video)

    def contact(self, user: TgUser) -> dict[str, Any]:
        """A shared contact."""
        contact = {"phone_number": "+526141234567", "first_name": "Vecina"}
        return self.message(user, contact=contact)

    def poll(self, user: TgUser) -> dict[str, Any]:
        """A poll."""
        poll = {
            "id": "5000001",
            "question": "¿Funciona el alumbrado?",
            "options": [
                {"persistent_id": "1", "text": "Sí", "voter_count": 0},
                {"persistent_id": "2", "text": "No", "voter_count": 0},
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
        }
        return self.message(user, poll=poll)

    def edited_text(self, user: TgUser, text: str, message_id: int) -> dict[str, Any]:
        """An `edited_message` update for an earlier text."""
        payload = {
            "message_id": message_id,
            "from": user.to_json(),
            "chat": user.private_chat(),
            "date": int(self.clock()) - 60,
            "edit_date": int(self.clock()),
            "text": text,
        }
        return self.update("edited_message", payload)

    def group_text(
        self, user: TgUser, text: str, *, chat_id: int = -1_001_234_567_890
    ) -> dict[str, Any]:
        """A text in a group the bot was added to."""
        chat = {"id": chat_id, "type": "supergroup", "title": "Vecinos del parque"}
        return self.update("message", self.message_payload(user, chat, text=text))

    def callback(
        self,
        user: TgUser,
        data: str,
        *,
        message: dict[str, Any] | None = None,
        chat: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A button press on `message` (a bot message; one is made up when not given)."""
        if message is None:
            chat = chat or user.private_chat()
            message = {
                "message_id": self.next_message_id(chat["id"]),
                "from": BOT.to_json(),
                "chat": chat,
                "date": int(self.clock()),
                "text": "¿Pregunta?",
            }
        query_id = f"{user.id}{next(self._file_numbers):08d}"
        self.callbacks_made[query_id] = time.monotonic()
        query = {
            "id": query_id,
            "from": user.to_json(),
            "message": message,
            "chat_instance": f"-{user.id}",
            "data": data,
        }
        return self.update("callback_query", query)


# ------------------------------------------------------------------ faults and limits


@dataclass(frozen=True, slots=True)
class Fault:
    """How the fake answers a call instead of doing it."""

    status: int
    description: str
    retry_after: int | None = None
    disconnect: bool = False

    @classmethod
    def too_many_requests(cls, retry_after: int = 1) -> Fault:
        """Flood control: 429 with `parameters.retry_after`."""
        return cls(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)

    @classmethod
    def blocked(cls) -> Fault:
        """The person blocked the bot."""
        return cls(403, "Forbidden: bot was blocked by the user")

    @classmethod
    def server_error(cls) -> Fault:
        """Telegram's side failed."""
        return cls(500, "Internal Server Error")

    @classmethod
    def bad_request(cls, description: str = "Bad Request: chat not found") -> Fault:
        """The request was refused as wrong."""
        return cls(400, description)

    @classmethod
    def dropped_connection(cls) -> Fault:
        """The connection closes without an answer (a network failure)."""
        return cls(0, "connection dropped", disconnect=True)


class _Bucket:
    """A token bucket: `rate` per second, at most `burst` at once."""

    __slots__ = ("burst", "rate", "tokens", "updated")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.updated = now

    def wait_needed(self, now: float) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


@dataclass
class RateLimits:
    """Telegram's flood caps: about 1 message/s per chat (small burst), 30/s overall."""

    per_chat_rate: float = 1.0
    per_chat_burst: float = 3.0
    overall_rate: float = 30.0
    overall_burst: float = 30.0
    clock: Callable[[], float] = time.monotonic
    refused: int = 0
    _overall: _Bucket | None = None
    _chats: dict[str, _Bucket] = field(default_factory=dict)

    def check(self, chat_id: str) -> int | None:
        """None when the message may go now (and count it), else the seconds to wait."""
        now = self.clock()
        if self._overall is None:
            self._overall = _Bucket(self.overall_rate, self.overall_burst, now)
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Bucket(self.per_chat_rate, self.per_chat_burst, now)
        wait = max(chat.wait_needed(now), self._overall.wait_needed(now))
        if wait > 0:
            self.refused += 1
            return max(1, math.ceil(wait))
        chat.tokens -= 1
        self._overall.tokens -= 1
        return None


# ------------------------------------------------------------------ the server


@dataclass(frozen=True, slots=True)
class Upload:
    """A file uploaded in a multipart request (sendDocument, sendPhoto)."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Call:
    """One request the fake received, with its decoded parameters and the status answered."""

    method: str
    params: dict[str, Any]
    status: int
    at: float = 0.0  # monotonic seconds when the fake received it

    @property
    def ok(self) -> bool:
        """True when the call was answered 200."""
        return self.status == 200

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        """The decoded reply_markup parameter, if any."""
        markup = self.params.get("reply_markup")
        return markup if isinstance(markup, dict) else None

    def upload(self, field_name: str) -> Upload:
        """The file sent for a field (`document`, `photo`), following `attach://` references."""
        uploads: dict[str, Upload] = self.params.get(UPLOADS, {})
        reference = self.params.get(field_name)
        if isinstance(reference, str) and reference.startswith("attach://"):
            return uploads[reference.removeprefix("attach://")]
        return uploads[field_name]

    def button_data(self) -> list[str]:
        """callback_data of every inline button, row by row."""
        markup = self.reply_markup or {}
        return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]

    def button_texts(self) -> list[str]:
        """Texts of every inline or reply keyboard button, row by row."""
        markup = self.reply_markup or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        return [b["text"] if isinstance(b, dict) else str(b) for row in rows for b in row]


class _ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


def _decode_params(raw: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key, value in raw.items():
        decoded: Any = value
        if isinstance(value, str) and key in JSON_FIELDS:
            decoded = json.loads(value)
        elif isinstance(value, str) and key in INT_FIELDS and value.lstrip("-").isdigit():
            decoded = int(value)
        elif isinstance(value, str) and key in BOOL_FIELDS:
            decoded = value.lower() == "true"
        params[key] = decoded
    return params


class FakeTelegramServer:
    """The fake Bot API; `await start()`, point aiogram at `base_url`, `await stop()`."""

    def __init__(self, token: str = TOKEN, *, factory: UpdateFactory | None = None) -> None:
        self.token = token
        self.updates = factory or UpdateFactory()
        self.limits: RateLimits | None = None
        self.webhook: dict[str, Any] | None = None
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.downloads: list[str] = []
        self.chats: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
        self.send_delay = 0.0
        self.callback_answer_timeout = DEFAULT_CALLBACK_ANSWER_TIMEOUT
        self.callback_answers: dict[str, float] = {}  # query id -> seconds after the press
        self._calls: list[Call] = []
        self._calls_by_method: dict[str, list[Call]] = defaultdict(list)
        self._pending: deque[dict[str, Any]] = deque()
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._changed = asyncio.Condition()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # -------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.base_url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        """Close the server (pending long polls end)."""
        async with self._changed:
            self._closing = True
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -------------------------------------------------------------- test controls

    async def push(self, *updates: dict[str, Any] | list[dict[str, Any]]) -> list[int]:
        """Queue updates for getUpdates (lists of updates, e.g. albums, are flattened)."""
        ids = []
        async with self._changed:
            for item in updates:
                for update in item if isinstance(item, list) else [item]:
                    self._remember_user_message(update)
                    self._pending.append(update)
                    ids.append(update["update_id"])
            self._changed.notify_all()
        return ids

    def fail_next(self, method: str, count: int, fault: Fault) -> None:
        """Answer the next `count` calls of `method` with `fault`."""
        self._faults[method].extend([fault] * count)

    def enforce_limits(self, limits: RateLimits | None = None) -> RateLimits:
        """Answer 429 to sends above Telegram's caps from now on."""
        self.limits = limits or RateLimits()
        return self.limits

    def calls(self, method: str | None = None) -> list[Call]:
        """Calls received so far (of one method, or all), in order."""
        return list(self._calls if method is None else self._calls_by_method[method])

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """sendMessage calls answered 200 (to one chat, or all)."""
        return [
            c
            for c in self._calls_by_method["sendMessage"]
            if c.ok and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    def pending_updates(self) -> int:
        """Updates not yet confirmed by a getUpdates offset."""
        return len(self._pending)

    async def wait_for_calls(
        self, method: str, count: int = 1, *, ok: bool = False, within: float = DEFAULT_WAIT
    ) -> list[Call]:
        """Wait until `count` calls of `method` (answered 200 when `ok`) arrived; returns them."""

        def matching() -> list[Call]:
            calls = self._calls_by_method[method]
            return [c for c in calls if c.ok] if ok else list(calls)

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(matching()) >= count), within)
            return matching()

    async def wait_for(
        self, predicate: Callable[[], bool], *, within: float = DEFAULT_WAIT
    ) -> None:
        """Wait until `predicate()` holds; re-checked after every call and push."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), within)

    async def wait_until_consumed(self, *, within: float = DEFAULT_WAIT) -> None:
        """Wait until the bot confirmed every pushed update (asked for a higher offset)."""
        await self.wait_for(lambda: not self._pending, within=within)

    def last_keyboard_message(self, chat_id: int) -> dict[str, Any] | None:
        """The latest bot message in a chat that still carries an inline keyboard."""
        for message in reversed(self.chats[chat_id].values()):
            if message.get("from", {}).get("is_bot") and message.get("reply_markup"):
                return message
        return None

    def press(self, user: TgUser, label: str, *, message_id: int | None = None) -> dict[str, Any]:
        """A callback update pressing the button whose text contains `label`."""
        chat = self.chats[user.id]
        message = chat.get(message_id) if message_id else self.last_keyboard_message(user.id)
        if message is None:
            raise AssertionError(f"no keyboard message in chat {user.id}")
        buttons = [b for row in message["reply_markup"]["inline_keyboard"] for b in row]
        exact = [b for b in buttons if b["text"].split(" ", 1)[-1] == label or b["text"] == label]
        for button in exact or [b for b in buttons if label in b["text"]]:
            return self.updates.callback(user, button["callback_data"], message=message)
        raise AssertionError(f"no button {label!r} in {message['reply_markup']}")

    # -------------------------------------------------------------- HTTP

    async def _params(self, request: web.Request) -> dict[str, Any]:
        raw: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                raw.update({k: json.dumps(v) if k in JSON_FIELDS else v for k, v in body.items()})
                raw = {
                    k: str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
                    for k, v in raw.items()
                }
            else:
                form = await request.post()
                raw.update({k: v for k, v in form.items() if isinstance(v, str)})
                uploads = {
                    k: Upload(v.filename, v.content_type, v.file.read())
                    for k, v in form.items()
                    if isinstance(v, web.FileField)
                }
                if uploads:
                    raw[UPLOADS] = uploads
        return _decode_params(raw)

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        received = time.monotonic()
        params = await self._params(request)
        faults = self._faults.get(method)
        fault = faults.popleft() if faults else None
        if fault is not None and fault.disconnect:
            await self._record(method, params, 0)
            assert request.transport is not None
            request.transport.close()
            raise ConnectionResetError("fault: connection dropped")
        try:
            if fault is not None:
                raise _ApiError(fault.status, fault.description, fault.retry_after)
            self._check_limits(method, params)
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                raise _ApiError(404, "Not Found")
            result = await handler(params)
        except _ApiError as error:
            await self._record(method, params, error.status, received)
            return self._error(error.status, error.description, error.retry_after)
        await self._record(method, params, 200, received)
        if self.send_delay and method in SENDING_METHODS:
            await asyncio.sleep(self.send_delay)  # delivered already; the answer is slow
        return web.json_response({"ok": True, "result": result})

    async def _file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        for stored in self.updates.files.values():
            if stored.file_path == path:
                async with self._changed:
                    self.downloads.append(stored.file_id)
                    self._changed.notify_all()
                return web.Response(body=stored.data, content_type="application/octet-stream")
        return web.Response(status=404, text="Not Found")

    async def _record(
        self, method: str, params: dict[str, Any], status: int, at: float = 0.0
    ) -> None:
        call = Call(method, params, status, at or time.monotonic())
        async with self._changed:
            self._calls.append(call)
            self._calls_by_method[method].append(call)
            self._changed.notify_all()

    @staticmethod
    def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return web.json_response(body, status=status)

    def _check_limits(self, method: str, params: dict[str, Any]) -> None:
        if self.limits is None or method not in SENDING_METHODS:
            return
        wait = self.limits.check(str(params.get("chat_id")))
        if wait is not None:
            raise _ApiError(429, f"Too Many Requests: retry after {wait}", wait)

    # -------------------------------------------------------------- chat memory

    def _remember_user_message(self, update: dict[str, Any]) -> None:
        message = update.get("message")
        if message is not None:
            self.chats[message["chat"]["id"]][message["message_id"]] = message

    def _message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        message_id = params.get("message_id")
        if not isinstance(chat_id, int) or not isinstance(message_id, int):
            raise _ApiError(400, "Bad Request: message identifier is not specified")
        message = self.chats[chat_id].get(message_id)
        if message is None or not message.get("from", {}).get("is_bot"):
            raise _ApiError(400, "Bad Request: message to edit not found")
        return message

    @staticmethod
    def _inline(markup: Any) -> dict[str, Any] | None:
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            return {"inline_keyboard": markup["inline_keyboard"]}
        return None

    # -------------------------------------------------------------- methods

    async def _m_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**BOT.to_json(), "can_join_groups": False, "supports_inline_queries": False}

    async def _m_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        allowed = params.get("allowed_updates") or None
        async with self._changed:
            self._confirm(offset, allowed)
            if not self._pending and timeout > 0:
                try:
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: bool(self._pending) or self._closing),
                        timeout,
                    )
                except TimeoutError:
                    return []
                self._confirm(offset, allowed)  # updates pushed meanwhile may be old ones
            return list(itertools.islice(self._pending, limit))

    def _confirm(self, offset: Any, allowed: list[str] | None) -> None:
        """Forget updates the offset confirms, and kinds the bot did not ask for."""
        if isinstance(offset, int) and offset < 0:
            while len(self._pending) > -offset:
                self._pending.popleft()
        elif isinstance(offset, int):
            while self._pending and self._pending[0]["update_id"] < offset:
                self._pending.popleft()
        if allowed:
            # Telegram never creates updates of kinds the bot did not ask for.
            self._pending = deque(u for u in self._pending if any(k in u for k in allowed))
        self._changed.notify_all()

    async def _m_setWebhook(self, params: dict[str, Any]) -> bool:
        secret = params.get("secret_token")
        if secret is not None and not (
            1 <= len(secret) <= 256
            and all(c.isascii() and (c.isalnum() or c in "_-") for c in secret)
        ):
            raise _ApiError(400, "Bad Request: secret token contains unallowed characters")
        self.webhook = params
        return True

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    async def _m_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        webhook = self.webhook or {}
        return {
            "url": webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    async def _m_setMyCommands(self, params: dict[str, Any]) -> bool:
        self.commands[params.get("language_code") or ""] = params["commands"]
        return True

    async def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        text = params.get("text") or ""
        if not isinstance(chat_id, int):
            raise _ApiError(400, "Bad Request: chat not found")
        if not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        for data in Call("sendMessage", params, 200).button_data():
            if not 1 <= len(data.encode()) <= 64:
                raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        message: dict[str, Any] = {
            "message_id": self.updates.next_message_id(chat_id),
            "from": BOT.to_json(),
            "chat": {"id": chat_id, "type": PRIVATE, "first_name": "Guardián"},
            "date": int(self.updates.clock()),
            "text": text,
        }
        inline = self._inline(params.get("reply_markup"))
        if inline:
            message["reply_markup"] = inline
        self.chats[chat_id][message["message_id"]] = message
        return message

    async def _media_message(
        self, params: dict[str, Any], field_name: str, content: dict[str, Any]
    ) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            raise _ApiError(400, "Bad Request: chat not found")
        uploads = params.get(UPLOADS) or {}
        reference = str(params.get(field_name) or "")
        if reference.removeprefix("attach://") not in uploads and field_name not in uploads:
            raise _ApiError(400, f"Bad Request: there is no {field_name} in the request")
        caption = params.get("caption") or ""
        if len(caption.encode("utf-16-le")) // 2 > 1024:
            raise _ApiError(400, "Bad Request: message caption is too long")
        message: dict[str, Any] = {
            "message_id": self.updates.next_message_id(chat_id),
            "from": BOT.to_json(),
            "chat": {"id": chat_id, "type": PRIVATE, "first_name": "Guardián"},
            "date": int(self.updates.clock()),
            **content,
        }
        if caption:
            message["caption"] = caption
        self.chats[chat_id][message["message_id"]] = message
        return message

    async def _m_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = f"DOC{len(self._calls_by_method['sendDocument'])}"
        document = {"file_id": file_id, "file_unique_id": file_id}
        return await self._media_message(params, "document", {"document": document})

    async def _m_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = f"PHO{len(self._calls_by_method['sendPhoto'])}"
        size = {"file_id": file_id, "file_unique_id": file_id, "width": 1, "height": 1}
        return await self._media_message(params, "photo", {"photo": [size]})

    async def _m_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._message(params)
        inline = self._inline(params.get("reply_markup"))
        if message.get("text") == params.get("text") and message.get("reply_markup") == inline:
            raise _ApiError(400, NOT_MODIFIED)
        message["text"] = params.get("text")
        message["edit_date"] = int(self.updates.clock())
        if inline:
            message["reply_markup"] = inline
        else:
            message.pop("reply_markup", None)
        return message

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._message(params)
        inline = self._inline(params.get("reply_markup"))
        if message.get("reply_markup") == inline:
            raise _ApiError(400, NOT_MODIFIED)
        if inline:
            message["reply_markup"] = inline
        else:
            message.pop("reply_markup", None)
        return message

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if not query_id or query_id in self.callback_answers:
            raise _ApiError(400, QUERY_TOO_OLD)
        made = self.updates.callbacks_made.get(query_id)
        delay = time.monotonic() - made if made is not None else 0.0
        if delay > self.callback_answer_timeout:
            raise _ApiError(400, QUERY_TOO_OLD)
        self.callback_answers[query_id] = delay
        return True

    async def _m_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self.updates.files.get(str(params.get("file_id")))
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        return stored.to_json()
