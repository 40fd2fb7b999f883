"""Fixtures for importer tests: the shipped demo data and temporary input files.

The database `session` and the real-data folder `chihuahua_data` come from tests/conftest.py.
"""

from __future__ import annotations

import itertools
import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import shapefile
from pyproj import CRS, Transformer
from pyproj.enums import WktVersion

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DIR = REPO_ROOT / "sample_data"

WriteFile = Callable[[str, str | bytes], Path]


@pytest.fixture
def sample_dir() -> Path:
    """The shipped demo data."""
    return SAMPLE_DIR


@pytest.fixture
def write_file(tmp_path: Path) -> WriteFile:
    """Write a file under tmp_path and return its path."""

    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write


LAYERS_HEADER = "file,service,year,contract,responsible,responsible_type,title\n"


@pytest.fixture
def layers_csv_missing_a_file(write_file: WriteFile) -> Path:
    """A layers.csv whose line 2 file is there and whose line 3 file (faltante.kml) is not."""
    write_file("parques.kml", parks_kml())
    return write_file(
        "layers.csv",
        LAYERS_HEADER
        + "parques.kml,green_space_maintenance,2021,,,,\n"
        + "faltante.kml,green_space_maintenance,2021,,,,\n",
    )


# ---------------------------------------------------------------- other cities and formats

OTHER_CITIES = Path(
    os.environ.get(
        "GUARDIANES_OTHER_CITIES_DATA", REPO_ROOT.parent / "shared" / "data" / "other-cities"
    )
)
UTM_13N = 32613  # the projected system Chihuahua's cadastre uses


@pytest.fixture
def other_cities() -> Path:
    """Other cities' real public data (Mexico City), read where `../shared` publishes it."""
    return OTHER_CITIES


@dataclass(frozen=True)
class Park:
    """A square park to write into test maps: centre in WGS84 and half a side in degrees."""

    name: str
    code: str
    lon: float
    lat: float
    half: float = 0.0005

    def ring(self) -> list[tuple[float, float]]:
        x, y, h = self.lon, self.lat, self.half
        return [(x - h, y - h), (x - h, y + h), (x + h, y + h), (x + h, y - h), (x - h, y - h)]


PARKS = (
    Park("Parque Lealtad", "AC-Z12-0001", -106.044382, 28.632863),
    Park("Zubirán", "AC-Z13-0001", -106.045267, 28.637816),
)

WriteShapefile = Callable[..., Path]


@pytest.fixture
def write_shapefile(tmp_path: Path) -> WriteShapefile:
    """Write parks as a polygon Shapefile with pyshp (optionally in UTM 13N with a .prj).

    Returns the .shp path; `zipped=True` returns a .zip holding the four files instead.
    """

    def write(
        stem: str,
        parks: tuple[Park, ...] = PARKS,
        *,
        utm: bool = False,
        prj: bool = True,
        zipped: bool = False,
        encoding: str = "utf-8",
    ) -> Path:
        folder = tmp_path / f"shp-{stem}-{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        to_utm = Transformer.from_crs(4326, UTM_13N, always_xy=True)
        with shapefile.Writer(
            str(folder / stem), shapeType=shapefile.POLYGON, encoding=encoding
        ) as w:
            w.field("NOMBRE", "C", size=80)
            w.field("CVE", "C", size=20)
            for park in parks:
                ring = [to_utm.transform(x, y) for x, y in park.ring()] if utm else park.ring()
                # Shapefile outer rings run clockwise.
                w.poly([list(reversed(ring)) if not _clockwise(ring) else ring])
                w.record(park.name, park.code)
        if utm and prj:
            wkt = CRS.from_epsg(UTM_13N).to_wkt(WktVersion.WKT1_ESRI)
            (folder / f"{stem}.prj").write_text(wkt, encoding="ascii")
        if not zipped:
            return folder / f"{stem}.shp"
        archive = tmp_path / f"{stem}.zip"
        with zipfile.ZipFile(archive, "w") as z:
            for part in sorted(folder.iterdir()):
                z.write(part, f"{stem}/{part.name}")
        return archive

    return write


def _clockwise(ring: list[tuple[float, float]]) -> bool:
    area = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in itertools.pairwise(ring))
    return area < 0


def parks_kml(parks: tuple[Park, ...] = PARKS) -> str:
    """A KML of the parks as Google My Maps writes it."""
    placemarks = "".join(
        f"<Placemark><name>{p.name}</name><description>{p.code}</description><Polygon>"
        "<outerBoundaryIs><LinearRing><coordinates>"
        + " ".join(f"{x},{y},0" for x, y in p.ring())
        + "</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>"
        for p in parks
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
        f"<Document><name>Parques</name>{placemarks}</Document></kml>"
    )


def parks_geojson(parks: tuple[Park, ...] = PARKS) -> str:
    """A GeoJSON FeatureCollection of the parks with Spanish property names."""
    features = [
        {
            "type": "Feature",
            "properties": {"NOMBRE": p.name, "CVE": p.code},
            "geometry": {"type": "Polygon", "coordinates": [[list(c) for c in p.ring()]]},
        }
        for p in parks
    ]
    return json.dumps({"type": "FeatureCollection", "features": features})
