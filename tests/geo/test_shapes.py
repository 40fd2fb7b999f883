"""`ShapeIndex` answers what testing every shape would answer, and breaks ties by rank."""

from __future__ import annotations

import random

import pytest
from shapely.geometry import Point, Polygon, box

from guardianes.geo.shapes import Probe, ShapeIndex

MAX_DISTANCE = 150.0


def squares(count: int, seed: int) -> list[Polygon]:
    """Squares and hexagons of 20–400 m over a 3 km field, many of them overlapping."""
    rng = random.Random(seed)
    shapes = []
    for _ in range(count):
        x, y, size = rng.uniform(0, 3000), rng.uniform(0, 3000), rng.uniform(10, 200)
        if rng.random() < 0.5:
            shapes.append(box(x - size, y - size, x + size, y + size))
        else:
            shapes.append(Point(x, y).buffer(size, 2))
    return shapes


def brute_nearest(
    shapes: list[Polygon], ranks: list[int], x: float, y: float
) -> tuple[int, float] | None:
    here = Point(x, y)
    near = [
        (shape.distance(here), rank, i)
        for i, (shape, rank) in enumerate(zip(shapes, ranks, strict=True))
        if shape.distance(here) <= MAX_DISTANCE
    ]
    return (min(near)[2], min(near)[0]) if near else None


def brute_smallest(shapes: list[Polygon], ranks: list[int], x: float, y: float) -> int | None:
    here = Point(x, y)
    hits = [
        (s.area, r, i)
        for i, (s, r) in enumerate(zip(shapes, ranks, strict=True))
        if s.intersects(here)
    ]
    return min(hits)[2] if hits else None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_answers_match_testing_every_shape(seed: int) -> None:
    shapes = squares(300, seed)
    ranks = list(range(len(shapes), 0, -1))
    index = ShapeIndex(shapes, ranks)
    rng = random.Random(seed)
    for _ in range(300):
        x, y = rng.uniform(-200, 3200), rng.uniform(-200, 3200)
        probe = Probe.at(x, y)
        assert index.smallest_containing(probe) == brute_smallest(shapes, ranks, x, y)
        assert index.nearest(probe, MAX_DISTANCE) == brute_nearest(shapes, ranks, x, y)


def test_a_group_only_sees_its_own_shapes() -> None:
    big, small = box(0, 0, 100, 100), box(40, 40, 60, 60)
    index = ShapeIndex([big, small], ranks=[1, 2], groups=[0, 1])
    inside = Probe.at(50, 50)
    assert index.smallest_containing(inside) == 1
    assert index.smallest_containing(inside, group=0) == 0
    assert index.nearest(Probe.at(130, 50), MAX_DISTANCE, group=1) == (1, 70.0)


def test_equal_areas_and_distances_go_to_the_lowest_rank() -> None:
    left, right = box(0, 0, 10, 10), box(20, 0, 30, 10)
    index = ShapeIndex([left, right], ranks=[9, 3])
    assert index.nearest(Probe.at(15, 5), MAX_DISTANCE) == (1, 5.0)
    twins = ShapeIndex([box(0, 0, 10, 10), box(0, 0, 10, 10)], ranks=[5, 4])
    assert twins.smallest_containing(Probe.at(5, 5)) == 1


def test_an_empty_index_answers_nothing() -> None:
    index = ShapeIndex([], ranks=[])
    assert len(index) == 0
    assert index.smallest_containing(Probe.at(0, 0)) is None
    assert index.nearest(Probe.at(0, 0), MAX_DISTANCE) is None
