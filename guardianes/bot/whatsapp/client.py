"""A thin async client of the WhatsApp Cloud API (Graph API): send messages, fetch media.

Our own rather than pywa's: the base URL must be configurable (tests run a fake Graph server
on loopback), and failures must be classified on Meta's `error.code` so the outbox knows
whether to wait, resend as a template, give up on the person, or give up on the message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from guardianes.services.delivery import FailureKind, SendFailedError

# Meta's "slow down" codes, each with how long to wait when no Retry-After header comes:
# throughput (130429) clears within a second or so; the per-user pair limit (131056) is
# about one message per 6 s to the same person; spam, app and account limits are hourly.
RATE_LIMIT_WAIT_SECONDS: dict[int, float] = {
    130429: 2.0,
    131056: 10.0,
    131048: 60.0,
    80007: 60.0,
    4: 60.0,
    131064: 60.0,
}
OUTSIDE_WINDOW_CODE = 131047
UNDELIVERABLE_CODE = 131026
# Codes Meta documents as temporary server-side trouble, whatever the HTTP status says.
TRANSIENT_CODES = frozenset({1, 2, 131000, 131016, 133004})
HTTP_SERVER_ERROR = 500
HTTP_CLIENT_ERROR = 400
DEFAULT_TIMEOUT_SECONDS = 20.0
# A BSUID looks like "US.13491208655302741918" (or "US.ENT.…" for a parent id); a phone
# number (wa_id) is only digits. Addresses are stored as either, so the shape tells them apart.
_PHONE_RE = re.compile(r"^\+?\d{6,20}$")


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who a message goes to: a phone number (`to`) or a business-scoped user id (`recipient`)."""

    wa_id: str | None = None
    bsuid: str | None = None

    @classmethod
    def from_address(cls, address: str) -> Recipient:
        """Read a stored address: digits are a phone number, anything else is a BSUID."""
        if _PHONE_RE.match(address):
            return cls(wa_id=address.lstrip("+"))
        return cls(bsuid=address)

    def fields(self) -> dict[str, str]:
        """The addressing fields of a send request (`to` wins when both are known)."""
        if self.wa_id:
            return {"to": self.wa_id}
        if self.bsuid:
            return {"recipient": self.bsuid}
        raise ValueError("a recipient needs a wa_id or a business-scoped user id")


@dataclass(frozen=True, slots=True)
class ReplyButton:
    """One reply button: `id` comes back in the webhook's `button_reply`."""

    id: str
    title: str


@dataclass(frozen=True, slots=True)
class ListRow:
    """One row of a list message: `id` comes back in the webhook's `list_reply`."""

    id: str
    title: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class TextMessage:
    """A plain text message (≤ 4,096 characters)."""

    body: str


@dataclass(frozen=True, slots=True)
class ButtonsMessage:
    """An interactive message with up to three reply buttons."""

    body: str
    buttons: tuple[ReplyButton, ...]


@dataclass(frozen=True, slots=True)
class ListMessage:
    """An interactive list message: one section of up to ten rows behind a button."""

    body: str
    button: str
    rows: tuple[ListRow, ...]


@dataclass(frozen=True, slots=True)
class LocationRequestMessage:
    """An interactive message with WhatsApp's "Send location" button."""

    body: str


@dataclass(frozen=True, slots=True)
class TemplateMessage:
    """An approved template; `body_parameters` fill its body's {{1}}, {{2}}…"""

    name: str
    language: str
    body_parameters: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DocumentMessage:
    """A file uploaded before (`media_id`), shown with its name and an optional caption."""

    media_id: str
    filename: str
    caption: str | None = None


@dataclass(frozen=True, slots=True)
class ImageMessage:
    """A picture uploaded before (`media_id`), with an optional caption."""

    media_id: str
    caption: str | None = None


OutgoingMessage = (
    TextMessage
    | ButtonsMessage
    | ListMessage
    | LocationRequestMessage
    | TemplateMessage
    | DocumentMessage
    | ImageMessage
)


def message_fields(message: OutgoingMessage) -> dict[str, Any]:
    """The type-specific part of a `/messages` request body."""
    match message:
        case TextMessage(body=body):
            return {"type": "text", "text": {"body": body, "preview_url": False}}
        case ButtonsMessage(body=body, buttons=buttons):
            return {
                "type": "interactive",
                "interactive": {
                    "type": "button",
                    "body": {"text": body},
                    "action": {
                        "buttons": [
                            {"type": "reply", "reply": {"id": b.id, "title": b.title}}
                            for b in buttons
                        ]
                    },
                },
            }
        case ListMessage(body=body, button=button, rows=rows):
            return {
                "type": "interactive",
                "interactive": {
                    "type": "list",
                    "body": {"text": body},
                    "action": {
                        "button": button,
                        "sections": [{"rows": [_row_json(row) for row in rows]}],
                    },
                },
            }
        case LocationRequestMessage(body=body):
            return {
                "type": "interactive",
                "interactive": {
                    "type": "location_request_message",
                    "body": {"text": body},
                    "action": {"name": "send_location"},
                },
            }
        case TemplateMessage(name=name, language=language, body_parameters=parameters):
            template: dict[str, Any] = {"name": name, "language": {"code": language}}
            if parameters:
                template["components"] = [
                    {
                        "type": "body",
                        "parameters": [{"type": "text", "text": p} for p in parameters],
                    }
                ]
            return {"type": "template", "template": template}
        case DocumentMessage(media_id=media_id, filename=filename, caption=caption):
            document = {"id": media_id, "filename": filename}
            if caption:
                document["caption"] = caption
            return {"type": "document", "document": document}
        case ImageMessage(media_id=media_id, caption=caption):
            image = {"id": media_id}
            if caption:
                image["caption"] = caption
            return {"type": "image", "image": image}
    raise TypeError(f"not a WhatsApp message: {message!r}")


def _row_json(row: ListRow) -> dict[str, str]:
    data = {"id": row.id, "title": row.title}
    if row.description:
        data["description"] = row.description
    return data


class MediaInfo(BaseModel):
    """What `GET /{media_id}` answers; `url` must be fetched within five minutes."""

    model_config = ConfigDict(extra="ignore")

    url: str
    mime_type: str | None = None
    sha256: str | None = None
    file_size: int | None = None


class _SendResponseMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str


class _SendResponse(BaseModel):
    model_config = ConfigDict(extra="ignore")

    messages: list[_SendResponseMessage]


class _UploadResponse(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str


@dataclass(frozen=True, slots=True)
class GraphError:
    """Meta's `{"error": {...}}` body, reduced to what classification needs."""

    code: int | None
    message: str
    details: str | None = None

    @classmethod
    def from_response(cls, response: httpx.Response) -> GraphError:
        """Read the error body, tolerating non-JSON answers from proxies."""
        try:
            body = response.json()
        except ValueError:
            return cls(code=None, message=response.text[:300] or response.reason_phrase)
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return cls(code=None, message=str(body)[:300])
        code = error.get("code")
        data = error.get("error_data")
        return cls(
            code=int(code) if isinstance(code, int | str) and str(code).isdigit() else None,
            message=str(error.get("message") or error.get("title") or ""),
            details=str(data.get("details")) if isinstance(data, dict) else None,
        )


def classify_error(
    status_code: int, error: GraphError, retry_after_header: str | None = None
) -> SendFailedError:
    """Turn a failed Graph API answer into what the outbox should do next."""
    detail = f"HTTP {status_code}, code {error.code}: {error.message}"
    if error.details:
        detail += f" ({error.details})"
    if error.code in RATE_LIMIT_WAIT_SECONDS:
        wait = _parse_retry_after(retry_after_header) or RATE_LIMIT_WAIT_SECONDS[error.code]
        return SendFailedError(FailureKind.RATE_LIMITED, detail, retry_after=wait)
    if error.code == OUTSIDE_WINDOW_CODE:
        return SendFailedError(FailureKind.OUTSIDE_WINDOW, detail)
    if error.code == UNDELIVERABLE_CODE:
        return SendFailedError(FailureKind.UNREACHABLE, detail)
    if error.code in TRANSIENT_CODES or status_code >= HTTP_SERVER_ERROR:
        return SendFailedError(FailureKind.RETRY, detail)
    if status_code == 429:
        wait = _parse_retry_after(retry_after_header) or RATE_LIMIT_WAIT_SECONDS[130429]
        return SendFailedError(FailureKind.RATE_LIMITED, detail, retry_after=wait)
    return SendFailedError(FailureKind.PERMANENT, detail)


def _parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


@dataclass
class WhatsAppClient:
    """Sends messages from one business phone number and downloads media sent to it."""

    api_base: str  # with the version, e.g. https://graph.facebook.com/v23.0
    token: str
    phone_number_id: str
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    transport: httpx.AsyncBaseTransport | None = None
    _http: httpx.AsyncClient | None = field(default=None, init=False, repr=False)

    @property
    def http(self) -> httpx.AsyncClient:
        """The pooled HTTP client, created on first use (never at import or construction)."""
        if self._http is None:
            self._http = httpx.AsyncClient(
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=self.timeout,
                transport=self.transport,
            )
        return self._http

    async def aclose(self) -> None:
        """Close the connection pool (app shutdown)."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def _url(self, path: str) -> str:
        return f"{self.api_base.rstrip('/')}/{path.lstrip('/')}"

    async def send(self, recipient: Recipient, message: OutgoingMessage) -> str:
        """Send one message; returns its `wamid`, or raises `SendFailedError`."""
        body: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            **recipient.fields(),
            **message_fields(message),
        }
        response = await self._request("POST", self._url(f"{self.phone_number_id}/messages"), body)
        try:
            parsed = _SendResponse.model_validate(response.json())
        except (ValueError, ValidationError) as error:
            # Accepted (2xx) but unreadable: resending could duplicate, so do not retry.
            raise SendFailedError(FailureKind.PERMANENT, f"unexpected answer: {error}") from error
        if not parsed.messages:
            raise SendFailedError(FailureKind.PERMANENT, "answer lists no message id")
        return parsed.messages[0].id

    async def send_text(self, recipient: Recipient, body: str) -> str:
        """Send a text message."""
        return await self.send(recipient, TextMessage(body))

    async def send_buttons(
        self, recipient: Recipient, body: str, buttons: tuple[ReplyButton, ...]
    ) -> str:
        """Send up to three reply buttons."""
        return await self.send(recipient, ButtonsMessage(body, buttons))

    async def send_list(
        self, recipient: Recipient, body: str, button: str, rows: tuple[ListRow, ...]
    ) -> str:
        """Send a list message of up to ten rows."""
        return await self.send(recipient, ListMessage(body, button, rows))

    async def send_location_request(self, recipient: Recipient, body: str) -> str:
        """Ask for the person's location with WhatsApp's own button."""
        return await self.send(recipient, LocationRequestMessage(body))

    async def send_template(
        self, recipient: Recipient, name: str, language: str, body_parameters: tuple[str, ...]
    ) -> str:
        """Send an approved template (the only kind allowed outside the 24-hour window)."""
        return await self.send(recipient, TemplateMessage(name, language, body_parameters))

    async def upload_media(self, data: bytes, *, mime_type: str, filename: str) -> str:
        """Upload a file for a document or image message; returns its media id."""
        url = self._url(f"{self.phone_number_id}/media")
        try:
            response = await self.http.post(
                url,
                data={"messaging_product": "whatsapp", "type": mime_type},
                files={"file": (filename, data, mime_type)},
            )
        except httpx.TimeoutException as error:
            raise SendFailedError(FailureKind.RETRY, f"timeout: {error!r}") from error
        except httpx.TransportError as error:
            raise SendFailedError(FailureKind.RETRY, f"network: {error!r}") from error
        if response.status_code >= HTTP_CLIENT_ERROR:
            raise classify_error(
                response.status_code,
                GraphError.from_response(response),
                response.headers.get("Retry-After"),
            )
        try:
            return _UploadResponse.model_validate(response.json()).id
        except (ValueError, ValidationError) as error:
            raise SendFailedError(FailureKind.PERMANENT, f"bad upload answer: {error}") from error

    async def media_info(self, media_id: str) -> MediaInfo:
        """Look up a media id: its short-lived download URL, type, hash and size."""
        response = await self._request("GET", self._url(media_id))
        try:
            return MediaInfo.model_validate(response.json())
        except (ValueError, ValidationError) as error:
            raise SendFailedError(FailureKind.PERMANENT, f"bad media info: {error}") from error

    async def download(self, url: str, *, max_bytes: int) -> bytes:
        """Download a media URL with the same bearer token, refusing more than `max_bytes`."""
        try:
            async with self.http.stream("GET", url) as response:
                if response.status_code >= HTTP_CLIENT_ERROR:
                    await response.aread()
                    raise classify_error(
                        response.status_code,
                        GraphError.from_response(response),
                        response.headers.get("Retry-After"),
                    )
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise SendFailedError(
                            FailureKind.PERMANENT, f"media larger than {max_bytes} bytes"
                        )
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.TimeoutException as error:
            raise SendFailedError(FailureKind.RETRY, f"timeout: {error!r}") from error
        except httpx.TransportError as error:
            raise SendFailedError(FailureKind.RETRY, f"network: {error!r}") from error

    async def fetch_media(self, media_id: str, *, max_bytes: int) -> tuple[MediaInfo, bytes]:
        """Look up and download a media id right away (its URL lives five minutes)."""
        info = await self.media_info(media_id)
        if info.file_size is not None and info.file_size > max_bytes:
            raise SendFailedError(
                FailureKind.PERMANENT, f"media of {info.file_size} bytes > {max_bytes}"
            )
        return info, await self.download(info.url, max_bytes=max_bytes)

    async def _request(
        self, method: str, url: str, body: dict[str, Any] | None = None
    ) -> httpx.Response:
        try:
            response = await self.http.request(method, url, json=body)
        except httpx.TimeoutException as error:
            # The outcome is unknown; the outbox resends (at least once, never lost).
            raise SendFailedError(FailureKind.RETRY, f"timeout: {error!r}") from error
        except httpx.TransportError as error:
            raise SendFailedError(FailureKind.RETRY, f"network: {error!r}") from error
        if response.status_code >= HTTP_CLIENT_ERROR:
            raise classify_error(
                response.status_code,
                GraphError.from_response(response),
                response.headers.get("Retry-After"),
            )
        return response
