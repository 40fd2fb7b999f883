"""Maps in every common format: KML, KMZ, GeoJSON, Shapefile (zipped or with siblings), CSV.

The format is read from the content, never from the extension: a GeoJSON saved as `.kml`
is read as GeoJSON, and a file of the wrong kind (an OCDS package, a PDF, a CSV without
coordinates) is refused with what it is and what was expected. Every format ends as the
same `KmlDocument` of placemarks, so layers, colonias and the gazetteer do not care where
a map came from. Coordinates end in WGS84 longitude/latitude: a Shapefile with a `.prj`
(or a GeoJSON with a named `crs`) in a projected system is reprojected with pyproj.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shapefile  # pyshp
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import make_valid

from guardianes.domain.coordinates import LATITUDE_LIMIT, LONGITUDE_LIMIT, number_pair
from guardianes.importers.files import describe_binary, read_bytes, read_csv
from guardianes.importers.kml import (
    KmlDocument,
    RawPlacemark,
    parse_kml_bytes,
    placemarks_from,
)
from guardianes.importers.report import ImportFileError, Problem

if TYPE_CHECKING:
    # pyproj (~11 MiB) loads when a map names a coordinate system, not with the app.
    from pyproj import CRS, Transformer

KML, KMZ, GEOJSON, SHAPEFILE, SHAPEFILE_ZIP, CSV = (
    "KML",
    "KMZ",
    "GeoJSON",
    "Shapefile",
    "zipped Shapefile",
    "CSV",
)
EXPECTED = "a map: KML, KMZ, GeoJSON, a Shapefile (.zip, or .shp beside its .shx/.dbf) or CSV"
# Property names publishers use for a feature's name and code, tried in this order.
NAME_FIELDS = (
    "name",
    "nombre",
    "nom_asen",
    "nom_col",
    "colonia",
    "nomasen",
    "nom_colonia",
    "title",
    "titulo",
    "descripcion",
)
CODE_FIELDS = ("code", "codigo", "clave", "cve", "cve_col", "cvegeo", "cve_asen", "id", "folio")
LAT_FIELDS = ("lat", "latitude", "latitud", "y")
LON_FIELDS = ("lon", "lng", "long", "longitude", "longitud", "x")
_SHP_MAGIC = b"\x00\x00\x27\x0a"  # file code 9994, big-endian, opens every .shp
_GEOJSON_TYPES = {"FeatureCollection", "Feature"}
_GEOMETRY_TYPES = {
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
}


@dataclass(frozen=True, slots=True)
class FieldChoice:
    """Which properties name a feature and give its code (None: guessed)."""

    name_field: str | None = None
    code_field: str | None = None


def detect_format(data: bytes, path: Path) -> str:
    """The map format of these bytes, or ImportFileError saying what they are instead."""
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data, path)
    if data.startswith(_SHP_MAGIC):
        return SHAPEFILE
    what = describe_binary(data[:4096])
    if what is not None:
        raise ImportFileError(path, f"is {what}, not {EXPECTED}")
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return KML
    if head.startswith((b"{", b"[")):
        return GEOJSON
    if not head:
        raise ImportFileError(path, f"is empty; expected {EXPECTED}")
    return CSV


def _zip_kind(data: bytes, path: Path) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [n.lower() for n in archive.namelist()]
    except zipfile.BadZipFile:
        raise ImportFileError(path, "is a damaged ZIP archive") from None
    if any(n.endswith(".kml") for n in names):
        return KMZ
    if any(n.endswith(".shp") for n in names):
        return SHAPEFILE_ZIP
    if any(n.startswith("xl/") for n in names):
        raise ImportFileError(path, f"is an Excel workbook (XLSX), not {EXPECTED}")
    shown = ", ".join(names[:5]) or "nothing"
    raise ImportFileError(path, f"is a ZIP archive holding {shown}; expected {EXPECTED}")


def parse_map(path: Path, *, fields: FieldChoice | None = None) -> KmlDocument:
    """Read a map file of any supported format into placemarks and problems."""
    data = read_bytes(path)
    return parse_map_bytes(data, path, fields=fields)


def parse_map_bytes(data: bytes, path: Path, *, fields: FieldChoice | None = None) -> KmlDocument:
    """Like `parse_map`, from bytes already read (a .shp still reads its siblings)."""
    fields = fields or FieldChoice()
    kind = detect_format(data, path)
    if kind in (KML, KMZ):
        return parse_kml_bytes(data, path)
    if kind == GEOJSON:
        return parse_geojson(data, path, fields)
    if kind == SHAPEFILE:
        return parse_shapefile(_shapefile_siblings(path, data), path, fields)
    if kind == SHAPEFILE_ZIP:
        return parse_shapefile(_shapefile_from_zip(data, path), path, fields)
    return parse_points_csv(path, fields)


# ---------------------------------------------------------------- properties


def pick_field(
    properties: Sequence[str], wanted: str | None, candidates: Iterable[str], what: str, path: Path
) -> str | None:
    """The property to read: the one asked for (it must exist) or the first common name."""
    lowered = {p.lower(): p for p in properties}
    if wanted is not None:
        if wanted in properties:
            return wanted
        if wanted.lower() in lowered:
            return lowered[wanted.lower()]
        shown = ", ".join(properties) or "none"
        raise ImportFileError(path, f"has no property '{wanted}' for the {what}; it has {shown}")
    return next((lowered[c] for c in candidates if c in lowered), None)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def _usable(
    index: int,
    name: str,
    properties: dict[str, Any],
    geometry: BaseGeometry,
    *,
    fields: tuple[str | None, str | None],
    fallback: str,
) -> RawPlacemark:
    """A feature with a geometry, named by its name, else its code, else `fallback`."""
    name_field, code_field = fields
    code = _text(properties.get(code_field)) if code_field else ""
    description = _description(properties, {name_field})
    return (index, name or code or fallback, description, code or None, (), geometry)


def _description(properties: dict[str, Any], skip: set[str | None]) -> str:
    # Everything the publisher attached stays readable for staff (postal code, keys, dates).
    lines = [f"{k}: {_text(v)}" for k, v in properties.items() if k not in skip and _text(v)]
    return "\n".join(lines)


# ---------------------------------------------------------------- geometry checks


def _checked(geometry: BaseGeometry) -> BaseGeometry:
    """A usable WGS84 geometry, or ValueError with the reason."""
    if geometry.is_empty:
        raise ValueError("empty geometry")
    min_x, min_y, max_x, max_y = geometry.bounds
    values = (min_x, min_y, max_x, max_y)
    if not all(math.isfinite(v) for v in values):
        raise ValueError("coordinates are not numbers")
    if not (
        -LONGITUDE_LIMIT <= min_x <= max_x <= LONGITUDE_LIMIT
        and -LATITUDE_LIMIT <= min_y <= max_y <= LATITUDE_LIMIT
    ):
        raise ValueError(
            f"coordinates out of range ({min_x:.6g}, {min_y:.6g}): projected coordinates need "
            "their coordinate system (.prj or crs) to be reprojected to longitude/latitude"
        )
    if isinstance(geometry, Polygon | MultiPolygon) and not geometry.is_valid:
        repaired = make_valid(geometry)
        areas = [g for g in getattr(repaired, "geoms", [repaired]) if isinstance(g, Polygon)]
        if not areas:
            raise ValueError("polygon has no area")
        geometry = areas[0] if len(areas) == 1 else MultiPolygon(areas)
    return geometry


@cache
def _wgs84() -> CRS:
    from pyproj import CRS

    return CRS.from_epsg(4326)


def _transformer(crs: CRS | None) -> Transformer | None:
    if crs is None or crs.equals(_wgs84(), ignore_axis_order=True):
        return None
    if crs.is_geographic and crs.ellipsoid is not None and crs.ellipsoid.name.startswith("WGS"):
        return None  # CRS84, WGS84 lon/lat: nothing to do
    from pyproj import Transformer

    return Transformer.from_crs(crs, _wgs84(), always_xy=True)


def _reproject(geometry: BaseGeometry, transformer: Transformer | None) -> BaseGeometry:
    if transformer is None:
        return geometry
    return shapely.transform(geometry, transformer.transform, interleaved=False)


# ---------------------------------------------------------------- GeoJSON


def parse_geojson(data: bytes, path: Path, fields: FieldChoice) -> KmlDocument:
    """A GeoJSON FeatureCollection, Feature or bare geometry."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ImportFileError(path, "is JSON-like but not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ImportFileError(path, f"is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(document, dict) or not (
        document.get("type") in _GEOJSON_TYPES or document.get("type") in _GEOMETRY_TYPES
    ):
        raise ImportFileError(path, f"is {_json_kind(document)}, not GeoJSON; expected {EXPECTED}")
    features: list[Any]
    if document["type"] == "FeatureCollection":
        features = document.get("features")  # type: ignore[assignment]
        if not isinstance(features, list):
            raise ImportFileError(path, "is a FeatureCollection without a 'features' list")
    elif document["type"] == "Feature":
        features = [document]
    else:
        features = [{"type": "Feature", "geometry": document, "properties": {}}]
    transformer = _transformer(_geojson_crs(document, path))
    names = sorted(
        {
            key
            for feature in features
            if isinstance(feature, dict) and isinstance(feature.get("properties"), dict)
            for key in feature["properties"]
        }
    )
    name_field = pick_field(names, fields.name_field, NAME_FIELDS, "name", path)
    code_field = pick_field(names, fields.code_field, CODE_FIELDS, "code", path)
    picked = (name_field, code_field)
    usable: list[RawPlacemark] = []
    problems: list[Problem] = []
    for index, feature in enumerate(features, start=1):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        properties = properties if isinstance(properties, dict) else {}
        name = _text(properties.get(name_field)) if name_field else ""
        label = f"feature {index}" + (f" '{name}'" if name else "")
        try:
            if not isinstance(feature, dict) or not isinstance(feature.get("geometry"), dict):
                raise ValueError("no geometry")
            geometry = _checked(_reproject(shape(feature["geometry"]), transformer))
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
            problems.append(Problem(path.name, label, str(exc) or "unreadable geometry"))
            continue
        usable.append(
            _usable(index, name, properties, geometry, fields=picked, fallback=f"Feature {index}")
        )
    title = document.get("name") if isinstance(document.get("name"), str) else None
    return KmlDocument(path, title, placemarks_from(usable), tuple(problems))


def _geojson_crs(document: dict[str, Any], path: Path) -> CRS | None:
    crs = document.get("crs")
    if not isinstance(crs, dict):
        return None  # RFC 7946: WGS84 longitude/latitude
    name = (
        crs.get("properties", {}).get("name") if isinstance(crs.get("properties"), dict) else None
    )
    if not isinstance(name, str):
        return None
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        return CRS.from_user_input(name)
    except CRSError:
        raise ImportFileError(path, f"names an unknown coordinate system '{name}'") from None


def _json_kind(document: Any) -> str:
    """What a JSON document that is not GeoJSON looks like, to say so in the refusal."""
    if isinstance(document, dict):
        if "releases" in document or "records" in document or "ocid" in document:
            return "OCDS contracting data (import it with `guardianes import ocds`)"
        if "type" in document:
            return f"JSON of type '{_text(document['type'])[:40]}'"
        keys = ", ".join(list(document)[:5])
        return f"a JSON object with keys {keys or 'none'}"
    if isinstance(document, list):
        return "a JSON list"
    return "a JSON value"


# ---------------------------------------------------------------- Shapefile


@dataclass(frozen=True, slots=True)
class _ShapefileParts:
    shp: bytes
    shx: bytes | None
    dbf: bytes | None
    prj: str | None
    cpg: str | None


def _shapefile_siblings(path: Path, shp: bytes) -> _ShapefileParts:
    def sibling(ext: str) -> bytes | None:
        for candidate in path.parent.glob(path.stem + ".*"):
            if candidate.suffix.lower() == ext and candidate.is_file():
                return candidate.read_bytes()
        return None

    dbf = sibling(".dbf")
    if dbf is None:
        raise ImportFileError(path, f"needs its {path.stem}.dbf beside it (names and codes)")
    prj, cpg = sibling(".prj"), sibling(".cpg")
    return _ShapefileParts(
        shp,
        sibling(".shx"),
        dbf,
        prj.decode("utf-8", "replace") if prj else None,
        cpg.decode("ascii", "replace").strip() if cpg else None,
    )


def _shapefile_from_zip(data: bytes, path: Path) -> _ShapefileParts:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {n.lower(): n for n in archive.namelist() if not n.endswith("/")}
        shps = [n for n in members if n.endswith(".shp") and "__macosx" not in n]
        if len(shps) > 1:
            raise ImportFileError(
                path, f"holds {len(shps)} Shapefiles ({', '.join(shps)}); zip one per file"
            )
        stem = shps[0][: -len(".shp")]

        def member(ext: str) -> bytes | None:
            name = members.get(stem + ext)
            return archive.read(name) if name else None

        dbf = member(".dbf")
        if dbf is None:
            raise ImportFileError(path, f"has {shps[0]} without its .dbf (names and codes)")
        prj, cpg = member(".prj"), member(".cpg")
        shp = member(".shp")
        assert shp is not None
        return _ShapefileParts(
            shp,
            member(".shx"),
            dbf,
            prj.decode("utf-8", "replace") if prj else None,
            cpg.decode("ascii", "replace").strip() if cpg else None,
        )


class _EncodingError(Exception):
    """The attributes are not in this encoding; the next one is tried."""


def _shapefile_crs(parts: _ShapefileParts, path: Path) -> CRS | None:
    if parts.prj is None:
        return None
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        return CRS.from_wkt(parts.prj)
    except CRSError:
        raise ImportFileError(path, "has a .prj this program cannot read") from None


def parse_shapefile(parts: _ShapefileParts, path: Path, fields: FieldChoice) -> KmlDocument:
    """Read shapes and attributes with pyshp; reproject to WGS84 when a .prj says so."""
    transformer = _transformer(_shapefile_crs(parts, path))
    # .cpg names the attribute encoding; without it UTF-8, else Latin-1 as older GIS wrote.
    encodings = [parts.cpg] if parts.cpg else ["utf-8", "latin-1"]
    last_error: Exception | None = None
    for encoding in encodings:
        try:
            return _read_shapes(parts, path, fields, transformer, encoding)
        except (_EncodingError, LookupError) as exc:
            last_error = exc
    raise ImportFileError(path, f"has attributes in an unknown encoding ({last_error})")


def _read_shapes(
    parts: _ShapefileParts,
    path: Path,
    fields: FieldChoice,
    transformer: Transformer | None,
    encoding: str,
) -> KmlDocument:
    try:
        reader = shapefile.Reader(
            shp=io.BytesIO(parts.shp),
            shx=io.BytesIO(parts.shx) if parts.shx else None,
            dbf=io.BytesIO(parts.dbf) if parts.dbf else None,
            encoding=encoding,
        )
    except shapefile.ShapefileException as exc:
        raise ImportFileError(path, f"is not a readable Shapefile ({exc})") from None
    with reader:
        names = [f[0] for f in reader.fields[1:]]
        name_field = pick_field(names, fields.name_field, NAME_FIELDS, "name", path)
        code_field = pick_field(names, fields.code_field, CODE_FIELDS, "code", path)
        picked = (name_field, code_field)
        usable: list[RawPlacemark] = []
        problems: list[Problem] = []
        try:
            pairs = list(reader.iterShapeRecords())
        except (shapefile.ShapefileException, ValueError, OSError) as exc:
            if "decode" in str(exc).lower():
                raise _EncodingError(encoding) from None
            raise ImportFileError(path, f"is a damaged Shapefile ({exc})") from None
        for index, pair in enumerate(pairs, start=1):
            properties = pair.record.as_dict()
            name = _text(properties.get(name_field)) if name_field else ""
            label = f"shape {index}" + (f" '{name}'" if name else "")
            try:
                if pair.shape.shapeType == shapefile.NULL:
                    raise ValueError("no geometry (null shape)")
                geometry = _checked(_reproject(shape(pair.shape.__geo_interface__), transformer))
            except (ValueError, TypeError, AttributeError, IndexError) as exc:
                problems.append(Problem(path.name, label, str(exc) or "unreadable geometry"))
                continue
            usable.append(
                _usable(index, name, properties, geometry, fields=picked, fallback=f"Shape {index}")
            )
    return KmlDocument(path, None, placemarks_from(usable), tuple(problems))


# ---------------------------------------------------------------- CSV of points


def parse_points_csv(path: Path, fields: FieldChoice) -> KmlDocument:
    """A CSV with a latitude and a longitude column per row, and a name column."""
    table = read_csv(path)
    lat_column = pick_field(table.header, None, LAT_FIELDS, "latitude", path)
    lon_column = pick_field(table.header, None, LON_FIELDS, "longitude", path)
    if lat_column is None or lon_column is None:
        shown = ", ".join(table.header) or "none"
        raise ImportFileError(
            path,
            f"is a CSV without latitude/longitude columns (found {shown}); expected {EXPECTED}, "
            "a CSV of points needs lat and lon",
        )
    name_field = pick_field(table.header, fields.name_field, NAME_FIELDS, "name", path)
    code_field = pick_field(table.header, fields.code_field, CODE_FIELDS, "code", path)
    usable: list[RawPlacemark] = []
    problems: list[Problem] = []
    for index, row in enumerate(table.rows, start=1):
        where = f"line {row.line}"
        name = _text(row.values.get(name_field or ""))
        lat_text, lon_text = row.values[lat_column].strip(), row.values[lon_column].strip()
        try:
            lat, lon = number_pair(lat_text, lon_text)
            geometry = _checked(Point(lon, lat))
        except ValueError as exc:
            reason = (
                str(exc) if "range" in str(exc) else f"bad coordinates '{lat_text}', '{lon_text}'"
            )
            problems.append(Problem(path.name, where, reason))
            continue
        code = _text(row.values.get(code_field or "")) if code_field else ""
        description = _description(row.values, {name_field, lat_column, lon_column})
        usable.append(
            (index, name or code or f"Point {index}", description, code or None, (), geometry)
        )
    return KmlDocument(path, None, placemarks_from(usable), tuple(problems))
