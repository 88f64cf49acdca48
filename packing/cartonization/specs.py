"""The plain data cartonization works on: units to pack, boxes, placements and planned packages.

Units are in millimetres and grams. A box's inner length runs along x, its width along y and its
height along z (up); a placement is where one unit sits and how far it reaches along each axis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

# Carriers' metric DIM divisor, 5000 cm³/kg, is 5000 mm³ per gram: dim weight g = volume mm³ / 5000.
DEFAULT_DIM_DIVISOR = 5000
MM3_PER_IN3 = 16387.064
G_PER_LB = 453.59237


def dim_divisor_mm3_per_g(divisor: int, unit: str = "metric") -> int:
    """A carrier's DIM divisor (cm³ per kg, or in³ per lb when ``unit`` is imperial) in mm³ per
    gram, the unit cartonization takes: cm³/kg already is (1000 mm³ per cm³, 1000 g per kg)."""
    if unit == "imperial":
        return round(divisor * MM3_PER_IN3 / G_PER_LB)
    return divisor


IMPERIAL_DIM_DIVISOR = dim_divisor_mm3_per_g(139, "imperial")  # 5022


class _Sized:
    """A unit's or a box's size: length, width and height in mm."""

    length_mm: int
    width_mm: int
    height_mm: int

    @property
    def dims(self) -> tuple[int, int, int]:
        """Longest side first."""
        return tuple(sorted((self.length_mm, self.width_mm, self.height_mm), reverse=True))

    @property
    def volume_mm3(self) -> int:
        return self.length_mm * self.width_mm * self.height_mm


@dataclass(frozen=True)
class ItemSpec(_Sized):
    """A SKU line: ``quantity`` units of one size and weight, with the product's packing rules."""

    sku: str
    quantity: int
    length_mm: int
    width_mm: int
    height_mm: int
    weight_g: int
    own_container: bool = False  # ships alone in its own packaging, no box
    upright: bool = False  # its height stays vertical
    fragile: bool = False  # nothing rests above it; never in a poly mailer
    poly_ok: bool = False  # soft goods that may go into a poly mailer


@dataclass(frozen=True)
class BoxSpec(_Sized):
    code: str
    length_mm: int
    width_mm: int
    height_mm: int
    max_weight_g: int
    tare_weight_g: int = 0
    kind: str = "box"  # box | mailer | poly
    cost: Decimal = Decimal(0)


@dataclass(frozen=True)
class Placement:
    """One unit in its box: ``item`` indexes the items given to cartonize; the corner nearest the
    box's origin and the unit's extent along the box's length (x), width (y) and height (z)."""

    item: int
    x_mm: int
    y_mm: int
    z_mm: int
    length_mm: int
    width_mm: int
    height_mm: int


@dataclass
class PlannedPackage:
    """A box (None: the unit ships as is, in its own packaging) with its contents and placements.

    ``items`` is [(sku, quantity)] in the input's order; ``weight_g`` is contents plus tare; the
    outer size is the box's (or the unit's); billable weight is the larger of actual and DIM weight.
    """

    box: BoxSpec | None
    items: list[tuple[str, int]]
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int
    placements: list[Placement] = field(default_factory=list)
    dim_weight_g: int = 0
    billable_weight_g: int = 0
    fill_ratio: float = 0.0

    def items_json(self) -> list[dict]:
        return [{"sku": sku, "quantity": quantity} for sku, quantity in self.items]


def dim_weight_g(length_mm: int, width_mm: int, height_mm: int, divisor: int = DEFAULT_DIM_DIVISOR) -> int:
    """Dimensional weight in grams, rounded up (carriers round up)."""
    return -(-(length_mm * width_mm * height_mm) // divisor)


def billable_weight_g(box: BoxSpec, contents_g: int, divisor: int = DEFAULT_DIM_DIVISOR) -> int:
    return max(contents_g + box.tare_weight_g, dim_weight_g(box.length_mm, box.width_mm, box.height_mm, divisor))
