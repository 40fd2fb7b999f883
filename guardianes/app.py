"""The FastAPI application: webhooks, web chat, staff API; its lifespan builds everything."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from guardianes import __version__
from guardianes.config import Settings
from guardianes.runtime.bootstrap import Services, start_services, stop_services
from guardianes.runtime.channels import channel_routers
from guardianes.web import health
from guardianes.web.body_limits import BodyLimit, BodyLimitMiddleware
from guardianes.web.errors import install_error_handlers
from guardianes.web.middleware import RequestIdMiddleware

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, demo: bool = False) -> FastAPI:
    """Build the app; engines, bots and the scheduler start in its lifespan, not here."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services: Services = await start_services(settings, app, demo=demo)
        app.state.runtime = services.runtime
        app.state.services = services
        try:
            yield
        finally:
            with contextlib.suppress(asyncio.CancelledError):
                await stop_services(services)

    app = FastAPI(
        title="Guardianes",
        version=__version__,
        summary="Citizen guardians check that public services are delivered.",
        lifespan=lifespan,
    )
    app.include_router(health.router)
    app.add_middleware(RequestIdMiddleware)
    _include_optional_routers(app)
    install_error_handlers(app)
    _install_staff_dashboard(app)
    app.add_middleware(
        BodyLimitMiddleware,
        default_max_bytes=settings.body_limit_bytes,
        rules=body_limits(settings),
    )
    return app


def body_limits(settings: Settings) -> list[BodyLimit]:
    """The per-route body limits (longest prefix wins); other routes get the default."""
    return [
        BodyLimit("/webhooks/", settings.body_limit_webhook_bytes),
        BodyLimit("/chat/api/messages", settings.body_limit_chat_bytes),
        BodyLimit("/api/v1/imports", settings.body_limit_import_bytes),
        BodyLimit("/staff/importaciones", settings.body_limit_import_bytes),
    ]


def _include_optional_routers(app: FastAPI) -> None:
    from guardianes.web.routers import all_routers

    # The channels' routes (web chat, webhooks) first, as before: they come from the plugins.
    for router in [*channel_routers(), *all_routers()]:
        app.include_router(router)


def _install_staff_dashboard(app: FastAPI) -> None:
    from guardianes.web.staff import install_staff_errors

    # Leaflet is served by the public map's router at the same /static/leaflet URLs.
    install_staff_errors(app)
