"""WGS84 points as people and files write them: one parser for every place that reads them."""

from __future__ import annotations

import math
import re
from typing import NamedTuple

LATITUDE_LIMIT = 90.0
LONGITUDE_LIMIT = 180.0

# "28.63, -106.08", "28.63;-106.08", "28.63 -106.08", or a geo URI "geo:28.63,-106.08;u=35".
_LAT_LON_TEXT = re.compile(
    r"\s*(?P<uri>geo:)?(?P<lat>[+-]?\d+(?:\.\d+)?)\s*[,;\s]\s*(?P<lon>[+-]?\d+(?:\.\d+)?)"
    r"(?(uri)(?:,[+-]?\d+(?:\.\d+)?)?(?:;\S*)?)\s*",
    re.IGNORECASE,
)


class LatLon(NamedTuple):
    """A point: latitude then longitude, in degrees."""

    latitude: float
    longitude: float


def in_range(latitude: float, longitude: float) -> bool:
    """Whether both are finite and within ±90° latitude and ±180° longitude."""
    return (
        math.isfinite(latitude)
        and math.isfinite(longitude)
        and -LATITUDE_LIMIT <= latitude <= LATITUDE_LIMIT
        and -LONGITUDE_LIMIT <= longitude <= LONGITUDE_LIMIT
    )


def parse_lat_lon(text: str) -> LatLon | None:
    """A point from "lat, lon" text or a geo URI; None unless it is two valid coordinates."""
    match = _LAT_LON_TEXT.fullmatch(text)
    if match is None:
        return None
    point = LatLon(float(match["lat"]), float(match["lon"]))
    return point if in_range(*point) else None


def number_pair(lat_text: str, lon_text: str) -> LatLon:
    """Latitude and longitude from two table cells, unchecked for range.

    Raises ValueError("bad coordinates '…', '…'") unless both are numbers.
    """
    try:
        return LatLon(float(lat_text), float(lon_text))
    except ValueError:
        raise ValueError(f"bad coordinates '{lat_text}', '{lon_text}'") from None
