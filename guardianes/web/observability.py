"""Readiness (`/readyz`) and Prometheus metrics (`/metrics`); liveness is `/healthz`.

`/readyz` answers 200 only when the database answers at the code's schema and every enabled
channel is started (Telegram polling or its webhook registered, WhatsApp's webhook able to
verify deliveries, the web chat registered); otherwise 503 with the reasons, so a load
balancer sends no traffic to a worker that cannot serve it.

`/metrics` is for the city's monitoring, not the public: with `GUARDIANES_METRICS_TOKEN`
set, the scraper sends it as `Authorization: Bearer <token>`; without it, only a client on
this machine's loopback that came through no proxy (no forwarding header) may read it.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from guardianes.api.deps import RuntimeDep
from guardianes.bot.telegram.names import STATE_ATTRIBUTE as TELEGRAM_STATE
from guardianes.bot.whatsapp.webhook import STATE_ATTRIBUTE as WHATSAPP_STATE
from guardianes.config import Settings
from guardianes.observability.metrics import CONTENT_TYPE, read_snapshot, render
from guardianes.services.runtime import Runtime
from guardianes.storage.db import current_revision, head_revision
from guardianes.storage.repositories import monitoring

if TYPE_CHECKING:
    # A type only: the runner imports aiogram, which Telegram-off services never load.
    from guardianes.bot.telegram.runner import TelegramTransport

DATABASE_TIMEOUT_SECONDS = 3.0
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")

router = APIRouter(tags=["health"])


@dataclass(frozen=True, slots=True)
class Check:
    """One readiness condition and what was found."""

    name: str
    ok: bool
    detail: str


async def _database_check(runtime: Runtime) -> Check:
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS):
            async with runtime.sessions() as session:
                await monitoring.ping(session)
            revision = await current_revision(runtime.engine)
    except TimeoutError:
        return Check("database", False, f"no answer within {DATABASE_TIMEOUT_SECONDS:.0f} s")
    except Exception as error:
        return Check("database", False, f"unreachable: {type(error).__name__}")
    if revision != head_revision():
        return Check("database", False, f"schema at {revision}, code needs {head_revision()}")
    return Check("database", True, f"{runtime.engine.dialect.name} at {revision}")


def _channel_checks(request: Request, runtime: Runtime) -> list[Check]:
    settings: Settings = runtime.settings
    state = request.app.state
    webchat = "webchat" in runtime.channels
    checks = [Check("webchat", webchat, "registered" if webchat else "not registered")]
    if settings.telegram_enabled:
        transport: TelegramTransport | None = getattr(state, TELEGRAM_STATE, None)
        if transport is None or "telegram" not in runtime.channels:
            checks.append(Check("telegram", False, "not started"))
        elif not transport.is_ready:
            what = "webhook not registered yet" if transport.mode == "webhook" else "not polling"
            checks.append(Check("telegram", False, what))
        else:
            what = "webhook registered" if transport.mode == "webhook" else "polling"
            checks.append(Check("telegram", True, what))
    if settings.whatsapp_enabled:
        if getattr(state, WHATSAPP_STATE, None) is None or "whatsapp" not in runtime.channels:
            checks.append(Check("whatsapp", False, "not started"))
        elif settings.whatsapp_app_secret is None:
            checks.append(
                Check("whatsapp", False, "WHATSAPP_APP_SECRET unset: deliveries are refused")
            )
        else:
            checks.append(Check("whatsapp", True, "webhook configured"))
    return checks


@router.get("/readyz")
async def readiness(request: Request, runtime: RuntimeDep) -> JSONResponse:
    """200 when the database and every enabled channel are ready, else 503 with reasons."""
    checks = [await _database_check(runtime), *_channel_checks(request, runtime)]
    ready = all(c.ok for c in checks)
    body = {
        "status": "ready" if ready else "not ready",
        "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks},
        "reasons": [f"{c.name}: {c.detail}" for c in checks if not c.ok],
    }
    return JSONResponse(body, status_code=200 if ready else 503)


def _metrics_refusal(request: Request, settings: Settings) -> Response | None:
    """None when this client may read the metrics, else the answer to give it."""
    token = settings.metrics_token
    if token is not None:
        scheme, _, offered = request.headers.get("authorization", "").partition(" ")
        expected = token.get_secret_value().encode()
        if scheme.lower() == "bearer" and hmac.compare_digest(offered.strip().encode(), expected):
            return None
        return JSONResponse(
            {"detail": "metrics need Authorization: Bearer <GUARDIANES_METRICS_TOKEN>"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    if _is_local(request):
        return None
    return JSONResponse(
        {
            "detail": "metrics are served to loopback clients only; "
            "set GUARDIANES_METRICS_TOKEN to scrape them from elsewhere"
        },
        status_code=403,
    )


def _is_local(request: Request) -> bool:
    if request.client is None or any(h in request.headers for h in FORWARDING_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False


@router.get("/metrics")
async def metrics(request: Request, runtime: RuntimeDep) -> Response:
    """Prometheus text exposition: process counters and database gauges."""
    refusal = _metrics_refusal(request, runtime.settings)
    if refusal is not None:
        return refusal
    snapshot = await read_snapshot(runtime.sessions, runtime.channels)
    return Response(render(snapshot), media_type=CONTENT_TYPE)
