"""Front-end libraries the app serves itself, from Python packages that vendor them (no CDN)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from xstatic.pkg import leaflet

LEAFLET_URL = "/static/leaflet"


def mount_vendor_assets(app: FastAPI) -> None:
    """Leaflet (xstatic-leaflet) at /static/leaflet: leaflet.js, leaflet.css, images/."""
    app.mount(LEAFLET_URL, StaticFiles(directory=leaflet.BASE_DIR), name="leaflet")
