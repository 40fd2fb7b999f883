"""KML 2.2 parser: placemarks with polygons, multi-geometries and points, as shapely + GeoJSON.

Pure: no database. Accepts what Google My Maps and Google Earth export (namespaced or not,
placemarks in nested folders, CDATA/HTML descriptions, KMZ archives). A placemark that
cannot be used (no geometry, bad coordinates) becomes a `Problem` and is skipped; a file
that is not KML at all raises one `ImportFileError`.
"""

from __future__ import annotations

import html
import importlib
import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from xml.etree import ElementTree
from xml.etree.ElementTree import Element, ParseError

from shapely.geometry import (
    GeometryCollection,
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
    mapping,
)
from shapely.geometry.base import BaseGeometry
from shapely.validation import make_valid

from guardianes.domain.coordinates import in_range
from guardianes.geo.normalize import normalize_name
from guardianes.importers.files import describe_binary, read_bytes
from guardianes.importers.report import ImportFileError, Problem


def _safe_fromstring() -> Callable[[bytes], Element]:
    """defusedxml's parser (refuses entity-expansion bombs) when installed, else the stdlib's.

    defusedxml arrives through our pinned dependencies but is not pinned itself, and it has
    no type stubs; importing it by name keeps mypy strict without an ignore.
    """
    try:
        module = importlib.import_module("defusedxml.ElementTree")
    except ImportError:  # pragma: no cover - only if a dependency stops pulling it in
        return ElementTree.fromstring
    return cast(Callable[[bytes], Element], module.fromstring)


_xml_fromstring = _safe_fromstring()

GeoJson = dict[str, Any]

_CONTAINERS = {"Document", "Folder"}
_GEOMETRIES = {"Point", "LineString", "LinearRing", "Polygon", "MultiGeometry"}
_BR = re.compile(r"<\s*br\s*/?\s*>|</\s*(p|div|li|tr)\s*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
# Codes published in descriptions: AC-Z13-0001 (green spaces), RUTA-204 (garbage routes).
_DESCRIPTION_CODE = re.compile(r"(?<![\w-])([A-Z]{2,6}(?:-[A-Z0-9]{1,6})+)(?![\w-])")
# Route codes that lead placemark names: "A-L128, ...", "R-229-A, ...", "R-78(2), ...".
_NAME_CODE = re.compile(r"^\s*([A-Z]{1,4}-[A-Z]{0,2}\d+(?:-[A-Z])?(?:\(\d+\))?)(?=[\s,.]|$)")
_MIN_RING_POINTS = 3
# A placemark with a name and no coordinates at all holds nothing to import (the real
# Chihuahua route file has one); it is reported without stopping the import.
_NO_COORDINATES = "no coordinates"
_EMPTY_REASONS = {_NO_COORDINATES, "empty geometry"}
_MAX_KEY_BASE = 280  # the key column holds 300 characters; "#n" needs a few more


@dataclass(frozen=True, slots=True)
class BBox:
    """A WGS84 bounding box."""

    min_lat: float
    min_lon: float
    max_lat: float
    max_lon: float


@dataclass(frozen=True, slots=True)
class KmlPlacemark:
    """One usable placemark: its texts, the code found in them, and its geometry."""

    index: int  # 1-based position among all placemarks of the file
    key: str  # stable identity inside the file, for idempotent re-imports
    name: str
    description: str  # plain text: HTML removed, <br> turned into new lines
    code: str | None
    folders: tuple[str, ...]
    geometry: BaseGeometry
    geometry_type: str  # "polygon" | "point" | "line" | "mixed"
    geojson: GeoJson
    centroid_lat: float
    centroid_lon: float
    bbox: BBox


@dataclass(frozen=True, slots=True)
class KmlDocument:
    """A parsed KML file: its own document name, good placemarks and problems."""

    path: Path
    document_name: str | None
    placemarks: tuple[KmlPlacemark, ...]
    problems: tuple[Problem, ...]

    @property
    def placemark_count(self) -> int:
        """Placemarks in the file, usable or not."""
        return len(self.placemarks) + len(self.problems)


RawPlacemark = tuple[int, str, str, str | None, tuple[str, ...], BaseGeometry]
"""(index, name, description, code, folders, geometry) of a usable feature, any format."""


class _BadPlacemark(Exception):
    """A placemark that cannot be used; the message is the reason."""


def parse_kml(path: Path) -> KmlDocument:
    """Parse a .kml (or .kmz) file; raises ImportFileError when it is not KML at all."""
    return parse_kml_bytes(read_bytes(path), path)


def parse_kml_bytes(data: bytes, path: Path) -> KmlDocument:
    """Parse KML from bytes; `path` names the source in errors and problems."""
    root = _parse_root(_unzip_kmz(data, path), path)
    document_name: str | None = None
    for child in root:
        if _local(child.tag) in _CONTAINERS:
            document_name = _text(child, "name") or None
            break
    problems: list[Problem] = []
    usable: list[RawPlacemark] = []
    for index, (element, folders) in enumerate(_walk(root, ()), start=1):
        name = _text(element, "name")
        description = clean_description(_child_text(element, "description"))
        label = f"placemark {index}" + (f" '{name}'" if name else "")
        try:
            geometry = _placemark_geometry(element)
        except _BadPlacemark as exc:
            empty = str(exc) in _EMPTY_REASONS
            problems.append(Problem(path.name, label, str(exc), blocking=not empty))
            continue
        code = extract_code(description) or extract_name_code(name)
        usable.append(
            (index, name or code or f"Placemark {index}", description, code, folders, geometry)
        )
    return KmlDocument(path, document_name, placemarks_from(usable), tuple(problems))


def placemarks_from(usable: list[RawPlacemark]) -> tuple[KmlPlacemark, ...]:
    """Placemarks with stable keys from the usable features of one file (KML or other)."""
    keys = _placemark_keys([(code, name) for _, name, _, code, _, _ in usable])
    return tuple(
        _build(
            index=index,
            key=key,
            name=name,
            description=description,
            code=code,
            folders=folders,
            geometry=geometry,
        )
        for key, (index, name, description, code, folders, geometry) in zip(
            keys, usable, strict=True
        )
    )


def _placemark_keys(items: list[tuple[str | None, str]]) -> list[str]:
    """Stable identities: the code when unique in the file, else code + name, else "#n".

    Codes repeat inside one file (route A-L128 covers several colonias, R-200 has many "SE"
    areas); adding the name and, last, the n-th repetition keeps keys stable across
    re-imports as long as the publisher keeps names and order.
    """
    code_counts: dict[str, int] = {}
    for code, _ in items:
        if code:
            code_counts[code] = code_counts.get(code, 0) + 1
    seen: dict[str, int] = {}
    keys: list[str] = []
    for code, name in items:
        if code and code_counts[code] == 1:
            base = code
        elif code:
            base = f"{code}|{normalize_name(name)}"
        else:
            base = normalize_name(name) or "placemark"
        base = base[:_MAX_KEY_BASE]
        seen[base] = seen.get(base, 0) + 1
        keys.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    return keys


def clean_description(raw: str | None) -> str:
    """Plain text from a KML description: <br> as new lines, tags removed, entities decoded."""
    if not raw:
        return ""
    text = html.unescape(_TAG.sub("", _BR.sub("\n", raw)))
    lines = [line.strip() for line in text.replace("\r", "\n").split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def extract_code(description: str) -> str | None:
    """The first code like AC-Z13-0001 or RUTA-204 in a description."""
    match = _DESCRIPTION_CODE.search(description)
    return match.group(1) if match else None


def extract_name_code(name: str) -> str | None:
    """A route code leading a placemark name, like 'A-L128' in 'A-L128, ALDABAS, ...'."""
    match = _NAME_CODE.match(name)
    return match.group(1) if match else None


def geometry_to_geojson(geometry: BaseGeometry) -> GeoJson:
    """GeoJSON with lists (not tuples) so it round-trips through JSON columns unchanged."""
    result: GeoJson = json.loads(json.dumps(mapping(geometry)))
    return result


# ---------------------------------------------------------------- XML walking


def _unzip_kmz(data: bytes, path: Path) -> bytes:
    if not data.startswith(b"PK\x03\x04"):
        return data
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".kml")]
            if not names:
                raise ImportFileError(path, "is a ZIP archive without a .kml file inside")
            # doc.kml is the KMZ convention; otherwise the first KML in the archive.
            chosen = "doc.kml" if "doc.kml" in names else names[0]
            return archive.read(chosen)
    except zipfile.BadZipFile:
        raise ImportFileError(path, "is a damaged ZIP/KMZ archive") from None


def _parse_root(data: bytes, path: Path) -> Element:
    what = describe_binary(data[:4096])
    if what is not None:
        raise ImportFileError(path, f"is not a KML file: it is {what}")
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<"):
        raise ImportFileError(path, "is not a KML file (it does not contain XML)")
    try:
        root: Element = _xml_fromstring(data)
    except ParseError as exc:
        raise ImportFileError(path, f"is not well-formed XML ({exc})") from None
    except Exception as exc:  # defusedxml raises its own classes for forbidden constructs
        raise ImportFileError(path, f"was refused by the XML parser ({exc})") from None
    if _local(root.tag) != "kml":
        raise ImportFileError(
            path, f"is XML but not KML (root element <{_local(root.tag)}>, expected <kml>)"
        )
    return root


def _local(tag: str) -> str:
    """Tag name without its namespace: KML 2.0, 2.1, 2.2 and no namespace all match."""
    return tag.rsplit("}", 1)[-1]


def _child(element: Element, name: str) -> Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _child_text(element: Element, name: str) -> str | None:
    child = _child(element, name)
    return child.text if child is not None else None


def _text(element: Element, name: str) -> str:
    return " ".join((_child_text(element, name) or "").split())


def _walk(element: Element, folders: tuple[str, ...]) -> list[tuple[Element, tuple[str, ...]]]:
    found: list[tuple[Element, tuple[str, ...]]] = []
    for child in element:
        tag = _local(child.tag)
        if tag == "Placemark":
            found.append((child, folders))
        elif tag in _CONTAINERS:
            folder = _text(child, "name")
            inner = (*folders, folder) if tag == "Folder" and folder else folders
            found.extend(_walk(child, inner))
    return found


# ---------------------------------------------------------------- geometry


def _placemark_geometry(element: Element) -> BaseGeometry:
    nodes = [child for child in element if _local(child.tag) in _GEOMETRIES]
    if not nodes:
        raise _BadPlacemark("no geometry (expected Polygon, MultiGeometry, Point or LineString)")
    parts: list[BaseGeometry] = []
    for node in nodes:
        parts.extend(_geometry_parts(node))
    if not parts:
        raise _BadPlacemark("empty geometry")
    return _combine(parts)


def _geometry_parts(node: Element) -> list[BaseGeometry]:
    tag = _local(node.tag)
    if tag == "MultiGeometry":
        parts: list[BaseGeometry] = []
        for child in node:
            if _local(child.tag) in _GEOMETRIES:
                parts.extend(_geometry_parts(child))
        return parts
    if tag == "Point":
        coords = _coordinates(node)
        if len(coords) != 1:
            raise _BadPlacemark(f"a Point needs exactly one coordinate, found {len(coords)}")
        return [Point(coords[0])]
    if tag == "LineString":
        coords = _coordinates(node)
        if len(coords) < 2:
            raise _BadPlacemark("a LineString needs at least two coordinates")
        return [LineString(coords)]
    if tag == "LinearRing":
        return [_polygon(_ring(node, "LinearRing"), [])]
    return [_polygon_from(node)]


def _polygon_from(node: Element) -> BaseGeometry:
    outer = _child(node, "outerBoundaryIs")
    ring = _child(outer, "LinearRing") if outer is not None else None
    if ring is None:
        raise _BadPlacemark("Polygon without an outer boundary")
    holes: list[list[tuple[float, float]]] = []
    for inner in node:
        if _local(inner.tag) == "innerBoundaryIs":
            for inner_ring in inner:
                if _local(inner_ring.tag) == "LinearRing":
                    holes.append(_ring(inner_ring, "inner boundary"))
    return _polygon(_ring(ring, "outer boundary"), holes)


def _ring(node: Element, what: str) -> list[tuple[float, float]]:
    coords = _coordinates(node)
    distinct = set(coords)
    if len(distinct) < _MIN_RING_POINTS:
        raise _BadPlacemark(f"{what} has {len(distinct)} distinct point(s); a ring needs 3")
    if coords[0] != coords[-1]:
        coords.append(coords[0])  # KML requires closed rings; exporters sometimes forget
    return coords


def _polygon(
    shell: list[tuple[float, float]], holes: list[list[tuple[float, float]]]
) -> BaseGeometry:
    polygon = Polygon(shell, holes)
    if polygon.is_valid:
        return polygon
    # Hand-drawn polygons often touch themselves; make_valid keeps their area.
    repaired = make_valid(polygon)
    areas = [g for g in _flatten(repaired) if isinstance(g, Polygon) and not g.is_empty]
    if not areas:
        raise _BadPlacemark("polygon has no area (all its points are on a line)")
    return areas[0] if len(areas) == 1 else MultiPolygon(areas)


def _coordinates(node: Element) -> list[tuple[float, float]]:
    holder = node if _local(node.tag) == "coordinates" else None
    if holder is None:
        for element in node.iter():
            if _local(element.tag) == "coordinates":
                holder = element
                break
    if holder is None or not (holder.text or "").strip():
        raise _BadPlacemark(_NO_COORDINATES)
    coords: list[tuple[float, float]] = []
    for token in (holder.text or "").split():
        fields = token.split(",")
        try:
            lon, lat = float(fields[0]), float(fields[1])
        except (ValueError, IndexError):
            raise _BadPlacemark(f"bad coordinate '{token[:40]}' (expected lon,lat[,alt])") from None
        if not in_range(lat, lon):
            raise _BadPlacemark(f"coordinate out of range '{token[:40]}' (lon,lat order?)")
        coords.append((lon, lat))
    return coords


def _flatten(geometry: BaseGeometry) -> list[BaseGeometry]:
    if hasattr(geometry, "geoms"):
        out: list[BaseGeometry] = []
        for part in geometry.geoms:
            out.extend(_flatten(part))
        return out
    return [geometry]


def _combine(parts: list[BaseGeometry]) -> BaseGeometry:
    flat = [p for part in parts for p in _flatten(part)]
    if len(flat) == 1:
        return flat[0]
    if all(isinstance(p, Polygon) for p in flat):
        return MultiPolygon(flat)
    if all(isinstance(p, Point) for p in flat):
        return MultiPoint(flat)
    if all(isinstance(p, LineString) for p in flat):
        return MultiLineString(flat)
    return GeometryCollection(flat)


def geometry_type(geometry: BaseGeometry) -> str:
    """Coarse geometry family: polygon, point, line or mixed."""
    if isinstance(geometry, Polygon | MultiPolygon):
        return "polygon"
    if isinstance(geometry, Point | MultiPoint):
        return "point"
    if isinstance(geometry, LineString | MultiLineString):
        return "line"
    return "mixed"


def _build(
    *,
    index: int,
    key: str,
    name: str,
    description: str,
    code: str | None,
    folders: tuple[str, ...],
    geometry: BaseGeometry,
) -> KmlPlacemark:
    centroid = geometry.centroid
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    return KmlPlacemark(
        index=index,
        key=key,
        name=name,
        description=description,
        code=code,
        folders=folders,
        geometry=geometry,
        geometry_type=geometry_type(geometry),
        geojson=geometry_to_geojson(geometry),
        centroid_lat=float(centroid.y),
        centroid_lon=float(centroid.x),
        bbox=BBox(float(min_lat), float(min_lon), float(max_lat), float(max_lon)),
    )
