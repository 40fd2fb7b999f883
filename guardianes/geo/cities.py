"""One gazetteer per city: each guardian sees only their own city's places.

`CityGazetteers` is itself a `Gazetteer` over every city (for a person not registered yet,
whose city is still unknown) and hands out the gazetteer of one city.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from guardianes.conversations.context import ColoniaRef, Gazetteer, SpaceMatch, SpacePlace
from guardianes.conversations.messages import GeoPoint
from guardianes.geo.index import IndexedSpace, SpatialGazetteer, _sort_key


class CityGazetteers:
    """The gazetteers of every city, by city id."""

    def __init__(self, by_city: Mapping[int, SpatialGazetteer], *, max_distance_m: float) -> None:
        self._by_city = dict(by_city)
        self._empty = SpatialGazetteer([], [], max_distance_m=max_distance_m)
        self._city_of_colonia = {
            colonia.id: city_id
            for city_id, gazetteer in self._by_city.items()
            for colonia in gazetteer.colonias()
        }
        self._colonias = tuple(
            sorted(
                (c for g in self._by_city.values() for c in g.colonias()),
                key=lambda c: (_sort_key(c.name), c.id),
            )
        )

    @property
    def city_ids(self) -> tuple[int, ...]:
        """The cities with a gazetteer."""
        return tuple(self._by_city)

    @property
    def space_count(self) -> int:
        """How many spaces are indexed in every city together."""
        return sum(g.space_count for g in self._by_city.values())

    @property
    def _spaces(self) -> tuple[IndexedSpace, ...]:
        """Every indexed space of every city (what tests of one gazetteer peek at)."""
        return tuple(space for g in self._by_city.values() for space in g._spaces)

    def for_city(self, city_id: int | None) -> Gazetteer:
        """The gazetteer of one city; with None, every city (one city: that city)."""
        if city_id is None:
            return self
        return self._by_city.get(city_id, self._empty)

    def spatial(self, city_id: int) -> SpatialGazetteer:
        """The concrete gazetteer of a city (empty when the city has no data yet)."""
        return self._by_city.get(city_id, self._empty)

    def city_of_colonia(self, colonia_id: int) -> int | None:
        """The city owning a colonia."""
        return self._city_of_colonia.get(colonia_id)

    def city_at(self, point: GeoPoint) -> int | None:
        """The city whose colonias or spaces cover the point (None outside every city)."""
        for city_id, gazetteer in self._by_city.items():
            if gazetteer.colonia_at(point) is not None:
                return city_id
        best: tuple[bool, float, int] | None = None
        for city_id, gazetteer in self._by_city.items():
            match = gazetteer.space_at(point)
            if match is not None:
                key = (not match.inside, match.distance_m, city_id)
                best = key if best is None or key < best else best
        return best[2] if best else None

    # ---- the Gazetteer protocol over every city ----

    def colonias(self) -> Sequence[ColoniaRef]:
        """Every colonia of every city, sorted by name."""
        return self._colonias

    def colonia_at(self, point: GeoPoint) -> ColoniaRef | None:
        """The colonia containing the point, in whichever city it lies."""
        city_id = self.city_at(point)
        return self._by_city[city_id].colonia_at(point) if city_id is not None else None

    def space_at(self, point: GeoPoint, *, service: str | None = None) -> SpaceMatch | None:
        """The space of the city the point lies in (else the nearest of any city)."""
        city_id = self.city_at(point)
        if city_id is not None:
            return self._by_city[city_id].space_at(point, service=service)
        return None

    def space_by_id(self, space_id: int) -> SpacePlace | None:
        """The space with this id, whichever city holds it (a map's "Report it" link)."""
        for gazetteer in self._by_city.values():
            place = gazetteer.space_by_id(space_id)
            if place is not None:
                return place
        return None
