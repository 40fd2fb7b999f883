"""Response types of documents and maps: private (no shared cache keeps them) and named."""

from __future__ import annotations

from fastapi import Response
from fastapi.responses import JSONResponse

# They name contracts and companies, and photos are of people's streets: no shared cache
# may keep them, no type sniffing.
PRIVATE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
GEOJSON = "application/geo+json"


class GeoJSONResponse(JSONResponse):
    """JSON with the GeoJSON media type (RFC 7946), so GIS tools recognise it."""

    media_type = GEOJSON


def document(content: bytes | str, media_type: str, filename: str) -> Response:
    """A private document the browser shows (PDF, HTML)."""
    return Response(
        content=content,
        media_type=media_type,
        headers={**PRIVATE, "Content-Disposition": f'inline; filename="{filename}"'},
    )


def download(content: bytes | str, media_type: str, filename: str) -> Response:
    """A private file the browser saves (CSV, XLSX)."""
    return Response(
        content=content,
        media_type=media_type,
        headers={**PRIVATE, "Content-Disposition": f'attachment; filename="{filename}"'},
    )
