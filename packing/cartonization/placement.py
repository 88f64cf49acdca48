"""Where units go inside one box: an extreme-point heuristic with every allowed rotation.

Extreme points (Crainic, Perboli and Tadei, 2008) are the corners a new unit may be put at: the
box's origin, then, for every unit placed, its three outer corners and their projections back
onto the walls or the faces of units already in the box. Each unit goes to the lowest, then
nearest point where one of its rotations fits (inside the box, overlapping nothing, resting on
the floor or on units below it, and keeping the rules). Of the rotations that fit there it takes
the one whose repeats would waste the least of the room beyond the point (so that like units
tile the box), or, as the second strategy, the flattest; several unit orders are tried.

Rules: an upright unit keeps its height vertical (two rotations instead of six); nothing rests
above a fragile unit (any unit whose footprint overlaps a fragile unit's sits below it).

Pure Python over tuples: it is the inner loop of box choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations

from packing.cartonization.specs import BoxSpec, Placement

# A unit resting on others needs this share of its base supported (no unit hangs in the air).
MIN_SUPPORT = 0.5


@dataclass(frozen=True)
class Unit:
    """One piece to place: its index in the caller's items, its size as given and its rules."""

    item: int
    length_mm: int
    width_mm: int
    height_mm: int
    weight_g: int
    upright: bool = False
    fragile: bool = False

    @property
    def volume_mm3(self) -> int:
        return self.length_mm * self.width_mm * self.height_mm

    def rotations(self) -> tuple[tuple[int, int, int], ...]:
        """The distinct (x, y, z) extents it may take; an upright unit keeps its height along z."""
        return _rotations(self.length_mm, self.width_mm, self.height_mm, self.upright)


_ROTATIONS: dict[tuple[int, int, int, bool], tuple[tuple[int, int, int], ...]] = {}


def _rotations(length: int, width: int, height: int, upright: bool) -> tuple[tuple[int, int, int], ...]:
    key = (length, width, height, upright)
    found = _ROTATIONS.get(key)
    if found is None:
        if upright:
            options = {(length, width, height), (width, length, height)}
        else:
            options = set(permutations((length, width, height)))
        # Flattest first (the preferred rotation at a point), then longest along x.
        found = tuple(sorted(options, key=lambda r: (r[2], -r[0], -r[1])))
        _ROTATIONS[key] = found
    return found


def fits_alone(unit: Unit, box: BoxSpec) -> bool:
    """Whether the unit fits the empty box in some allowed rotation and within its weight limit."""
    if unit.weight_g > box.max_weight_g:
        return False
    return any(
        length <= box.length_mm and width <= box.width_mm and height <= box.height_mm
        for length, width, height in unit.rotations()
    )


class BoxLoad:
    """A box being filled: the placed units as (x, y, z, x2, y2, z2, fragile) and the extreme points."""

    __slots__ = ("box", "tile", "placed", "placements", "units", "points", "weight_g", "volume_mm3")

    def __init__(self, box: BoxSpec, *, tile: bool = True):
        self.box = box
        # At a point, take the rotation that tiles the room beyond it best (tile) or the flattest.
        self.tile = tile
        self.placed: list[tuple[int, int, int, int, int, int, bool]] = []
        self.placements: list[Placement] = []
        self.units: list[Unit] = []  # in the order placed, one per placement
        self.points: list[tuple[int, int, int]] = [(0, 0, 0)]
        self.weight_g = 0
        self.volume_mm3 = 0

    def place(self, unit: Unit) -> bool:
        """Put the unit at the best extreme point; False (nothing changed) when it fits nowhere."""
        box = self.box
        if self.weight_g + unit.weight_g > box.max_weight_g:
            return False
        big_x, big_y, big_z = box.length_mm, box.width_mm, box.height_mm
        rotations = unit.rotations()
        for point in self.points:  # kept sorted: lowest, then nearest the back, then the left
            x, y, z = point
            best = None
            for length, width, height in rotations:
                x2, y2, z2 = x + length, y + width, z + height
                if x2 > big_x or y2 > big_y or z2 > big_z:
                    continue
                if self._blocked(x, y, z, x2, y2, z2, unit.fragile):
                    continue
                if not self.tile:
                    best = (x2, y2, z2)
                    break
                # The rotation whose repeats would waste the least of the room beyond this point.
                room_x, room_y, room_z = big_x - x, big_y - y, big_z - z
                waste = (  # a side of unknown (zero) size wastes nothing
                    (room_x % length if length else 0) * room_y * room_z
                    + (room_y % width if width else 0) * room_x * room_z
                    + (room_z % height if height else 0) * room_x * room_y
                )
                if best is None or waste < best[3]:
                    best = (x2, y2, z2, waste)
            if best is not None:
                self._commit(unit, x, y, z, best[0], best[1], best[2])
                return True
        return False

    def _blocked(self, x, y, z, x2, y2, z2, fragile: bool) -> bool:
        supported = 0
        base = (x2 - x) * (y2 - y)
        for px, py, pz, px2, py2, pz2, p_fragile in self.placed:
            if x >= px2 or px >= x2 or y >= py2 or py >= y2:
                continue  # footprints apart: no overlap, no stacking
            if z < pz2 and pz < z2:
                return True  # the two would overlap
            if pz2 <= z and p_fragile:
                return True  # it would rest above a fragile unit
            if fragile and pz >= z2:
                return True  # a fragile unit under one already placed
            if pz2 == z:
                supported += (min(x2, px2) - max(x, px)) * (min(y2, py2) - max(y, py))
        return z > 0 and supported < MIN_SUPPORT * base

    def _commit(self, unit: Unit, x, y, z, x2, y2, z2) -> None:
        self.placed.append((x, y, z, x2, y2, z2, unit.fragile))
        self.placements.append(Placement(unit.item, x, y, z, x2 - x, y2 - y, z2 - z))
        self.units.append(unit)
        self.weight_g += unit.weight_g
        self.volume_mm3 += unit.volume_mm3
        fresh = {
            (x2, self._project_y(x2, y, z), z),
            (x2, y, self._project_z(x2, y, z)),
            (self._project_x(x, y2, z), y2, z),
            (x, y2, self._project_z(x, y2, z)),
            (self._project_x(x, y, z2), y, z2),
            (x, self._project_y(x, y, z2), z2),
            (x2, y, z),
            (x, y2, z),
            (x, y, z2),
        }
        big_x, big_y, big_z = self.box.length_mm, self.box.width_mm, self.box.height_mm
        points = [
            p
            for p in self.points
            if not (x <= p[0] < x2 and y <= p[1] < y2 and z <= p[2] < z2)  # now inside the new unit
        ]
        known = set(points)
        for p in fresh:
            if p[0] < big_x and p[1] < big_y and p[2] < big_z and p not in known and not self._inside(p):
                points.append(p)
        points.sort(key=_point_order)
        self.points = points

    def _inside(self, p: tuple[int, int, int]) -> bool:
        px, py, pz = p
        return any(x <= px < x2 and y <= py < y2 and z <= pz < z2 for x, y, z, x2, y2, z2, _fragile in self.placed)

    # Projections: slide a point back along one axis until it meets a wall or a unit's face. One
    # method per axis, not one indexed by axis: this is the innermost loop, and the indexed form
    # made 12-unit orders about 1.4 times slower (p95 20 -> 30 ms on the bench's orders).
    def _project_x(self, x, y, z) -> int:
        best = 0
        for _px, py, pz, px2, py2, pz2, _f in self.placed:
            if px2 <= x and py <= y < py2 and pz <= z < pz2 and px2 > best:
                best = px2
        return best

    def _project_y(self, x, y, z) -> int:
        best = 0
        for px, _py, pz, px2, py2, pz2, _f in self.placed:
            if py2 <= y and px <= x < px2 and pz <= z < pz2 and py2 > best:
                best = py2
        return best

    def _project_z(self, x, y, z) -> int:
        best = 0
        for px, py, _pz, px2, py2, pz2, _f in self.placed:
            if pz2 <= z and px <= x < px2 and py <= y < py2 and pz2 > best:
                best = pz2
        return best


def _point_order(p: tuple[int, int, int]) -> tuple[int, int, int]:
    return (p[2], p[1], p[0])


# Orders in which to try a box's units: biggest first, then by height and by footprint; fragile
# units last in each, so that they end up on top.
def _by_volume(u: Unit):
    return (u.fragile, -u.volume_mm3, -max(u.length_mm, u.width_mm, u.height_mm), u.item)


def _by_footprint(u: Unit):
    dims = sorted((u.length_mm, u.width_mm, u.height_mm), reverse=True)
    return (u.fragile, -dims[0] * dims[1], -u.volume_mm3, u.item)


def _by_longest(u: Unit):
    dims = sorted((u.length_mm, u.width_mm, u.height_mm), reverse=True)
    return (u.fragile, -dims[0], -dims[1], -u.volume_mm3, u.item)


ORDERS = (_by_volume, _by_footprint, _by_longest)


# The strategies tried, in order: unit order and rotation choice.
STRATEGIES = tuple((order, tile) for tile in (True, False) for order in ORDERS)


def pack_all(box: BoxSpec, units: list[Unit]) -> BoxLoad | None:
    """The box with every unit placed, or None when no strategy finds a way."""
    if sum(u.weight_g for u in units) > box.max_weight_g:
        return None
    if sum(u.volume_mm3 for u in units) > box.volume_mm3:
        return None
    if not all(fits_alone(u, box) for u in units):
        return None
    tried: set[tuple] = set()
    for order, tile in STRATEGIES:
        ranked = sorted(units, key=order)
        signature = (tile, *(id(u) for u in ranked))
        if signature in tried:
            continue
        tried.add(signature)
        load = BoxLoad(box, tile=tile)
        if all(load.place(u) for u in ranked):
            return load
    return None


def pack_some(box: BoxSpec, units: list[Unit]) -> BoxLoad:
    """Fill the box from ``units`` (biggest first), skipping those that no longer fit; the better
    (more volume placed) of the two rotation choices."""
    best = None
    for tile in (True, False):
        load = BoxLoad(box, tile=tile)
        failed: set[tuple] = set()  # sizes that found no room since the last unit placed
        for unit in sorted(units, key=_by_volume):
            size = (unit.length_mm, unit.width_mm, unit.height_mm, unit.weight_g, unit.upright, unit.fragile)
            if size in failed:
                continue
            if load.place(unit):
                failed.clear()
            else:
                failed.add(size)
        if best is None or load.volume_mm3 > best.volume_mm3:
            best = load
        if len(best.units) == len(units):
            break
    return best
