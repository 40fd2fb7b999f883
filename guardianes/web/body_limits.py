"""Request body limits enforced while the body streams in, before any route reads it.

A pure ASGI middleware: it picks the limit of the route (longest matching path prefix),
refuses a declared `Content-Length` over it at once, and otherwise counts the bytes as the
server hands them over. Past the limit it stops reading and answers 413, whatever the route
was doing with the body (JSON parsing, multipart, a signature check): no route ever holds
more than its limit in memory, and an unauthenticated 300 MB post costs nothing. uvicorn
itself buffers at most 64 KiB ahead of the application (its flow control), so memory stays
bounded by the limit even when the route reads slowly.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

PAYLOAD_TOO_LARGE = 413
BAD_REQUEST = 400


@dataclass(frozen=True, slots=True)
class BodyLimit:
    """At most `max_bytes` of body for requests whose path starts with `prefix`."""

    prefix: str
    max_bytes: int


class BodyTooLargeError(Exception):
    """The body went past the route's limit; nothing more of it is read."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body over {limit} bytes")
        self.limit = limit


def limit_for(path: str, rules: Sequence[BodyLimit], default: int) -> int:
    """The limit of the longest prefix matching `path`, else `default`."""
    best: BodyLimit | None = None
    for rule in rules:
        if path.startswith(rule.prefix) and (best is None or len(rule.prefix) > len(best.prefix)):
            best = rule
    return best.max_bytes if best is not None else default


def _declared_length(scope: Scope) -> int | None:
    """The Content-Length the client declared; -1 when it is not a number."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            # ASCII digits only: int() would accept "1_0" or non-ASCII digits.
            if not text.isascii() or not text.isdigit() or len(text) > 18:
                return -1
            return int(text)
    return None


class BodyLimitMiddleware:
    """Answers 413 as soon as a request body is known to be over its route's limit."""

    def __init__(
        self, app: ASGIApp, *, default_max_bytes: int, rules: Sequence[BodyLimit] = ()
    ) -> None:
        self.app = app
        self.default_max_bytes = default_max_bytes
        self.rules = tuple(rules)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope.get("path", ""), self.rules, self.default_max_bytes)
        declared = _declared_length(scope)
        if declared == -1:
            await _refuse(send, BAD_REQUEST, "invalid Content-Length")
            return
        if declared is not None and declared > limit:
            await _refuse(send, PAYLOAD_TOO_LARGE, f"body over {limit} bytes")
            return

        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise BodyTooLargeError(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLargeError(limit)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # the route's own answer to a cut body (e.g. a 400) is replaced
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLargeError:
            pass
        except Exception:
            # Routes may wrap the refusal in their own error (FastAPI's "error parsing
            # the body"); only a failure unrelated to the limit goes on to the 500 handler.
            if not exceeded:
                raise
        if exceeded:
            logger.info("refused %s %s: body over %d bytes", scope["method"], scope["path"], limit)
            if not started:
                await _refuse(send, PAYLOAD_TOO_LARGE, f"body over {limit} bytes")


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        # The rest of the body is not read: the connection cannot be reused.
        (b"connection", b"close"),
    ]
    start: dict[str, Any] = {"type": "http.response.start", "status": status, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": body})
