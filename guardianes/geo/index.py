"""In-memory gazetteer: point → public space / colonia with shapely STRtrees (geo.shapes).

Geometries are projected once to a local equirectangular plane in metres centred on the
data, so distances are metres without a projection library; at city scale (tens of km)
the error is well under 1 %.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from guardianes.conversations.context import ColoniaRef, ResponsibleParty, SpaceMatch, SpacePlace
from guardianes.conversations.messages import GeoPoint
from guardianes.geo.shapes import Probe, ShapeIndex

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)


@dataclass(frozen=True, slots=True)
class IndexedSpace:
    """A public space as the index needs it (WGS84 geometry, lon/lat order)."""

    id: int
    name: str
    code: str | None
    kind: str
    service: str
    geometry: BaseGeometry
    colonia_id: int | None = None
    responsible: tuple[ResponsibleParty, ...] = ()


@dataclass(frozen=True, slots=True)
class IndexedColonia:
    """A colonia; geometry None when only its name is known."""

    id: int
    name: str
    geometry: BaseGeometry | None = None


@dataclass(frozen=True, slots=True)
class LocalProjection:
    """Equirectangular projection to metres around a reference latitude/longitude."""

    ref_lat: float
    ref_lon: float

    @property
    def _x_scale(self) -> float:
        return EARTH_RADIUS_M * math.cos(math.radians(self.ref_lat)) * math.pi / 180.0

    @property
    def _y_scale(self) -> float:
        return EARTH_RADIUS_M * math.pi / 180.0

    def project(self, geometry: BaseGeometry) -> BaseGeometry:
        """The geometry in local metres (x east, y north)."""
        x_scale, y_scale = self._x_scale, self._y_scale

        def to_metres(coords: NDArray[np.float64]) -> NDArray[np.float64]:
            out = np.empty_like(coords)
            out[:, 0] = (coords[:, 0] - self.ref_lon) * x_scale
            out[:, 1] = (coords[:, 1] - self.ref_lat) * y_scale
            return out

        projected: BaseGeometry = shapely.transform(geometry, to_metres)
        return projected

    def point(self, point: GeoPoint) -> Point:
        """A WGS84 point in local metres."""
        return Point(*self.coordinates(point))

    def coordinates(self, point: GeoPoint) -> tuple[float, float]:
        """A WGS84 point's local coordinates in metres (x east, y north)."""
        return (
            (point.longitude - self.ref_lon) * self._x_scale,
            (point.latitude - self.ref_lat) * self._y_scale,
        )

    def probe(self, point: GeoPoint) -> Probe:
        """A WGS84 point in local metres, ready to query a `ShapeIndex`."""
        return Probe.at(*self.coordinates(point))

    @classmethod
    def around(cls, geometries: Sequence[BaseGeometry]) -> LocalProjection:
        """A projection centred on the bounding box of the geometries (city centre if none)."""
        if not geometries:
            return cls(28.635, -106.089)
        min_x, min_y, max_x, max_y = shapely.total_bounds(list(geometries))
        return cls((min_y + max_y) / 2.0, (min_x + max_x) / 2.0)


def _sort_key(name: str) -> str:
    """Spanish-friendly order: 'Álamos' sorts with 'Alamos', before 'Zeta'."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


class SpatialGazetteer:
    """The `Gazetteer` of the engine, answered from memory with STRtrees."""

    def __init__(
        self,
        spaces: Sequence[IndexedSpace],
        colonias: Sequence[IndexedColonia],
        *,
        max_distance_m: float,
    ) -> None:
        self.max_distance_m = max_distance_m
        self._spaces = tuple(spaces)
        self._index_by_id = {space.id: i for i, space in enumerate(self._spaces)}
        self._colonias = tuple(sorted(colonias, key=lambda c: (_sort_key(c.name), c.id)))
        self._colonia_refs = tuple(ColoniaRef(c.id, c.name) for c in self._colonias)
        self._colonia_by_id = {
            c.id: ref for c, ref in zip(self._colonias, self._colonia_refs, strict=True)
        }
        shaped = [c for c in self._colonias if c.geometry is not None and not c.geometry.is_empty]
        self._projection = LocalProjection.around(
            [s.geometry for s in self._spaces]
            + [c.geometry for c in shaped if c.geometry is not None]
        )
        self._services = tuple(sorted({space.service for space in self._spaces}))
        self._service_group = {service: n for n, service in enumerate(self._services)}
        self._space_index = ShapeIndex(
            [self._projection.project(s.geometry) for s in self._spaces],
            ranks=[s.id for s in self._spaces],
            groups=[self._service_group[s.service] for s in self._spaces],
        )
        self._shaped_colonias = [self._colonia_by_id[c.id] for c in shaped]
        self._colonia_index = ShapeIndex(
            [self._projection.project(c.geometry) for c in shaped if c.geometry is not None],
            ranks=range(len(shaped)),
        )

    @property
    def space_count(self) -> int:
        """How many spaces are indexed."""
        return len(self._spaces)

    def colonias(self) -> Sequence[ColoniaRef]:
        """Every colonia, sorted by name."""
        return self._colonia_refs

    def colonia_at(self, point: GeoPoint) -> ColoniaRef | None:
        """The colonia whose area contains the point (the smallest one when areas overlap)."""
        if not len(self._colonia_index):
            return None
        return self._colonia_in(self._projection.probe(point))

    def space_at(self, point: GeoPoint, *, service: str | None = None) -> SpaceMatch | None:
        """The space containing the point, else the nearest within `max_distance_m`."""
        group = None if service is None else self._service_group.get(service)
        if not self._spaces or (service is not None and group is None):
            return None
        here = self._projection.probe(point)
        # Nested areas (a plaza inside a route area): the smallest is the most specific.
        inside = self._space_index.smallest_containing(here, group)
        if inside is not None:
            return self._match(inside, here, inside=True, distance_m=0.0)
        near = self._space_index.nearest(here, self.max_distance_m, group)
        if near is None:
            return None
        return self._match(near[0], here, inside=False, distance_m=near[1])

    def space_by_id(self, space_id: int) -> SpacePlace | None:
        """The space with this id, with a point surely inside it (not the centroid of a ring)."""
        index = self._index_by_id.get(space_id)
        if index is None:
            return None
        space = self._spaces[index]
        inside = space.geometry.representative_point()
        return SpacePlace(
            space_id=space.id,
            name=space.name,
            code=space.code,
            service=space.service,
            point=GeoPoint(latitude=round(inside.y, 7), longitude=round(inside.x, 7)),
        )

    @property
    def services(self) -> tuple[str, ...]:
        """The services some indexed space is for, sorted."""
        return self._services

    def spaces_at(self, point: GeoPoint) -> list[SpaceMatch]:
        """Every answer for the point: what `space_at` says first (the chat's answer), then
        the space of each other service there (a park inside a garbage route area)."""
        first = self.space_at(point)
        if first is None:
            return []
        found = [first]
        for service in self.services:
            match = self.space_at(point, service=service)
            if match is not None and all(match.space_id != seen.space_id for seen in found):
                found.append(match)
        return found

    def _colonia_in(self, here: Probe) -> ColoniaRef | None:
        if not len(self._colonia_index):
            return None
        found = self._colonia_index.smallest_containing(here)
        return self._shaped_colonias[found] if found is not None else None

    def _match(self, index: int, here: Probe, *, inside: bool, distance_m: float) -> SpaceMatch:
        space = self._spaces[index]
        colonia = self._colonia_by_id.get(space.colonia_id) if space.colonia_id else None
        return SpaceMatch(
            space_id=space.id,
            name=space.name,
            code=space.code,
            kind=space.kind,
            inside=inside,
            distance_m=round(distance_m, 1),
            colonia=colonia or self._colonia_in(here),
            responsible=space.responsible,
        )
