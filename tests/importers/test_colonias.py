"""Colonias: derived from garbage-route names, or read from colonias files."""

from __future__ import annotations

from pathlib import Path

from guardianes.geo.normalize import normalize_company_name
from guardianes.importers.colonias import colonias_from_routes, parse_colonias_file, split_colonias
from guardianes.importers.kml import parse_kml
from tests.importers.conftest import WriteFile


def test_route_list_splits_on_dashes_and_y():
    assert split_colonias("SAN RAFAEL Y SAN FERNANDO-BARRIO DE LONDRES") == [
        "SAN RAFAEL",
        "SAN FERNANDO",
        "BARRIO DE LONDRES",
    ]


def test_stages_joined_by_y_stay_one_colonia():
    assert split_colonias("VILLAS DEL REY I Y II") == ["VILLAS DEL REY I Y II"]


def test_real_routes_yield_named_colonias(chihuahua_data: Path):
    parsed = colonias_from_routes(parse_kml(chihuahua_data / "recoleccion_rutas_municipio.kml"))
    names = {r.name for r in parsed.records}
    assert {"Cumbres Universidad", "Villa Juarez", "Centro", "Tierra y Libertad"} <= names


def test_route_operator_is_not_a_colonia(chihuahua_data: Path):
    parsed = colonias_from_routes(parse_kml(chihuahua_data / "recoleccion_rutas_municipio.kml"))
    assert not {"LIFER DEL NORTE", "COMERCIAL AUTOMOTOR"} & {
        r.normalized_name for r in parsed.records
    }


def test_single_colonia_route_lends_its_area(chihuahua_data: Path):
    parsed = colonias_from_routes(parse_kml(chihuahua_data / "recoleccion_rutas_municipio.kml"))
    by_key = {r.normalized_name: r for r in parsed.records}
    assert by_key["CUMBRES UNIVERSIDAD"].geometry is not None


def test_colonias_csv_with_optional_coordinates(write_file: WriteFile):
    path = write_file("c.csv", "nombre,lat,lon\nCentro,28.635,-106.089\nObrera,,\n")
    parsed = parse_colonias_file(path)
    assert [(r.name, r.geometry is not None) for r in parsed.records] == [
        ("Centro", True),
        ("Obrera", False),
    ]


def test_colonias_kml_uses_placemark_names(sample_dir: Path):
    parsed = parse_colonias_file(sample_dir / "colonias_muestra.kml")
    assert [r.name for r in parsed.records] == ["Centro", "Obrera", "Santa Rosa"]


def test_company_legal_form_spellings_match():
    assert normalize_company_name("Constructora Pewis, S. A. de C. V.") == normalize_company_name(
        "Constructora Pewis, S.A. de C.V."
    )
