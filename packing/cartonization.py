"""Cartonization: which boxes an order's units go into. Pure functions over plain data.

Rules (a unit = one piece of a SKU, with its dimensions and weight):

- A unit fits a box when its sorted dimensions fit the box's sorted inner dimensions (it may be
  turned any way) and its weight is within the box's ``max_weight_g``.
- Several units fit a box when each unit fits, their total weight is within ``max_weight_g`` and
  their total volume is at most the box volume times ``fill_factor`` (0.85 by default: the gaps
  between items). One unit alone only needs its dimensions to fit.
- If everything fits one box, the smallest such box (by volume) is used.
- Otherwise units are split greedily (first fit decreasing): largest units first, each into the
  first open package that some box can still hold it in, else into a new package; each package
  then gets the smallest box that holds its contents.
- A unit that fits no box at all (bigger or heavier than every box) ships on its own "as is",
  in its own packaging with a shipping label on it: a package with ``box=None`` and the unit's
  own dimensions and weight.
- Units with unknown (zero) dimensions count as taking no room.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_FILL_FACTOR = 0.85


@dataclass(frozen=True)
class ItemSpec:
    """A SKU of the order with the quantity to pack and the dimensions/weight of one unit."""

    sku: str
    quantity: int
    length_mm: int
    width_mm: int
    height_mm: int
    weight_g: int

    @property
    def dims(self) -> tuple[int, int, int]:
        return tuple(sorted((self.length_mm, self.width_mm, self.height_mm), reverse=True))

    @property
    def volume_mm3(self) -> int:
        return self.length_mm * self.width_mm * self.height_mm


@dataclass(frozen=True)
class BoxSpec:
    code: str
    length_mm: int
    width_mm: int
    height_mm: int
    max_weight_g: int
    tare_weight_g: int = 0

    @property
    def dims(self) -> tuple[int, int, int]:
        return tuple(sorted((self.length_mm, self.width_mm, self.height_mm), reverse=True))

    @property
    def volume_mm3(self) -> int:
        return self.length_mm * self.width_mm * self.height_mm


@dataclass
class PlannedPackage:
    """A box (or None: the unit ships as is) and its contents as [(sku, quantity)] in input order."""

    box: BoxSpec | None
    items: list[tuple[str, int]]
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int

    def items_json(self) -> list[dict]:
        return [{"sku": sku, "quantity": quantity} for sku, quantity in self.items]


@dataclass
class _Open:
    units: list[ItemSpec] = field(default_factory=list)
    volume: int = 0
    weight: int = 0
    # Boxes every unit so far fits into on its own (dimensions and weight).
    boxes: list[BoxSpec] = field(default_factory=list)


def unit_fits(item: ItemSpec, box: BoxSpec) -> bool:
    return all(i <= b for i, b in zip(item.dims, box.dims, strict=True)) and item.weight_g <= box.max_weight_g


def _contents_fit(box: BoxSpec, *, count: int, volume: int, weight: int, fill_factor: float) -> bool:
    if weight > box.max_weight_g:
        return False
    return count <= 1 or volume <= box.volume_mm3 * fill_factor


def _by_size(boxes: list[BoxSpec]) -> list[BoxSpec]:
    return sorted(boxes, key=lambda b: (b.volume_mm3, b.max_weight_g, b.code))


def smallest_box(units: list[ItemSpec], boxes: list[BoxSpec], *, fill_factor: float = DEFAULT_FILL_FACTOR):
    """The smallest box (by volume) that holds all ``units`` (one entry per unit), or None."""
    volume = sum(u.volume_mm3 for u in units)
    weight = sum(u.weight_g for u in units)
    for box in _by_size(boxes):
        if all(unit_fits(u, box) for u in units) and _contents_fit(
            box, count=len(units), volume=volume, weight=weight, fill_factor=fill_factor
        ):
            return box
    return None


def _package(box: BoxSpec | None, units: list[ItemSpec], order: dict[str, int]) -> PlannedPackage:
    counts: dict[str, int] = {}
    for unit in units:
        counts[unit.sku] = counts.get(unit.sku, 0) + 1
    items = sorted(counts.items(), key=lambda kv: order[kv[0]])
    content_weight = sum(u.weight_g for u in units)
    if box is None:
        (unit,) = units
        length, width, height = unit.dims
        return PlannedPackage(None, items, unit.weight_g, length, width, height)
    return PlannedPackage(box, items, content_weight + box.tare_weight_g, box.length_mm, box.width_mm, box.height_mm)


def cartonize(
    items: list[ItemSpec], boxes: list[BoxSpec], *, fill_factor: float = DEFAULT_FILL_FACTOR
) -> list[PlannedPackage]:
    """Plan the packages for ``items`` using ``boxes`` (see the module docstring for the rules)."""
    order = {}
    units: list[ItemSpec] = []
    for item in items:
        order.setdefault(item.sku, len(order))
        units.extend([item] * max(item.quantity, 0))
    if not units:
        return []
    boxes = _by_size(boxes)
    oversized = [u for u in units if not any(unit_fits(u, b) for b in boxes)]
    packable = [u for u in units if any(unit_fits(u, b) for b in boxes)]
    packages: list[PlannedPackage] = []
    if packable:
        box = smallest_box(packable, boxes, fill_factor=fill_factor)
        if box is not None:
            packages.append(_package(box, packable, order))
        else:
            packages.extend(_split(packable, boxes, order, fill_factor=fill_factor))
    packages.extend(_package(None, [u], order) for u in oversized)
    return packages


def _split(
    units: list[ItemSpec], boxes: list[BoxSpec], order: dict[str, int], *, fill_factor: float
) -> list[PlannedPackage]:
    """First fit decreasing: biggest units first, each into the first package that can still take it."""
    ranked = sorted(units, key=lambda u: (-u.volume_mm3, -u.weight_g, order[u.sku]))
    open_packages: list[_Open] = []
    for unit in ranked:
        fits_alone = [b for b in boxes if unit_fits(unit, b)]
        for candidate in open_packages:
            shared = [b for b in candidate.boxes if b in fits_alone]
            if any(
                _contents_fit(
                    b,
                    count=len(candidate.units) + 1,
                    volume=candidate.volume + unit.volume_mm3,
                    weight=candidate.weight + unit.weight_g,
                    fill_factor=fill_factor,
                )
                for b in shared
            ):
                candidate.units.append(unit)
                candidate.volume += unit.volume_mm3
                candidate.weight += unit.weight_g
                candidate.boxes = shared
                break
        else:
            open_packages.append(_Open([unit], unit.volume_mm3, unit.weight_g, fits_alone))
    planned = []
    for candidate in open_packages:
        box = smallest_box(candidate.units, candidate.boxes, fill_factor=fill_factor)
        planned.append(_package(box, candidate.units, order))
    return planned
