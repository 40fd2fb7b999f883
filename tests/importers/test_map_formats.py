"""Maps in every common format, read from their content: KML, KMZ, GeoJSON, Shapefile, CSV."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from guardianes.importers.colonias import parse_colonias_file
from guardianes.importers.maps import FieldChoice, detect_format, parse_map
from guardianes.importers.report import ImportFileError
from tests.importers.conftest import PARKS, WriteFile, WriteShapefile, parks_geojson, parks_kml

CUAUHTEMOC = "cdmx_cuauhtemoc_colonias.geojson"


def _near(value: float, expected: float) -> bool:
    return abs(value - expected) < 1e-6


def test_cuauhtemoc_geojson_gives_33_colonias_named_by_nom_asen(other_cities: Path):
    parsed = parse_colonias_file(other_cities / CUAUHTEMOC)
    names = [r.name for r in parsed.records]
    assert (len(names), parsed.problems) == (33, ())
    assert {"Algarín", "Buenavista"} <= set(names)


def test_cuauhtemoc_colonias_keep_their_multipolygons(other_cities: Path):
    parsed = parse_colonias_file(other_cities / CUAUHTEMOC)
    assert {r.geometry.geom_type for r in parsed.records if r.geometry} == {"MultiPolygon"}


def test_geojson_saved_as_kml_is_read_as_geojson(write_file: WriteFile):
    document = parse_map(write_file("parques.kml", parks_geojson()))
    assert [(p.name, p.code) for p in document.placemarks] == [
        ("Parque Lealtad", "AC-Z12-0001"),
        ("Zubirán", "AC-Z13-0001"),
    ]


def test_geojson_name_and_code_fields_can_be_chosen(write_file: WriteFile):
    document = parse_map(
        write_file("p.geojson", parks_geojson()), fields=FieldChoice("CVE", "NOMBRE")
    )
    assert document.placemarks[0].name == "AC-Z12-0001"


def test_a_missing_name_field_is_refused_with_the_properties_there(write_file: WriteFile):
    with pytest.raises(ImportFileError, match=r"no property 'nom_col'.*CVE, NOMBRE"):
        parse_map(write_file("p.geojson", parks_geojson()), fields=FieldChoice("nom_col"))


def test_geojson_point_feature_becomes_a_point(write_file: WriteFile):
    point = json.dumps(
        {
            "type": "Feature",
            "properties": {"nombre": "Kiosco"},
            "geometry": {"type": "Point", "coordinates": [-106.08, 28.63]},
        }
    )
    placemark = parse_map(write_file("k.json", point)).placemarks[0]
    assert (placemark.name, placemark.geometry_type) == ("Kiosco", "point")


def test_geojson_feature_out_of_range_is_a_problem_naming_it(write_file: WriteFile):
    feature = {
        "type": "Feature",
        "properties": {"name": "Lejos"},
        "geometry": {"type": "Point", "coordinates": [390000, 3170000]},  # UTM, no crs
    }
    bad = json.dumps({"type": "FeatureCollection", "features": [feature]})
    document = parse_map(write_file("u.geojson", bad))
    assert [(p.where, "out of range" in p.reason) for p in document.problems] == [
        ("feature 1 'Lejos'", True)
    ]


def test_kmz_is_read_from_the_archive(tmp_path: Path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("doc.kml", parks_kml())
    path = tmp_path / "parques.kmz"
    path.write_bytes(buffer.getvalue())
    assert len(parse_map(path).placemarks) == len(PARKS)


def test_zipped_shapefile_in_utm_is_reprojected_to_wgs84(write_shapefile: WriteShapefile):
    document = parse_map(write_shapefile("parques", utm=True, zipped=True))
    lealtad = document.placemarks[0]
    assert (lealtad.name, lealtad.code) == ("Parque Lealtad", "AC-Z12-0001")
    assert _near(lealtad.centroid_lon, PARKS[0].lon) and _near(lealtad.centroid_lat, PARKS[0].lat)


def test_shp_beside_its_siblings_is_read(write_shapefile: WriteShapefile):
    document = parse_map(write_shapefile("parques"))
    assert [p.name for p in document.placemarks] == ["Parque Lealtad", "Zubirán"]


def test_latin1_shapefile_attributes_are_decoded(write_shapefile: WriteShapefile):
    document = parse_map(write_shapefile("viejo", encoding="latin-1"))
    assert document.placemarks[1].name == "Zubirán"


def test_projected_shapefile_without_prj_is_refused_shape_by_shape(
    write_shapefile: WriteShapefile,
):
    document = parse_map(write_shapefile("sinprj", utm=True, prj=False))
    assert document.placemarks == ()
    assert all(".prj" in p.reason for p in document.problems) and len(document.problems) == 2


def test_shp_without_its_dbf_is_refused(write_shapefile: WriteShapefile):
    path = write_shapefile("solo")
    path.with_suffix(".dbf").unlink()
    with pytest.raises(ImportFileError, match=r"needs its solo\.dbf"):
        parse_map(path)


def test_csv_of_points_gives_sites(write_file: WriteFile):
    path = write_file("puntos.csv", "nombre,lat,lon,clave\nLámpara 1,28.63,-106.08,L-1\n")
    placemark = parse_map(path).placemarks[0]
    assert (placemark.name, placemark.code, placemark.geometry_type) == (
        "Lámpara 1",
        "L-1",
        "point",
    )


def test_csv_point_with_bad_coordinates_is_a_problem_with_its_line(write_file: WriteFile):
    path = write_file("puntos.csv", "nombre,lat,lon\nA,28.6,-106.1\nB,norte,-106.1\n")
    assert [str(p) for p in parse_map(path).problems] == [
        "puntos.csv:line 3: bad coordinates 'norte', '-106.1'"
    ]


def test_csv_without_coordinates_is_refused_as_not_a_map(write_file: WriteFile):
    path = write_file("contratos.csv", "Periodo,Dependencia\n2020,Obras\n")
    with pytest.raises(ImportFileError, match="CSV without latitude/longitude"):
        parse_map(path)


def test_ocds_json_given_as_a_map_is_refused_saying_what_it_is(write_file: WriteFile):
    path = write_file("contratos.geojson", '{"ocid": "ocds-1", "tender": {}}')
    with pytest.raises(ImportFileError, match=r"is OCDS contracting data.*expected a map"):
        parse_map(path)


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"%PDF-1.7\n", "a PDF document"),
        (b"\x89PNG\r\n\x1a\n\x00", "a PNG image"),
    ],
)
def test_binary_files_are_refused_with_what_they_are(
    write_file: WriteFile, content: bytes, what: str
):
    with pytest.raises(ImportFileError, match=f"is {what}, not a map: KML, KMZ, GeoJSON"):
        detect_format(content, write_file("mapa.kml", content))


def test_xlsx_given_as_a_map_is_named(tmp_path: Path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(ImportFileError, match="Excel workbook"):
        detect_format(buffer.getvalue(), tmp_path / "mapa.kmz")
