"""ASGI middleware: every HTTP request gets an id, in its log lines and its answer."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from guardianes.observability.context import new_request_id, request_id

HEADER = "X-Request-ID"


class RequestIdMiddleware:
    """Sets the request id (a sane `X-Request-ID` from a proxy, or a new one) for the request.

    Work the request spawns (webhook processing in the background) copies the context, so
    its lines carry the id too; the answer echoes it for the caller to quote.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request with its id bound."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = None
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                offered = value.decode("latin-1")
                break
        value = new_request_id(offered)
        token = request_id.set(value)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = value
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)
