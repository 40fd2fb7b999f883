"""Point → space and point → colonia lookups of the in-memory gazetteer."""

from __future__ import annotations

from shapely.geometry import box

from guardianes.conversations.context import ColoniaRef
from guardianes.conversations.messages import GeoPoint
from guardianes.geo.index import IndexedColonia, IndexedSpace, LocalProjection, SpatialGazetteer

SIERRA_REYNA_INSIDE = GeoPoint(28.650692, -105.985774)  # its centroid, inside the polygon
SIERRA_REYNA_NORTH_30M = GeoPoint(28.651022 + 0.00027, -105.985774)  # ~30 m past its edge
FAR_AWAY = GeoPoint(29.5, -107.5)


def test_point_inside_sierra_reyna_resolves_to_it(gazetteer):
    match = gazetteer.space_at(SIERRA_REYNA_INSIDE, service="green_space_maintenance")
    assert (match.name, match.inside, match.distance_m) == ("Parque Sierra Reyna", True, 0.0)


def test_point_just_outside_resolves_to_nearest_within_distance(gazetteer):
    match = gazetteer.space_at(SIERRA_REYNA_NORTH_30M, service="green_space_maintenance")
    assert (match.name, match.inside) == ("Parque Sierra Reyna", False)
    assert 25.0 < match.distance_m < 35.0


def test_far_point_matches_nothing(gazetteer):
    assert gazetteer.space_at(FAR_AWAY) is None


def test_service_filter_picks_the_route_area_around_the_park(gazetteer):
    match = gazetteer.space_at(SIERRA_REYNA_INSIDE, service="garbage_collection")
    assert (match.code, match.kind) == ("RUTA-204", "route_area")


def test_without_service_the_smallest_containing_space_wins(gazetteer):
    assert gazetteer.space_at(SIERRA_REYNA_INSIDE).name == "Parque Sierra Reyna"


def test_match_carries_the_layer_responsible_party(gazetteer):
    match = gazetteer.space_at(SIERRA_REYNA_INSIDE, service="green_space_maintenance")
    assert match.responsible[0].name == "Municipio de Chihuahua"


def test_colonias_are_sorted_by_name(gazetteer):
    assert [c.name for c in gazetteer.colonias()] == ["Álamos", "Zeta"]


def test_colonia_at_uses_the_smallest_containing_area():
    colonias = [
        IndexedColonia(1, "Grande", box(-106.2, 28.5, -106.0, 28.7)),
        IndexedColonia(2, "Chica", box(-106.1, 28.6, -106.08, 28.62)),
    ]
    found = SpatialGazetteer([], colonias, max_distance_m=100).colonia_at(GeoPoint(28.61, -106.09))
    assert found is not None and found.name == "Chica"


def test_colonia_without_geometry_is_never_located():
    gazetteer = SpatialGazetteer([], [IndexedColonia(1, "Sin mapa")], max_distance_m=100)
    assert gazetteer.colonia_at(GeoPoint(28.61, -106.09)) is None


def test_space_match_falls_back_to_colonia_of_the_point():
    space = IndexedSpace(1, "P", None, "green_space", "s", box(-106.1, 28.6, -106.09, 28.61))
    colonia = IndexedColonia(7, "Centro", box(-106.2, 28.5, -106.0, 28.7))
    match = SpatialGazetteer([space], [colonia], max_distance_m=50).space_at(
        GeoPoint(28.605, -106.095)
    )
    assert match is not None and match.colonia == ColoniaRef(7, "Centro")


def test_local_projection_measures_metres():
    projection = LocalProjection(28.635, -106.089)
    one_km_north = projection.point(GeoPoint(28.635 + 1 / 111.195, -106.089))
    assert abs(one_km_north.y - 1000.0) < 1.0
