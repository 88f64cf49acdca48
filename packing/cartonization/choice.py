"""Which boxes an order's units go into: the set of packages with the least billable weight, then
the least box cost.

Carriers charge the larger of a package's actual weight (contents and box) and its dimensional
weight (volume / DIM divisor), so a half-empty big box costs more than a full small one, and two
small boxes can cost less than one big one. The search:

1. Units that ship in their own container, and units that fit no box (too big or too heavy in
   every allowed rotation), ship alone with no box.
2. One box for everything: boxes in order of the billable weight they would have, then cost; the
   first the placement heuristic fills with every unit is the best single box.
3. Several boxes, when one box holds nothing or a split could weigh less (its lower bound, the
   contents' weight plus two tares, is under the single box's billable weight): a beam search
   that opens one box at a time, trying every box filled with as many of the remaining units as
   it takes, ranked by its billable weight plus a lower bound for what is left (the larger of the
   leftovers' weight plus the lightest tare and their volume's DIM weight). Each package of the
   best plans is then re-boxed into the lightest box that still takes its contents, and two
   packages are merged when one box holding both weighs less.

Poly mailers take only units marked poly_ok and never fragile ones; a unit's upright and fragile
rules are kept by the placement (placement.py).
"""

from __future__ import annotations

from decimal import Decimal

from packing.cartonization.placement import BoxLoad, Unit, fits_alone, pack_all, pack_some
from packing.cartonization.specs import (
    DEFAULT_DIM_DIVISOR,
    BoxSpec,
    ItemSpec,
    Placement,
    PlannedPackage,
    billable_weight_g,
    dim_weight_g,
)

BEAM_WIDTH = 3


def _takes(box: BoxSpec, item: ItemSpec) -> bool:
    """Whether the box's kind allows the item (poly mailers: soft goods only, never fragile)."""
    if box.kind == "poly":
        return item.poly_ok and not item.fragile
    return True


def cartonize(
    items: list[ItemSpec], boxes: list[BoxSpec], *, dim_divisor: int = DEFAULT_DIM_DIVISOR
) -> list[PlannedPackage]:
    """Plan the packages for ``items`` using ``boxes``: see the module docstring."""
    boxes = sorted(boxes, key=lambda b: (b.volume_mm3, b.max_weight_g, b.code))
    units: list[Unit] = []
    alone: list[Unit] = []
    allowed: dict[int, list[BoxSpec]] = {}  # item index -> the boxes its units may go into
    for index, item in enumerate(items):
        if item.quantity <= 0:
            continue
        shape = (item.length_mm, item.width_mm, item.height_mm, item.weight_g, item.upright, item.fragile)
        probe = Unit(index, *shape)
        options = [] if item.own_container else [b for b in boxes if _takes(b, item) and fits_alone(probe, b)]
        allowed[index] = options
        # One object per unit: the search tells units apart by identity.
        (units if options else alone).extend(Unit(index, *shape) for _ in range(item.quantity))
    search = _Search(boxes, allowed, dim_divisor)
    packages = search.plan(units) if units else []
    planned = [_planned(package, items, dim_divisor) for package in packages]
    planned.sort(key=lambda p: min(pl.item for pl in p.placements))
    planned.extend(_as_is(unit, items, dim_divisor) for unit in alone)
    return planned


# -- the search ----------------------------------------------------------------------------


class _Package:
    """A box with its load (the units placed in it) and its billable weight."""

    __slots__ = ("box", "load", "billable")

    def __init__(self, box: BoxSpec, load: BoxLoad, divisor: int):
        self.box = box
        self.load = load
        self.billable = billable_weight_g(box, load.weight_g, divisor)


class _Plan:
    """Packages chosen so far and the units still to pack."""

    __slots__ = ("packages", "left", "billable", "cost")

    def __init__(self, packages: list[_Package], left: list[Unit]):
        self.packages = packages
        self.left = left
        self.billable = sum(p.billable for p in packages)
        self.cost = sum((p.box.cost for p in packages), Decimal(0))

    def rank(self) -> tuple:
        return (self.billable, self.cost, len(self.packages))


class _Search:
    def __init__(self, boxes: list[BoxSpec], allowed: dict[int, list[BoxSpec]], divisor: int):
        self.boxes = boxes
        self.allowed = allowed
        self.divisor = divisor
        self.lightest_tare = min((b.tare_weight_g for b in boxes), default=0)

    def plan(self, units: list[Unit]) -> list[_Package]:
        best = None
        single = self.single_box(units)
        if single is not None:
            best = _Plan([single], [])
            if single.billable <= sum(u.weight_g for u in units) + 2 * self.lightest_tare:
                return best.packages  # no split can weigh less
        split = self.beam(units)
        if split is not None:
            split = self.improve(split)
            if best is None or split.rank() < best.rank():
                best = split
        return best.packages

    def common_boxes(self, units: list[Unit]) -> list[BoxSpec]:
        """The boxes every one of ``units`` may go into, smallest first."""
        kinds = {u.item for u in units}
        return [b for b in self.boxes if all(b in self.allowed[i] for i in kinds)]

    def single_box(self, units: list[Unit]) -> _Package | None:
        """The lightest (by billable weight, then cost) box the heuristic fills with all ``units``."""
        weight = sum(u.weight_g for u in units)
        volume = sum(u.volume_mm3 for u in units)
        ranked = sorted(
            (b for b in self.common_boxes(units) if b.volume_mm3 >= volume and b.max_weight_g >= weight),
            key=lambda b: (billable_weight_g(b, weight, self.divisor), b.cost, b.volume_mm3, b.code),
        )
        for box in ranked:
            load = pack_all(box, units)
            if load is not None:
                return _Package(box, load, self.divisor)
        return None

    def lower_bound(self, units: list[Unit]) -> int:
        """No set of boxes holding ``units`` weighs less: contents and a tare, or their DIM weight."""
        if not units:
            return 0
        weight = sum(u.weight_g for u in units) + self.lightest_tare
        return max(weight, -(-sum(u.volume_mm3 for u in units) // self.divisor))

    def beam(self, units: list[Unit]) -> _Plan | None:
        """Open one box at a time, keeping the BEAM_WIDTH most promising partial plans."""
        beam = [_Plan([], units)]
        done: list[_Plan] = []
        while beam:
            children: list[tuple[tuple, _Plan]] = []
            for plan in beam:
                seen: set[tuple] = set()
                for box in self.boxes:
                    fitting = [u for u in plan.left if box in self.allowed[u.item]]
                    if not fitting:
                        continue
                    load = pack_some(box, fitting)
                    if not load.units:
                        continue
                    placed = {id(u) for u in load.units}
                    left = [u for u in plan.left if id(u) not in placed]
                    signature = (box.code, tuple(sorted(id(u) for u in left)))
                    if signature in seen:
                        continue
                    seen.add(signature)
                    child = _Plan([*plan.packages, _Package(box, load, self.divisor)], left)
                    estimate = child.billable + self.lower_bound(left)
                    children.append(((estimate, -load.volume_mm3, child.cost, len(child.packages)), child))
            children.sort(key=lambda pair: pair[0])
            beam = []
            for _key, child in children:
                if not child.left:
                    done.append(child)
                elif len(beam) < BEAM_WIDTH:
                    beam.append(child)
            if done:
                # An open plan stays only while its bound is better than a finished one.
                best = min(p.billable for p in done)
                beam = [p for p in beam if p.billable + self.lower_bound(p.left) < best]
        return min(done, key=_Plan.rank) if done else None

    def improve(self, plan: _Plan) -> _Plan:
        """Re-box each package into its lightest box, then merge two while one box weighs less."""
        packages = [self.rebox(p) for p in plan.packages]
        merged = True
        while merged and len(packages) > 1:
            merged = False
            for i in range(len(packages)):
                for j in range(i + 1, len(packages)):
                    together = self.single_box(packages[i].load.units + packages[j].load.units)
                    if together is not None and together.billable < packages[i].billable + packages[j].billable:
                        packages[i] = together
                        del packages[j]
                        merged = True
                        break
                if merged:
                    break
        return _Plan(packages, [])

    def rebox(self, package: _Package) -> _Package:
        better = self.single_box(package.load.units)
        if better is not None and (better.billable, better.box.cost) < (package.billable, package.box.cost):
            return better
        return package


# -- results -------------------------------------------------------------------------------


def _planned(package: _Package, items: list[ItemSpec], divisor: int) -> PlannedPackage:
    box, load = package.box, package.load
    counts: dict[int, int] = {}
    for p in load.placements:
        counts[p.item] = counts.get(p.item, 0) + 1
    return PlannedPackage(
        box=box,
        items=[(items[i].sku, counts[i]) for i in sorted(counts)],
        weight_g=load.weight_g + box.tare_weight_g,
        length_mm=box.length_mm,
        width_mm=box.width_mm,
        height_mm=box.height_mm,
        placements=sorted(load.placements, key=lambda p: (p.z_mm, p.y_mm, p.x_mm)),
        dim_weight_g=dim_weight_g(box.length_mm, box.width_mm, box.height_mm, divisor),
        billable_weight_g=package.billable,
        fill_ratio=round(load.volume_mm3 / box.volume_mm3, 4),
    )


def _as_is(unit: Unit, items: list[ItemSpec], divisor: int) -> PlannedPackage:
    """A unit that ships alone in its own packaging: the package is the unit itself."""
    item = items[unit.item]
    length, width, height = item.dims
    dim = dim_weight_g(length, width, height, divisor)
    return PlannedPackage(
        box=None,
        items=[(item.sku, 1)],
        weight_g=item.weight_g,
        length_mm=length,
        width_mm=width,
        height_mm=height,
        placements=[Placement(unit.item, 0, 0, 0, length, width, height)],
        dim_weight_g=dim,
        billable_weight_g=max(item.weight_g, dim),
        fill_ratio=1.0,
    )
