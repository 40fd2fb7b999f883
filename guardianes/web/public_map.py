"""The public map at /mapa: no login, Spanish first, Leaflet served by the app itself.

Thin: the data comes from `services.public_map`. Leaflet's files come from the
`xstatic-leaflet` package installed with the app (never a CDN), so the page works offline;
tiles come from `GUARDIANES_MAP_TILES_URL` and the polygons still make sense without them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import xstatic.pkg.leaflet
from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from guardianes import __version__
from guardianes.api.deps import RuntimeDep, SessionDep
from guardianes.conversations.bounds import MAX_DB_INT
from guardianes.domain.timezone import zone
from guardianes.locales import SUPPORTED_LOCALES, normalize_locale, translator
from guardianes.services import public_map
from guardianes.services.runtime import Runtime

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
# basemap.* are shared with the web chat's location picker (same base map, same fallback).
MAP_STATIC_FILES = frozenset({"map.js", "map.css", "basemap.js", "basemap.css", "icon.svg"})
LEAFLET_DIR = Path(xstatic.pkg.leaflet.BASE_DIR)
# Only what the pages use; no request path ever reaches the disk.
LEAFLET_FILES = frozenset(
    {
        "leaflet.js",
        "leaflet.css",
        "images/layers.png",
        "images/layers-2x.png",
        "images/marker-icon.png",
        "images/marker-icon-2x.png",
        "images/marker-shadow.png",
    }
)
DEFAULT_ZOOM = 12
FIRST_BAND_ZOOM = 10  # what map.js asks at its first view (zoom 12 → band "low" → 10)
MAX_ZOOM = 22
SCRIPT_TEXT_KEYS = (
    "map.loading",
    "map.loaded",
    "map.load_failed",
    "map.tiles_failed",
    "map.locating",
    "map.located",
    "map.locate_failed",
    "map.search.none",
    "map.search.results",
    "map.detail.code",
    "map.detail.service",
    "map.detail.responsible",
    "map.detail.contract",
    "map.detail.amount",
    "map.detail.obligations",
    "map.detail.status",
    "map.detail.last_card",
    "map.detail.discrepancies",
    "map.detail.no_discrepancies",
    "map.detail.guardians",
    "map.detail.colonia",
    "map.detail.share",
    "map.report.title",
    "map.report.telegram",
    "map.report.whatsapp",
    "map.report.none",
    "map.status.no_cards",
    "map.status.ok",
    "map.status.failure",
    "map.close",
)


def content_security_policy(tiles_url: str) -> str:
    """Our own files, plus images from the tile server when one is configured."""
    return (
        f"default-src 'self'; img-src 'self' data:{public_map.tile_sources(tiles_url)}; "
        "style-src 'self'; "
        "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'"
    )


router = APIRouter(prefix="/mapa", tags=["public map"])
leaflet_router = APIRouter(prefix="/static/leaflet", include_in_schema=False)
templates = Jinja2Templates(directory=WEB_DIR / "templates")


def _locale(runtime: Runtime, lang: str | None) -> str:
    return normalize_locale(lang, runtime.settings.default_locale)


def _page(
    request: Request, runtime: RuntimeDep, locale: str, extra: dict[str, Any]
) -> HTMLResponse:
    settings = runtime.settings
    t = translator(locale)
    texts = {key: t(key) for key in SCRIPT_TEXT_KEYS}
    config = {
        "locale": locale,
        "tiles": settings.map_tiles_url,
        "attribution": settings.map_tiles_attribution,
        "texts": texts,
        "space": extra.get("space_json"),
    }
    response: HTMLResponse = templates.TemplateResponse(
        request,
        "map.html",
        {
            "t": t,
            "locale": locale,
            "other_locale": next(code for code in SUPPORTED_LOCALES if code != locale),
            "version": __version__,
            "config_json": json.dumps(config, ensure_ascii=False),
            # The page's first view asks for this zoom's shapes: fetched with the scripts.
            "first_band_zoom": FIRST_BAND_ZOOM,
            **extra,
        },
    )
    response.headers["Content-Security-Policy"] = content_security_policy(settings.map_tiles_url)
    return response


@router.get("", response_class=HTMLResponse, include_in_schema=False)
async def map_page(
    request: Request, runtime: RuntimeDep, lang: str | None = Query(None, max_length=10)
) -> HTMLResponse:
    """The public map, in Spanish unless `?lang=en`."""
    return _page(request, runtime, _locale(runtime, lang), {"space": None, "path": "/mapa"})


@router.get("/espacios/{space_id}", response_class=HTMLResponse, include_in_schema=False)
async def space_page(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    space_id: Annotated[int, PathParam(ge=1, le=MAX_DB_INT)],
    lang: str | None = Query(None, max_length=10),
) -> HTMLResponse:
    """A shareable page for one space: its card, readable without script, and the map."""
    locale = _locale(runtime, lang)
    card = await _card(runtime, session, space_id, locale)
    return _page(
        request,
        runtime,
        locale,
        {"space": card, "space_json": card.to_json(), "path": f"/mapa/espacios/{space_id}"},
    )


async def _card(
    runtime: Runtime, session: SessionDep, space_id: int, locale: str
) -> public_map.SpaceCard:
    settings = runtime.settings
    card = await public_map.space_card(
        session,
        space_id,
        locale=locale,
        timezone=zone(runtime.settings.timezone),
        telegram_bot=settings.telegram_bot_username,
        whatsapp_number=settings.whatsapp_public_number,
    )
    if card is None:
        raise HTTPException(404, detail=translator(locale)("map.not_found"))
    return card


@router.get("/api/espacios.geojson")
async def map_geojson(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    zoom: Annotated[int, Query(ge=0, le=MAX_ZOOM)] = DEFAULT_ZOOM,
) -> Response:
    """Every public space, simplified for the zoom, with its latest card status (ETag)."""
    found = await public_map.map_geojson(
        session, zoom=zoom, timezone=zone(runtime.settings.timezone)
    )
    headers = {"ETag": found.etag, "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    if found.etag in _tags(request.headers.get("if-none-match")):
        return Response(status_code=304, headers=headers)
    if _accepts_gzip(request.headers.get("accept-encoding")):
        headers["Content-Encoding"] = "gzip"
        return Response(found.gzipped, media_type="application/geo+json", headers=headers)
    return Response(content=found.body, media_type="application/geo+json", headers=headers)


def _accepts_gzip(header: str | None) -> bool:
    for coding in (header or "").lower().split(","):
        name, _, quality = coding.strip().partition(";")
        if name.strip() in {"gzip", "*"}:
            return quality.replace(" ", "") not in {"q=0", "q=0.0", "q=0.00", "q=0.000"}
    return False


def _tags(header: str | None) -> set[str]:
    if not header:
        return set()
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


@router.get("/api/espacios/{space_id}")
async def map_space(
    runtime: RuntimeDep,
    session: SessionDep,
    space_id: Annotated[int, PathParam(ge=1, le=MAX_DB_INT)],
    lang: str | None = Query(None, max_length=10),
) -> dict[str, Any]:
    """One space as the map's side panel shows it (no personal data)."""
    card = await _card(runtime, session, space_id, _locale(runtime, lang))
    return card.to_json()


@router.get("/static/{name}", include_in_schema=False)
async def map_static(name: str) -> FileResponse:
    """The map page's own script and style."""
    if name not in MAP_STATIC_FILES:
        raise HTTPException(404)
    return FileResponse(STATIC_DIR / name, headers={"Cache-Control": "public, max-age=3600"})


@leaflet_router.get("/{name:path}")
async def leaflet_static(name: str) -> FileResponse:
    """Leaflet from the installed xstatic-leaflet package (works with no internet)."""
    if name not in LEAFLET_FILES:
        raise HTTPException(404)
    return FileResponse(LEAFLET_DIR / name, headers={"Cache-Control": "public, max-age=86400"})
