"""Parser for `layers.csv`: one row per map file with its service and who is responsible.

Columns: `file,service,year,contract,responsible,responsible_type,title[,name_field,code_field]`.
`file` is relative to the CSV's folder and may be any map format (KML, KMZ, GeoJSON,
Shapefile, CSV of points); `name_field`/`code_field` choose the properties of a GeoJSON,
Shapefile or CSV that name each space and give its code. `responsible_type` is `contractor`
or `municipality` (empty means municipality). Only `file` and `service` are required.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from guardianes.domain.enums import ResponsibleType
from guardianes.importers.files import read_csv
from guardianes.importers.maps import FieldChoice
from guardianes.importers.report import Problem

CONTRACTOR = ResponsibleType.CONTRACTOR
MUNICIPALITY = ResponsibleType.MUNICIPALITY
RESPONSIBLE_TYPES = tuple(ResponsibleType)
_SERVICE_CODE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
_MIN_YEAR, _MAX_YEAR = 1900, 2200

# Kind of public space by service and geometry; anything else is a generic "area"/"site".
_AREA_KIND = {"green_space_maintenance": "green_space", "garbage_collection": "route_area"}


@dataclass(frozen=True, slots=True)
class LayerSpec:
    """What one map file covers and who answers for it."""

    path: Path
    service: str
    year: int | None = None
    contract: str | None = None
    responsible: str | None = None
    responsible_type: str = MUNICIPALITY
    title: str | None = None
    line: int | None = None  # row in layers.csv, when it came from one
    name_field: str | None = None  # GeoJSON/Shapefile/CSV property naming each space
    code_field: str | None = None  # … and the one holding its code

    @property
    def fields(self) -> FieldChoice:
        """Which properties name the spaces and give their codes (None: guessed)."""
        return FieldChoice(self.name_field, self.code_field)

    @property
    def file_name(self) -> str:
        """The file's name: a layer's identity in the database."""
        return self.path.name


@dataclass(frozen=True, slots=True)
class LayersFile:
    """The rows of a layers.csv that point at usable files, and the others."""

    path: Path
    layers: tuple[LayerSpec, ...]
    problems: tuple[Problem, ...]


def space_kind(service: str, geometry_type: str) -> str:
    """The public-space kind stored for a placemark of this service and geometry."""
    if geometry_type == "point":
        return "site"
    if geometry_type == "line":
        return "line"
    return _AREA_KIND.get(service, "area")


def validate_layer(spec: LayerSpec) -> str | None:
    """Why a layer specification cannot be used, or None when it is fine."""
    if not _SERVICE_CODE.match(spec.service):
        return f"service '{spec.service}' must be a lowercase code like green_space_maintenance"
    if spec.responsible_type not in RESPONSIBLE_TYPES:
        return f"responsible_type '{spec.responsible_type}' must be contractor or municipality"
    if spec.responsible_type == CONTRACTOR and not spec.responsible:
        return "a contractor layer needs the responsible company's name"
    if spec.year is not None and not _MIN_YEAR <= spec.year <= _MAX_YEAR:
        return f"year {spec.year} is out of range"
    return None


def parse_layers_csv(path: Path) -> LayersFile:
    """Read layers.csv; file paths are resolved against the CSV's folder."""
    table = read_csv(path, required=("file", "service"))
    layers: list[LayerSpec] = []
    problems: list[Problem] = []
    for row in table.rows:
        v = {key: " ".join(value.split()) for key, value in row.values.items()}
        where = f"line {row.line}"
        if not v.get("file"):
            problems.append(Problem(path.name, where, "empty 'file'"))
            continue
        year_text = v.get("year", "")
        if year_text and not year_text.isdigit():
            problems.append(Problem(path.name, where, f"year '{year_text}' is not a number"))
            continue
        spec = LayerSpec(
            path=(path.parent / v["file"]).resolve(),
            service=v.get("service", ""),
            year=int(year_text) if year_text else None,
            contract=v.get("contract") or None,
            responsible=v.get("responsible") or None,
            responsible_type=(v.get("responsible_type") or MUNICIPALITY).lower(),
            title=v.get("title") or None,
            line=row.line,
            name_field=v.get("name_field") or None,
            code_field=v.get("code_field") or None,
        )
        reason = validate_layer(spec)
        if reason is None and not spec.path.is_file():
            reason = f"file '{v['file']}' not found next to {path.name}"
        if reason is not None:
            problems.append(Problem(path.name, where, reason))
            continue
        layers.append(spec)
    return LayersFile(path, tuple(layers), tuple(problems))
