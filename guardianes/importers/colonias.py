"""Colonias (neighbourhoods): from a colonias file, or derived from garbage-route names.

Chihuahua publishes no colonia boundaries. Its garbage-route KML names each route area as
`ROUTE, COLONIA-COLONIA Y COLONIA, OPERATOR` (e.g. `A-M184, CUMBRES UNIVERSIDAD, JESUS DE
LA CASAS CADENA`), and one placemark lists routes and colonias in its description. We take
the colonia names from there. An area that names exactly one colonia (not "PARTE DE …")
also lends its polygon to that colonia (several such areas are merged), so `colonia_at`
answers there; colonias only ever named together with others have no geometry.

Cities that publish colonias use a colonias file instead: a map of polygons (or points)
named by colonia in any format `maps.py` reads (KML, KMZ, GeoJSON such as Mexico City's
`nom_asen`, Shapefile), or a CSV `name[,lat,lon]` (`nombre`/`colonia` also accepted).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from guardianes.domain.coordinates import in_range, number_pair
from guardianes.geo.normalize import display_name, normalize_name
from guardianes.importers.files import read_bytes, read_csv
from guardianes.importers.kml import KmlDocument, KmlPlacemark
from guardianes.importers.maps import (
    CSV,
    LAT_FIELDS,
    LON_FIELDS,
    NAME_FIELDS,
    FieldChoice,
    detect_format,
    parse_map_bytes,
    pick_field,
)
from guardianes.importers.report import ImportFileError, Problem

_ROUTE_SEGMENT = re.compile(r"^[A-Z]{1,4}-[A-Z]{0,2}\d+")
_PART_OF = re.compile(r"^(PARTE|PARTA)\s+(DE|DEL)\s+", re.IGNORECASE)
_PREFIX = re.compile(r"^(COL\.?|COLONIA|FRACC\.?|FRACCIONAMIENTO)\s+(?!Y\s)", re.IGNORECASE)
_ONLY_NUMERALS = re.compile(r"^((I{1,3}|IV|VI{0,3}|IX|X|\d+)[\s,]*)+$")
# Words in route names that are not colonias: "SE" (sin especificar), parts, zones.
_NOT_COLONIAS = {"SE", "CRECIMIENTO DE LA CIUDAD", "AREA CERRIL", "PARTE", "COLONIA"}
# Colonias whose own name contains " Y ", so the list splitter must not cut them.
_KEEP_WHOLE = {"TIERRA Y LIBERTAD"}
_PART_NUMBER = re.compile(r"^PARTE\s+\d+$")


@dataclass(frozen=True, slots=True)
class ColoniaRecord:
    """A colonia to create or update; geometry None when only the name is known."""

    name: str
    normalized_name: str
    geometry: BaseGeometry | None
    source: str  # where it was found, for problem messages


@dataclass(frozen=True, slots=True)
class ColoniasFile:
    """Colonias read from a file, and problems found there."""

    path: Path
    records: tuple[ColoniaRecord, ...]
    problems: tuple[Problem, ...]


def split_colonias(text: str) -> list[str]:
    """Colonia names in a route's list: split on '-', ',' and ' Y ' (not 'I Y II')."""
    names: list[str] = []
    for raw in re.split(r"\s*[-,]\s*", text):
        piece = _PREFIX.sub("", raw.strip().lstrip("-").strip())
        if not piece:
            continue
        parts = re.split(r"\s+Y\s+", piece)
        # "VILLAS DEL REY I Y II" is one colonia with stages; "SAN RAFAEL Y SAN FERNANDO" two.
        if normalize_name(piece) in _KEEP_WHOLE or (
            len(parts) > 1 and all(_ONLY_NUMERALS.match(p) for p in parts[1:])
        ):
            parts = [piece]
        for part in parts:
            name = _PREFIX.sub("", part.strip())
            # A bare stage number ("GIRASOLES II-III-IV") is not a colonia of its own.
            if name and not _ONLY_NUMERALS.match(name):
                names.append(name)
    return names


def route_colonias(placemark: KmlPlacemark) -> tuple[list[str], bool]:
    """Colonia names listed by a route placemark, and whether it names a whole single one."""
    listed = [
        line.lstrip("-").strip()
        for line in placemark.description.splitlines()
        if line.strip().startswith("-")
    ]
    if listed:  # "RUTA-204\n-RINCONADA ORIENTE, I, II Y III\n-PRADO NORTE ..."
        names = [n for line in listed for n in _colonia_names(line, route_list=True)]
        return names, False
    segments = [s.strip() for s in placemark.name.split(",") if s.strip()]
    if not segments or not _ROUTE_SEGMENT.match(segments[0]):
        return [], False  # not a route area name ("Marca de posición sin título", no name)
    segments = [s for s in segments if not _ROUTE_SEGMENT.match(s)]
    if len(segments) >= 2:  # the last segment is the operator company
        segments = segments[:-1]
    elif segments and ". " in segments[0]:  # "…Y TORRES DEL REY. LIFER DEL NORTE"
        segments = [segments[0].split(". ")[0]]
    partial = any(_PART_OF.match(s) for s in segments)
    names = [n for s in segments for n in _colonia_names(s, route_list=False)]
    return names, len(names) == 1 and not partial


def _colonia_names(text: str, *, route_list: bool) -> list[str]:
    text = _PART_OF.sub("", text.strip())
    if route_list:
        # Lines of a route list keep their commas as stage lists: "RINCONADA ORIENTE, I, II".
        text = re.sub(r",\s*(?=(I{1,3}|IV|VI{0,3}|IX|X)\b)", " ", text)
    names = []
    for name in split_colonias(text):
        key = normalize_name(_PART_OF.sub("", name))
        if not key or key in _NOT_COLONIAS or _PART_NUMBER.match(key) or key.isdigit():
            continue
        names.append(_PART_OF.sub("", name))
    return names


def colonias_from_routes(document: KmlDocument) -> ColoniasFile:
    """Colonias named by the route areas of a garbage-collection KML."""
    names: dict[str, str] = {}
    shapes: dict[str, list[BaseGeometry]] = {}
    for placemark in document.placemarks:
        if placemark.geometry_type != "polygon":
            continue  # points are temporary sites, not areas
        found, whole_single = route_colonias(placemark)
        for name in found:
            key = normalize_name(name)
            names.setdefault(key, display_name(name))
            if whole_single:
                shapes.setdefault(key, []).append(placemark.geometry)
    records = [
        ColoniaRecord(
            name=names[key],
            normalized_name=key,
            geometry=_merge(shapes[key]) if key in shapes else None,
            source=document.path.name,
        )
        for key in sorted(names)
    ]
    return ColoniasFile(document.path, tuple(records), ())


def parse_colonias_file(path: Path, *, fields: FieldChoice | None = None) -> ColoniasFile:
    """Colonias from a map (KML, KMZ, GeoJSON, Shapefile; features named by colonia) or a CSV
    `name[,lat,lon]`. The format is read from the content, not the extension."""
    data = read_bytes(path)
    if detect_format(data, path) == CSV:
        return _from_csv(path, fields or FieldChoice())
    return _from_kml(parse_map_bytes(data, path, fields=fields))


def _from_kml(document: KmlDocument) -> ColoniasFile:
    shapes: dict[str, list[BaseGeometry]] = {}
    names: dict[str, str] = {}
    problems = list(document.problems)
    for placemark in document.placemarks:
        key = normalize_name(placemark.name)
        if not key:
            problems.append(Problem(document.path.name, f"placemark {placemark.index}", "no name"))
            continue
        names.setdefault(key, display_name(placemark.name))
        shapes.setdefault(key, []).append(placemark.geometry)
    records = [
        ColoniaRecord(names[key], key, _merge(shapes[key]), document.path.name)
        for key in sorted(names)
    ]
    return ColoniasFile(document.path, tuple(records), tuple(problems))


# Columns that mark a CSV as another import's file: taking it as colonias would invent junk.
_OTHER_KINDS: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"file", "service"}), "a layers.csv (import layers)"),
    (frozenset({"service", "count"}), "a complaints CSV (import complaints)"),
    (frozenset({"service", "status"}), "a status CSV (import status)"),
    (frozenset({"número_contrato"}), "a contracts CSV (import contracts)"),
    (frozenset({"numero_contrato"}), "a contracts CSV (import contracts)"),
)


def _from_csv(path: Path, fields: FieldChoice) -> ColoniasFile:
    table = read_csv(path)
    lowered = {h.lower() for h in table.header}
    for columns, what in _OTHER_KINDS:
        if columns <= lowered:
            raise ImportFileError(path, f"is {what}, not colonias; expected name[,lat,lon]")
    name_column = pick_field(
        table.header, fields.name_field, ("colonia", *NAME_FIELDS), "name", path
    )
    if name_column is None:
        raise ImportFileError(
            path,
            "missing column 'name' (or 'nombre', 'colonia'); expected name[,lat,lon], found "
            + (", ".join(table.header) or "none"),
        )
    lat_column = pick_field(table.header, None, LAT_FIELDS, "latitude", path)
    lon_column = pick_field(table.header, None, LON_FIELDS, "longitude", path)
    if (lat_column is None) != (lon_column is None):
        raise ImportFileError(path, "has a latitude or a longitude column but not both")
    records: dict[str, ColoniaRecord] = {}
    problems: list[Problem] = []
    for row in table.rows:
        where = f"line {row.line}"
        name = " ".join(row.values[name_column].split())
        key = normalize_name(name)
        if not key:
            problems.append(Problem(path.name, where, "empty name"))
            continue
        geometry: BaseGeometry | None = None
        lat_text = row.values.get(lat_column or "", "").strip()
        lon_text = row.values.get(lon_column or "", "").strip()
        if lat_text or lon_text:
            try:
                lat, lon = number_pair(lat_text, lon_text)
            except ValueError as exc:
                problems.append(Problem(path.name, where, str(exc)))
                continue
            if not in_range(lat, lon):
                problems.append(Problem(path.name, where, f"coordinates out of range {lat}, {lon}"))
                continue
            geometry = Point(lon, lat)
        if key in records:
            problems.append(Problem(path.name, where, f"colonia '{name}' repeated"))
            continue
        records[key] = ColoniaRecord(display_name(name), key, geometry, path.name)
    return ColoniasFile(path, tuple(records.values()), tuple(problems))


def _merge(shapes: list[BaseGeometry]) -> BaseGeometry:
    if len(shapes) == 1:
        return shapes[0]
    merged = unary_union(shapes)
    if isinstance(merged, Polygon | MultiPolygon):
        return merged
    return merged.convex_hull if not merged.is_empty else shapes[0]
