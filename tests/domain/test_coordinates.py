"""One parser for points typed in chat, sent as geo URIs, or read from table cells."""

from __future__ import annotations

import math

import pytest

from guardianes.domain.coordinates import LatLon, in_range, number_pair, parse_lat_lon


@pytest.mark.parametrize(
    "text",
    ["28.6353, -106.0889", "28.6353,-106.0889", "28.6353; -106.0889", "28.6353 -106.0889"],
)
def test_lat_lon_text_is_read_whatever_the_separator(text: str) -> None:
    assert parse_lat_lon(text) == LatLon(28.6353, -106.0889)


@pytest.mark.parametrize("text", ["geo:28.6353,-106.0889", "geo:28.6353,-106.0889,1450;u=35"])
def test_a_geo_uri_is_read_without_its_altitude_and_parameters(text: str) -> None:
    assert parse_lat_lon(text) == LatLon(28.6353, -106.0889)


@pytest.mark.parametrize("text", ["hola", "28.6", "95, 10", "10, 181", "28.6, -106.1 calle 5", ""])
def test_text_that_is_not_two_valid_coordinates_is_refused(text: str) -> None:
    assert parse_lat_lon(text) is None


def test_table_cells_are_read_as_numbers() -> None:
    assert number_pair(" 28.6 ", "-106.1") == LatLon(28.6, -106.1)


def test_table_cells_that_are_not_numbers_name_both_values() -> None:
    with pytest.raises(ValueError, match=r"bad coordinates 'norte', '-106\.1'"):
        number_pair("norte", "-106.1")


@pytest.mark.parametrize(
    ("lat", "lon", "expected"),
    [(90.0, 180.0, True), (-90.0, -180.0, True), (90.1, 0.0, False), (0.0, -180.1, False)],
)
def test_range_is_plus_minus_90_and_180(lat: float, lon: float, expected: bool) -> None:
    assert in_range(lat, lon) is expected


def test_a_non_number_is_out_of_range() -> None:
    assert not in_range(math.nan, 0.0)
