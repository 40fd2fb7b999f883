"""A small map of a public space drawn from its own geometry: no tile server, no network.

The GeoJSON is projected to a square box (longitude scaled by the cosine of the latitude,
so shapes keep their proportions at the city's latitude), with the evidence locations as
dots. The same projected shape is drawn as inline SVG in the HTML report and as vector
polygons in the PDF.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

Point = tuple[float, float]
MARGIN = 0.08  # share of the box left empty around the shape
MIN_SPAN_DEGREES = 0.0005  # about 50 m: a point or a tiny plot still gets a readable box


@dataclass(frozen=True, slots=True)
class MiniMap:
    """Shapes and points in box units (0..1, y grows downwards), and the box's size in metres."""

    rings: tuple[tuple[Point, ...], ...]
    lines: tuple[tuple[Point, ...], ...]
    points: tuple[Point, ...]
    markers: tuple[Point, ...]  # evidence locations
    width_m: float


def _parts(geometry: BaseGeometry) -> Iterable[BaseGeometry]:
    if hasattr(geometry, "geoms"):
        for part in geometry.geoms:
            yield from _parts(part)
    else:
        yield geometry


def build_minimap(geojson: dict[str, Any], markers: Sequence[Point] = ()) -> MiniMap | None:
    """The space's shape and the (lat, lon) markers in one box; None for unusable geometry."""
    try:
        geometry = shape(geojson)
    except (ValueError, TypeError, AttributeError, KeyError):
        return None
    if geometry.is_empty:
        return None
    min_x, min_y, max_x, max_y = geometry.bounds
    for lat, lon in markers:
        min_x, max_x = min(min_x, lon), max(max_x, lon)
        min_y, max_y = min(min_y, lat), max(max_y, lat)
    centre_lat = (min_y + max_y) / 2
    scale_x = math.cos(math.radians(centre_lat))
    span = max((max_x - min_x) * scale_x, max_y - min_y, MIN_SPAN_DEGREES)
    centre_x, centre_y = (min_x + max_x) / 2, (min_y + max_y) / 2
    inner = 1 - 2 * MARGIN

    def project(lon: float, lat: float) -> Point:
        x = 0.5 + (lon - centre_x) * scale_x / span * inner
        y = 0.5 - (lat - centre_y) / span * inner
        return (round(x, 5), round(y, 5))

    rings: list[tuple[Point, ...]] = []
    lines: list[tuple[Point, ...]] = []
    points: list[Point] = []
    for part in _parts(geometry):
        kind = part.geom_type
        if kind == "Polygon":
            for ring in (part.exterior, *part.interiors):
                rings.append(tuple(project(x, y) for x, y, *_ in ring.coords))
        elif kind in ("LineString", "LinearRing"):
            lines.append(tuple(project(x, y) for x, y, *_ in part.coords))
        elif kind == "Point":
            points.append(project(part.x, part.y))
    metres_per_degree = 111_320.0
    return MiniMap(
        rings=tuple(rings),
        lines=tuple(lines),
        points=tuple(points),
        markers=tuple(project(lon, lat) for lat, lon in markers),
        width_m=span / inner * metres_per_degree,
    )


def to_svg(minimap: MiniMap, size: int = 220) -> str:
    """The map as an inline SVG element of `size` pixels."""

    def path(points: Sequence[Point], close: bool) -> str:
        body = " ".join(f"{x * size:.1f},{y * size:.1f}" for x, y in points)
        return f"M{body}{' Z' if close else ''}"

    shapes = [
        f'<path d="{path(ring, True)}" fill="#9ccc9c" fill-opacity="0.6" '
        'stroke="#2e7d32" stroke-width="1.5" fill-rule="evenodd"/>'
        for ring in minimap.rings
    ]
    shapes += [
        f'<path d="{path(line, False)}" fill="none" stroke="#2e7d32" stroke-width="2"/>'
        for line in minimap.lines
    ]
    shapes += [
        f'<circle cx="{x * size:.1f}" cy="{y * size:.1f}" r="4" fill="#2e7d32"/>'
        for x, y in minimap.points
    ]
    shapes += [
        f'<circle cx="{x * size:.1f}" cy="{y * size:.1f}" r="4" fill="#c62828" '
        'stroke="#ffffff" stroke-width="1"/>'
        for x, y in minimap.markers
    ]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}" role="img">'
        f'<rect width="{size}" height="{size}" fill="#f5f5f0" stroke="#999"/>'
        + "".join(shapes)
        + "</svg>"
    )
