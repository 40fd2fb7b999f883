"""Projected shapes in one STRtree: which contains a point, which is nearest to it.

Everything a lookup needs besides the tree (areas, bounding boxes, tie-break ranks, the
group of each shape) is computed once, as numpy arrays, when the index is built; a query
asks GEOS only about the few shapes that can still win, so it costs tens of microseconds
and allocates nothing proportional to the number of shapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree


@dataclass(frozen=True, slots=True)
class Probe:
    """A point in local metres: its coordinates, and itself as a one-element array."""

    x: float
    y: float
    geometries: NDArray[np.object_]

    @classmethod
    def at(cls, x: float, y: float) -> Probe:
        """The probe for one point."""
        # An array rather than a Point: `STRtree.query` reshapes a scalar input first,
        # which was a third of the cost of a whole lookup.
        return cls(x, y, shapely.points(np.array([[x, y]])))

    @property
    def point(self) -> Point:
        """The point itself."""
        point: Point = self.geometries[0]
        return point


class ShapeIndex:
    """Shapes in metres, answered by position; ties go to the lowest rank.

    Each shape may belong to a group (a service): a query for one group ignores the others.
    """

    def __init__(
        self,
        shapes: Sequence[BaseGeometry],
        ranks: Sequence[int],
        groups: Sequence[int] | None = None,
    ) -> None:
        self._shapes = list(shapes)
        self._tree = STRtree(self._shapes)
        self._ranks = np.asarray(ranks, dtype=np.int64)
        self._groups = np.asarray(groups if groups is not None else [], dtype=np.int32)
        self._areas = shapely.area(self._shapes) if self._shapes else np.empty(0)
        self._bounds: NDArray[np.float64] = (
            shapely.bounds(self._shapes) if self._shapes else np.empty((0, 4))
        )

    def __len__(self) -> int:
        return len(self._shapes)

    def smallest_containing(self, here: Probe, group: int | None = None) -> int | None:
        """The smallest shape the point is in or on (nested areas: the most specific)."""
        hits = self._in_group(self._tree.query(here.geometries, predicate="intersects")[1], group)
        if len(hits) == 0:
            return None
        if len(hits) == 1:
            return int(hits[0])
        best: tuple[float, int, int] = min(
            zip(self._areas[hits].tolist(), self._ranks[hits].tolist(), hits.tolist(), strict=True)
        )
        return best[2]

    def nearest(
        self, here: Probe, max_distance: float, group: int | None = None
    ) -> tuple[int, float] | None:
        """The nearest shape within `max_distance`, and its distance."""
        x, y = here.x, here.y
        # A box query, not the tree's "dwithin" predicate: GEOS builds a facet index for
        # every candidate it tests that way, several times the cost of the whole lookup.
        around = shapely.box(
            np.array([x - max_distance]), y - max_distance, x + max_distance, y + max_distance
        )
        candidates = self._in_group(self._tree.query(around)[1], group)
        if len(candidates) == 0:
            return None
        bounds = self._bounds[candidates]
        dx = np.maximum(np.maximum(bounds[:, 0] - x, x - bounds[:, 2]), 0.0)
        dy = np.maximum(np.maximum(bounds[:, 1] - y, y - bounds[:, 3]), 0.0)
        # The distance to a bounding box never exceeds the distance to its shape: visit the
        # candidates by that lower bound and stop once it passes the best distance found.
        lower = np.hypot(dx, dy)
        order = np.argsort(lower, kind="stable").tolist()
        lower_bounds = lower.tolist()
        positions = candidates.tolist()
        ranks = self._ranks[candidates].tolist()
        best: tuple[float, int, int] | None = None  # distance, rank, position
        point = here.point
        for k in order:
            bound = lower_bounds[k]
            if bound > max_distance or (best is not None and bound > best[0]):
                break
            distance = float(self._shapes[positions[k]].distance(point))
            if distance <= max_distance:
                key = (distance, ranks[k], positions[k])
                if best is None or key < best:
                    best = key
        if best is None:
            return None
        return best[2], best[0]

    def _in_group(self, hits: NDArray[np.intp], group: int | None) -> NDArray[np.intp]:
        if group is None or len(hits) == 0:
            return hits
        kept: NDArray[np.intp] = hits[self._groups[hits] == group]
        return kept
