"""Every router the app mounts, in one list."""

from __future__ import annotations

from fastapi import APIRouter


def all_routers() -> list[APIRouter]:
    """Routers of the web chat, the staff API and the platform webhooks."""
    from guardianes.api.router import api_routers
    from guardianes.bot.telegram.webhook import router as telegram_router
    from guardianes.bot.whatsapp.webhook import router as whatsapp_router
    from guardianes.web import chat, observability, public_map, staff

    return [
        chat.router,
        telegram_router,
        whatsapp_router,
        *api_routers(),
        observability.router,
        public_map.router,
        public_map.leaflet_router,
        staff.router,
    ]
