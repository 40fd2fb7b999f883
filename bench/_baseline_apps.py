"""Bare apps the end-to-end benchmarks compare Guardianes with (uvicorn app factories).

`whatsapp_echo`: a minimal WhatsApp webhook that checks the signature and answers every
message through the Graph API with httpx (settings from BENCH_ECHO_* variables).
`webchat_echo`: a bare web chat that echoes every post to the browser's long-poll.
`bare`: FastAPI with only /healthz (the memory baseline).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import httpx
from fastapi import FastAPI, Form, Request, Response

# The echo's buttons: every label the benchmark's scripts press.
ECHO_BUTTONS = ("Español", "Sí, acepto", "Llenar una tarjeta", "parques", "Sí, es ese", "Sí")
WAIT_LIMIT = 30.0


def bare() -> FastAPI:
    """FastAPI answering /healthz and nothing else."""
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def whatsapp_echo() -> FastAPI:
    """Verify the signature, answer 200, send the echo with buttons in the background."""
    secret = os.environ["BENCH_ECHO_APP_SECRET"].encode()
    url = f"{os.environ['BENCH_ECHO_GRAPH_BASE']}/{os.environ['BENCH_ECHO_PHONE_ID']}/messages"
    headers = {"Authorization": f"Bearer {os.environ['BENCH_ECHO_TOKEN']}"}
    clients: list[httpx.AsyncClient] = []
    tasks: set[asyncio.Task[None]] = set()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(headers=headers, timeout=30) as client:
            clients.append(client)
            yield

    app = bare()
    app.router.lifespan_context = lifespan

    async def send(to: str, text: str) -> None:
        buttons = [
            {"type": "reply", "reply": {"id": f"echo:{n}", "title": title}}
            for n, title in enumerate(ECHO_BUTTONS)
        ]
        body = {
            "messaging_product": "whatsapp",
            "to": to,
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": text},
                "action": {"buttons": buttons},
            },
        }
        await clients[0].post(url, json=body)

    @app.post("/webhooks/whatsapp")
    async def webhook(request: Request) -> Response:
        body = await request.body()
        header = request.headers.get("X-Hub-Signature-256", "")
        expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, header):
            return Response(status_code=401)
        for entry in json.loads(body)["entry"]:
            for change in entry["changes"]:
                for message in change["value"].get("messages", []):
                    text = message.get("text", {}).get("body") or message["type"]
                    task = asyncio.create_task(send(message["from"], text))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
        return Response(status_code=200)

    return app


def webchat_echo() -> FastAPI:
    """POST /chat/api/messages echoes to GET /chat/api/messages (long-poll) of that cookie."""
    app = bare()
    replies: dict[str, list[dict[str, Any]]] = defaultdict(list)
    changed: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
    ids = iter(range(1, 2**62))

    def user(request: Request, response: Response) -> str:
        name = request.cookies.get("guardianes_chat")
        if not name:
            name = f"u{next(ids)}"
            response.set_cookie("guardianes_chat", name)
        return name

    @app.post("/chat/api/messages")
    async def post(
        request: Request, response: Response, kind: str = Form(), text: str | None = Form(None)
    ) -> dict[str, bool]:
        name = user(request, response)
        prompt = {
            "text": text or kind,
            "choices": [{"payload": b, "label": b} for b in ECHO_BUTTONS],
        }
        replies[name].append({"id": next(ids), "prompt": prompt})
        changed[name].set()
        return {"accepted": True}

    @app.get("/chat/api/messages")
    async def get(
        request: Request, response: Response, after: int = 0, wait: float = 0.0
    ) -> dict[str, Any]:
        name = user(request, response)
        found = [m for m in replies[name] if m["id"] > after]
        if not found and wait:
            changed[name].clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(changed[name].wait(), min(wait, WAIT_LIMIT))
            found = [m for m in replies[name] if m["id"] > after]
        last = max((m["id"] for m in found), default=after)
        return {"messages": found, "last_id": last}

    return app
