"""KML parsing: the real Chihuahua files and hand-made edge cases."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from guardianes.importers.kml import parse_kml
from guardianes.importers.report import ImportFileError
from tests.importers.conftest import WriteFile

PARK_FILES = {
    "parques_partida12_om-38-2020-d.kml": 62,
    "parques_partida13_municipio.kml": 76,
    "parques_partida14_municipio.kml": 85,
}
ROUTES = "recoleccion_rutas_municipio.kml"


def kml(body: str) -> str:
    """A KML 2.2 document around placemarks."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Doc</name>{body}'
        "</Document></kml>"
    )


def square(lon: float, lat: float, d: float) -> str:
    """Closed square ring coordinates."""
    pts = [(lon - d, lat - d), (lon + d, lat - d), (lon + d, lat + d), (lon - d, lat + d)]
    pts.append(pts[0])
    return " ".join(f"{x},{y},0" for x, y in pts)


@pytest.mark.parametrize(("file_name", "count"), PARK_FILES.items())
def test_each_park_file_yields_all_its_placemarks(chihuahua_data: Path, file_name: str, count: int):
    document = parse_kml(chihuahua_data / file_name)
    assert (len(document.placemarks), document.problems) == (count, ())


def test_park_files_hold_223_green_spaces(chihuahua_data: Path):
    assert sum(len(parse_kml(chihuahua_data / f).placemarks) for f in PARK_FILES) == 223


def test_zubiran_carries_code_ac_z13_0001(chihuahua_data: Path):
    document = parse_kml(chihuahua_data / "parques_partida13_municipio.kml")
    by_code = {p.code: p.name for p in document.placemarks}
    assert by_code["AC-Z13-0001"] == "Zubirán"


def test_cdata_description_with_br_becomes_lines(chihuahua_data: Path):
    document = parse_kml(chihuahua_data / "parques_partida12_om-38-2020-d.kml")
    first = document.placemarks[0]
    assert first.description.splitlines()[:2] == [
        "AC-Z12-0001",
        "Concesionario: Constructura Pewis S.A. de C.V.",
    ]


def test_multigeometry_placemark_becomes_multipolygon(chihuahua_data: Path):
    document = parse_kml(chihuahua_data / "parques_partida14_municipio.kml")
    prado = next(p for p in document.placemarks if p.name == "Prado Mayor (2 Áreas)")
    assert prado.geojson["type"] == "MultiPolygon"


def test_route_file_has_204_usable_polygons_and_22_points(chihuahua_data: Path):
    document = parse_kml(chihuahua_data / ROUTES)
    kinds = [p.geometry_type for p in document.placemarks]
    assert (kinds.count("polygon"), kinds.count("point")) == (204, 22)


def test_route_polygon_without_coordinates_is_reported(chihuahua_data: Path):
    document = parse_kml(chihuahua_data / ROUTES)
    assert [str(p) for p in document.problems] == [
        "recoleccion_rutas_municipio.kml:placemark 58 'R-146, GENARO VAZQUEZ-AMPL. VALLE DE "
        "LA MADRID, COMERCIAL AUTOMOTOR': no coordinates"
    ]


def test_route_code_comes_from_description_or_name(chihuahua_data: Path):
    codes = {p.code for p in parse_kml(chihuahua_data / ROUTES).placemarks}
    assert {"RUTA-204", "A-L128", "R-229-A"} <= codes


def test_document_name_is_kept_even_when_it_differs_from_file(chihuahua_data: Path):
    document = parse_kml(chihuahua_data / ROUTES)
    assert document.document_name == "TODAS LAS RUTAS DE RECOLECCION.kml"


def test_placemark_keys_are_unique_within_route_file(chihuahua_data: Path):
    keys = [p.key for p in parse_kml(chihuahua_data / ROUTES).placemarks]
    assert len(keys) == len(set(keys))


def test_nested_folders_are_recorded(write_file: WriteFile):
    body = (
        "<Folder><name>A</name><Folder><name>B</name><Placemark><name>P</name>"
        "<Point><coordinates>-106.1,28.6,0</coordinates></Point></Placemark></Folder></Folder>"
    )
    document = parse_kml(write_file("f.kml", kml(body)))
    assert document.placemarks[0].folders == ("A", "B")


def test_inner_ring_makes_a_hole(write_file: WriteFile):
    body = (
        "<Placemark><name>Donut</name><Polygon>"
        f"<outerBoundaryIs><LinearRing><coordinates>{square(-106.0, 28.6, 0.01)}"
        "</coordinates></LinearRing></outerBoundaryIs>"
        f"<innerBoundaryIs><LinearRing><coordinates>{square(-106.0, 28.6, 0.001)}"
        "</coordinates></LinearRing></innerBoundaryIs></Polygon></Placemark>"
    )
    placemark = parse_kml(write_file("d.kml", kml(body))).placemarks[0]
    assert len(placemark.geojson["coordinates"]) == 2


def test_empty_description_gives_no_code_and_empty_text(write_file: WriteFile):
    body = (
        "<Placemark><name>Sin código</name><description></description>"
        "<Point><coordinates>-106.1,28.6</coordinates></Point></Placemark>"
    )
    placemark = parse_kml(write_file("e.kml", kml(body))).placemarks[0]
    assert (placemark.code, placemark.description) == (None, "")


def test_bad_coordinate_is_reported_with_file_placemark_and_reason(write_file: WriteFile):
    body = (
        "<Placemark><name>Roto</name><Point><coordinates>abc,28.6</coordinates></Point>"
        "</Placemark><Placemark><name>Bien</name>"
        "<Point><coordinates>-106.1,28.6</coordinates></Point></Placemark>"
    )
    document = parse_kml(write_file("b.kml", kml(body)))
    assert [str(p) for p in document.problems] == [
        "b.kml:placemark 1 'Roto': bad coordinate 'abc,28.6' (expected lon,lat[,alt])"
    ]


def test_placemark_without_geometry_is_skipped(write_file: WriteFile):
    document = parse_kml(write_file("n.kml", kml("<Placemark><name>Nada</name></Placemark>")))
    assert (len(document.placemarks), document.problems[0].reason[:11]) == (0, "no geometry")


def test_png_renamed_kml_raises_one_clear_error(write_file: WriteFile):
    path = write_file("foto.kml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(ImportFileError, match=r"foto\.kml: is not a KML file: it is a PNG image"):
        parse_kml(path)


def test_xml_that_is_not_kml_is_refused(write_file: WriteFile):
    with pytest.raises(ImportFileError, match="not KML"):
        parse_kml(write_file("x.kml", "<gpx><trk/></gpx>"))


def test_kmz_archive_is_read(write_file: WriteFile, tmp_path: Path):
    body = (
        "<Placemark><name>Z</name><Point><coordinates>-106.1,28.6</coordinates></Point></Placemark>"
    )
    path = tmp_path / "z.kmz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("doc.kml", kml(body))
    assert parse_kml(path).placemarks[0].name == "Z"
