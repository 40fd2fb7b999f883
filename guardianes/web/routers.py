"""The routers of the staff API and the pages; channel routes come from the channel plugins."""

from __future__ import annotations

from fastapi import APIRouter


def all_routers() -> list[APIRouter]:
    """Routers of the staff API, the observability endpoints and the pages."""
    from guardianes.api.router import api_routers
    from guardianes.web import observability, public_map, staff

    return [
        *api_routers(),
        observability.router,
        public_map.router,
        public_map.leaflet_router,
        staff.router,
    ]
