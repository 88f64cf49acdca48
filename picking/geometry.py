"""The geometry of a warehouse of parallel aisles, in one block or several, and its walking metric.

Aisles 1..A stand at x = (aisle - 1) * pitch; a pick at bay b is at y = (b - 0.5) * bay width,
bay 1 at the front cross aisle (y = 0), the back cross aisle at y = bays * bay width. A middle
cross aisle after bay c runs at y = c * bay width and splits every aisle into blocks. Cross
aisles are walked along their centre lines; pickers walk only along aisles and cross aisles, and
start and end at the depot, on the front cross aisle at ``depot_aisle``.

- `Stop`, `Layout`: a pick's place and a warehouse's aisles (`Layout.of(warehouse)`);
  `location_stop`: the stop of an inventory location.
- `distance`: the shortest walk between two stops; `route_length`: the length of visiting stops
  in a given order by shortest walks (`path_length`: from a given stop); `location_order`: the
  stops in location-code order, as a list sorted by location is walked.

The routes themselves are built on this metric: exactly (picking.routing) and by heuristics
(picking.heuristics), which the router uses past a few blocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise


@dataclass(frozen=True)
class Stop:
    aisle: int
    bay: int
    key: object = None


@dataclass(frozen=True)
class Layout:
    bays: int
    aisle_pitch_m: float = 3.0
    bay_width_m: float = 1.0
    cross_aisles: tuple[int, ...] = ()  # a middle cross aisle after each of these bays
    depot_aisle: int = 1

    def __post_init__(self) -> None:
        if self.bays < 1 or self.aisle_pitch_m < 0 or self.bay_width_m < 0 or self.depot_aisle < 1:
            raise ValueError("the layout needs at least one bay, a depot aisle and a non-negative pitch and bay width")
        if list(self.cross_aisles) != sorted(set(self.cross_aisles)) or any(
            not 1 <= c < self.bays for c in self.cross_aisles
        ):
            raise ValueError(f"cross aisles must be increasing bay numbers between 1 and {self.bays - 1}")

    @property
    def blocks(self) -> int:
        return len(self.cross_aisles) + 1

    @cached_property
    def lines(self) -> tuple[float, ...]:
        """y of every cross aisle, front (index 0) to back (index ``blocks``)."""
        return (0.0, *(c * self.bay_width_m for c in self.cross_aisles), self.bays * self.bay_width_m)

    @cached_property
    def _block_of_bay(self) -> tuple[int, ...]:
        block, out = 0, [0]
        for bay in range(1, self.bays + 1):
            out.append(block)
            if block < len(self.cross_aisles) and bay == self.cross_aisles[block]:
                block += 1
        return tuple(out)

    @classmethod
    def of(cls, warehouse, *, stops=()) -> Layout:
        """The layout of a warehouse (inventory.Warehouse); a stop deeper than its recorded bays still fits."""
        return cls(
            bays=max([warehouse.bays or 1, *(s.bay for s in stops)]),
            aisle_pitch_m=float(warehouse.aisle_pitch_m),
            bay_width_m=float(warehouse.bay_width_m),
            cross_aisles=tuple(warehouse.cross_aisles or ()),
            depot_aisle=warehouse.depot_aisle or 1,
        )

    def block_of(self, bay: int) -> int:
        return self._block_of_bay[bay]

    def y(self, bay: int) -> float:
        return (bay - 0.5) * self.bay_width_m

    def x(self, aisle: int) -> float:
        return (aisle - 1) * self.aisle_pitch_m

    def check(self, stops) -> None:
        for stop in stops:
            if stop.aisle < 1 or not 1 <= stop.bay <= self.bays:
                raise ValueError(f"stop {stop.key!r} at aisle {stop.aisle}, bay {stop.bay} is outside the layout")


# -- the metric ------------------------------------------------------------------------------
#
# A point is (aisle, block, y); the depot is (depot_aisle, 0, 0.0). Within one aisle and block
# the walk is straight; otherwise it leaves the first point's block at one of its two cross
# aisles and enters the second's at one of its two, and between cross-aisle crossings the
# rectangular distance is always walkable (every aisle crosses every cross aisle).


def position(stop: Stop, layout: Layout) -> tuple[int, int, float]:
    return stop.aisle, layout.block_of(stop.bay), layout.y(stop.bay)


def depot_position(layout: Layout) -> tuple[int, int, float]:
    return layout.depot_aisle, 0, 0.0


def position_distance(p: tuple[int, int, float], q: tuple[int, int, float], layout: Layout) -> float:
    (a1, k1, y1), (a2, k2, y2) = p, q
    if a1 == a2 and k1 == k2:
        return abs(y1 - y2)
    lines = layout.lines
    across = abs(a1 - a2) * layout.aisle_pitch_m
    best = float("inf")
    for out in (lines[k1], lines[k1 + 1]):
        for into in (lines[k2], lines[k2 + 1]):
            best = min(best, abs(y1 - out) + across + abs(out - into) + abs(into - y2))
    return best


def distance(a: Stop, b: Stop, layout: Layout) -> float:
    """Shortest walk between two stops."""
    return position_distance(position(a, layout), position(b, layout), layout)


def route_length(ordered: list[Stop], layout: Layout) -> float:
    """Length of visiting the stops in the given order, from and back to the depot, by shortest walks."""
    layout.check(ordered)
    points = [depot_position(layout), *(position(s, layout) for s in ordered), depot_position(layout)]
    return sum(position_distance(p, q, layout) for p, q in pairwise(points))


def path_length(start: Stop | None, ordered: list[Stop], layout: Layout) -> float:
    """Length from ``start`` (None: the depot) through the stops in order and back to the depot."""
    layout.check(ordered)
    first = depot_position(layout) if start is None else position(start, layout)
    points = [first, *(position(s, layout) for s in ordered), depot_position(layout)]
    return sum(position_distance(p, q, layout) for p, q in pairwise(points))


# -- stops of locations and their order -----------------------------------------------------------


def location_order(stops: list[Stop]) -> list[Stop]:
    """The stops by location (aisle, then bay): how pick lists sorted by location code are walked."""
    return sorted(stops, key=lambda s: (s.aisle, s.bay))


def location_stop(location, *, key=None) -> Stop | None:
    """The stop of a location (its aisle and bay); None for a location off the grid (no aisle or bay)."""
    if location.aisle and location.bay:
        return Stop(aisle=location.aisle, bay=location.bay, key=key)
    return None
