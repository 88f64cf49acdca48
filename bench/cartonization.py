"""Cartonization benchmark: our 3D cartonization against py3dbp and a volume-only bound.

    .venv/bin/python bench/cartonization.py [--seed 42] [--orders 1000]

Pure Python, no database. ``make bench`` installs py3dbp first (the ``bench`` extra).

- Orders (seeded): 1-12 units each (the count uniform), drawn from a generated catalog of 200
  products made from the templates below (apparel, books, boxed goods, flat items, small
  electronics, mugs; each dimension jittered by up to 15%, the weight with the volume); after the
  first unit, a unit repeats a SKU already in the order one time in three. Every unit fits the
  largest carton. Six cartons from 200x150x100 to 800x600x500 mm (``CARTONS``).
- For each order, in the same run: ours (``packing.cartonization.cartonize``, through ``ours``),
  py3dbp driven as a user would (``py3dbp_pack``: while units remain, the smallest carton that
  takes all of them, else the one packing the most item volume), with bigger_first=True ("py3dbp",
  the goals' baseline) and with its default bigger_first=False, and the volume-only bound
  (``volume_bound``: the cheapest set of at most four cartons whose volume and weight limits
  could hold the units, ignoring geometry).
- Every package of ours and of py3dbp goes through the same validator, written here
  (``problems``): each unit of the order exactly once, each placed as a rotation of itself,
  inside its carton, no two overlapping, the contents within the carton's weight limit. Units
  resting on nothing, or on less than half their base, are counted too (z up), as information.
- Billable weight per package: max(contents + tare, ceil(L x W x H / 5,000)) in grams, L x W x H
  the carton's inner dimensions in mm (the carrier's outer dimensions are not modelled); a unit
  shipping alone in its own packaging by its own dimensions and weight.
- Goals (the issue's): 0 invalid placements; mean fill (item volume / carton volume, per package
  in a carton) at least 65%; billable weight at most 0.75 of py3dbp's; p95 under 50 ms for 12
  units. Exit status 0 either way: this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import math
import os
import platform
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import timed  # noqa: E402

from packing.cartonization import BoxSpec, ItemSpec, cartonize  # noqa: E402

DIM_DIVISOR = 5000  # mm3 per gram (5,000 cm3/kg): dim weight g = ceil(L x W x H mm3 / 5,000)
BOUND_MAX_CARTONS = 4
GOAL_FILL = 0.65
GOAL_BILLABLE_RATIO = 0.75
GOAL_P95_12_MS = 50.0
SUPPORTED_SHARE = 0.5  # a unit above the floor with less of its base than this on other units


class Carton(NamedTuple):
    code: str
    length_mm: int
    width_mm: int
    height_mm: int
    max_weight_g: int
    tare_g: int
    cost: Decimal

    @property
    def volume(self) -> int:
        return self.length_mm * self.width_mm * self.height_mm

    @property
    def dim_weight_g(self) -> int:
        return -(-self.volume // DIM_DIVISOR)


CARTONS = (
    Carton("C1", 200, 150, 100, 5_000, 100, Decimal("0.30")),
    Carton("C2", 300, 200, 150, 10_000, 180, Decimal("0.45")),
    Carton("C3", 400, 300, 200, 15_000, 320, Decimal("0.75")),
    Carton("C4", 500, 400, 300, 20_000, 520, Decimal("1.20")),
    Carton("C5", 600, 400, 400, 25_000, 700, Decimal("1.70")),
    Carton("C6", 800, 600, 500, 30_000, 1_150, Decimal("2.80")),
)

# (category, template, (length, width, height) mm, weight g, share of the catalog)
TEMPLATES = (
    ("apparel", "t-shirt", (280, 220, 25), 200, 0.10),
    ("apparel", "hoodie", (330, 280, 70), 650, 0.08),
    ("apparel", "jeans", (350, 280, 50), 750, 0.07),
    ("apparel", "socks", (200, 100, 40), 120, 0.05),
    ("books", "paperback", (198, 129, 22), 280, 0.08),
    ("books", "hardcover", (240, 165, 35), 750, 0.05),
    ("books", "coffee-table book", (310, 240, 30), 1_400, 0.02),
    ("boxes", "shoe box", (330, 210, 120), 1_000, 0.06),
    ("boxes", "toy box", (250, 200, 100), 600, 0.05),
    ("boxes", "cosmetics box", (120, 80, 60), 200, 0.04),
    ("flat", "calendar", (300, 220, 8), 250, 0.05),
    ("flat", "poster folder", (420, 300, 6), 300, 0.02),
    ("flat", "picture frame", (350, 270, 25), 900, 0.03),
    ("electronics", "phone", (170, 90, 60), 400, 0.06),
    ("electronics", "headphones", (220, 190, 90), 500, 0.05),
    ("electronics", "charger", (110, 70, 40), 150, 0.05),
    ("electronics", "router", (250, 180, 60), 650, 0.04),
    ("mugs", "mug", (125, 125, 110), 420, 0.10),
)
CATALOG_SIZE = 200
REPEAT_SKU = 1 / 3


class Line(NamedTuple):
    """An order line: ``quantity`` units of one SKU, each ``length x width x height`` mm."""

    sku: str
    quantity: int
    length_mm: int
    width_mm: int
    height_mm: int
    weight_g: int

    @property
    def dims(self) -> tuple[int, int, int]:
        return self.length_mm, self.width_mm, self.height_mm

    @property
    def volume(self) -> int:
        return self.length_mm * self.width_mm * self.height_mm


Placed = tuple[int, int, int, int, int, int, int]  # (line index, x, y, z, length, width, height) mm


class Packed(NamedTuple):
    """A package as plain data: the carton's code (None: the unit ships alone in its own packaging),
    its (sku, quantity) list and its units; x along the carton's length, y its width, z up its
    height. ``reported_billable_g``: the packer's own billable weight, when it gives one (ours)."""

    box: str | None
    items: tuple[tuple[str, int], ...]
    placements: tuple[Placed, ...]
    reported_billable_g: int | None = None


# -- orders -----------------------------------------------------------------------------------


def catalog(rng: random.Random) -> list[Line]:
    """CATALOG_SIZE products (as lines of quantity 1) from the templates."""
    products = []
    shares = [t[4] for t in TEMPLATES]
    for n in range(1, CATALOG_SIZE + 1):
        _category, name, dims, weight, _share = rng.choices(TEMPLATES, weights=shares)[0]
        jittered = tuple(max(1, round(d * rng.uniform(0.85, 1.15))) for d in dims)
        ratio = math.prod(jittered) / math.prod(dims)
        grams = max(1, round(weight * ratio * rng.uniform(0.9, 1.1)))
        products.append(Line(f"P{n:03d}-{name.replace(' ', '-')}", 1, *jittered, grams))
    return products


def make_orders(count: int, seed: int) -> list[list[Line]]:
    rng = random.Random(seed)
    products = catalog(rng)
    biggest = sorted((CARTONS[-1].length_mm, CARTONS[-1].width_mm, CARTONS[-1].height_mm))
    assert all(  # the generator's promise: every unit fits the largest carton
        all(a <= b for a, b in zip(sorted(p.dims), biggest, strict=True)) and p.weight_g <= CARTONS[-1].max_weight_g
        for p in products
    )
    orders = []
    for _ in range(count):
        units: Counter[str] = Counter()
        by_sku = {}
        for _unit in range(rng.randint(1, 12)):
            if units and rng.random() < REPEAT_SKU:
                sku = rng.choice(list(units))
            else:
                product = rng.choice(products)
                sku = product.sku
                by_sku[sku] = product
            units[sku] += 1
        orders.append([by_sku[sku]._replace(quantity=q) for sku, q in units.items()])
    return orders


def units_of(order: list[Line]) -> int:
    return sum(line.quantity for line in order)


# -- ours: the engine, imported when it is there -------------------------------------------------


def ours(order: list[Line], boxes: tuple[Carton, ...]) -> list[Packed]:
    """Our engine on one order, its packages as plain tuples (a unit shipping alone has its one
    placement at the origin, in its own size)."""
    items = [ItemSpec(line.sku, line.quantity, *line.dims, line.weight_g) for line in order]
    specs = [
        BoxSpec(c.code, c.length_mm, c.width_mm, c.height_mm, c.max_weight_g, tare_weight_g=c.tare_g, cost=c.cost)
        for c in boxes
    ]
    packages = []
    for package in cartonize(items, specs, dim_divisor=DIM_DIVISOR):
        placements = tuple(
            (p.item, p.x_mm, p.y_mm, p.z_mm, p.length_mm, p.width_mm, p.height_mm) for p in package.placements
        )
        code = package.box.code if package.box is not None else None
        packages.append(Packed(code, tuple(package.items), placements, package.billable_weight_g))
    return packages


# -- py3dbp, driven as a user would ------------------------------------------------------------
#
# py3dbp 1.1.2 (py3dbp/main.py): Bin(name, width, height, depth, max_weight) and Item(name, width,
# height, depth, weight); Packer.pack() sorts the bins and the items by volume (ascending unless
# bigger_first), then puts every item into every bin in turn (distribute_items=True removes the
# items a bin took before the next bin). An item goes at the origin of an empty bin, else at a
# pivot next to a placed item (its x + w, y + h or z + d corner, axis by axis, items in placing
# order); at each pivot only the first of the six rotations that lies inside the bin is tried
# against overlap and weight. Positions and rotated dimensions are Decimals (number_of_decimals=0:
# whole millimetres and grams). Items are mutated in place (position, rotation_type), so one
# Packer with one Bin and fresh Items per attempt: with several bins in one Packer and
# distribute_items=False, a later bin overwrites the position of an item an earlier bin holds.
# Axes here: py3dbp's width along the carton's length (x), its depth along the width (y), its
# height up (z); py3dbp itself has no gravity.


def _py3dbp_attempt(carton: Carton, remaining: list[int], order: list[Line], *, bigger_first: bool):
    """py3dbp's packing of the units ``remaining`` (line indices) into one ``carton``:
    [(position in remaining, placement)]."""
    from py3dbp import Bin, Item, Packer

    packer = Packer()
    box = Bin(carton.code, carton.length_mm, carton.height_mm, carton.width_mm, carton.max_weight_g)
    packer.add_bin(box)
    for k, index in enumerate(remaining):
        line = order[index]
        packer.add_item(Item(str(k), line.length_mm, line.height_mm, line.width_mm, line.weight_g))
    packer.pack(bigger_first=bigger_first, number_of_decimals=0)
    placed = []
    for item in box.items:
        k = int(item.name)
        x, z, y = (int(v) for v in item.position)
        length, height, width = (int(v) for v in item.get_dimension())
        placed.append((k, (remaining[k], x, y, z, length, width, height)))
    return placed


def _items(order: list[Line], placements: list[Placed]) -> tuple[tuple[str, int], ...]:
    counts = Counter(p[0] for p in placements)
    return tuple((order[i].sku, counts[i]) for i in sorted(counts))


def py3dbp_pack(order: list[Line], boxes: tuple[Carton, ...], *, bigger_first: bool = True) -> list[Packed]:
    """While units remain: try each carton smallest first with all of them and take the first that
    packs them all; else the carton that packs the most item volume (the smaller one on a tie);
    remove the packed units. A unit no carton takes ships alone in its own packaging."""
    remaining = [i for i, line in enumerate(order) for _ in range(line.quantity)]
    packages = []
    by_size = sorted(boxes, key=lambda c: (c.volume, c.max_weight_g))
    while remaining:
        best, best_volume = None, 0
        for carton in by_size:
            placed = _py3dbp_attempt(carton, remaining, order, bigger_first=bigger_first)
            volume = sum(order[p[0]].volume for _k, p in placed)
            if len(placed) == len(remaining):
                best = (carton, placed)
                break
            if volume > best_volume:
                best, best_volume = (carton, placed), volume
        if best is None:  # no carton takes any remaining unit: each ships as it is
            for index in remaining:
                line = order[index]
                packages.append(Packed(None, ((line.sku, 1),), ((index, 0, 0, 0, *line.dims),)))
            break
        carton, placed = best
        placements = [p for _k, p in placed]
        packages.append(Packed(carton.code, _items(order, placements), tuple(placements)))
        taken = {k for k, _p in placed}
        remaining = [index for k, index in enumerate(remaining) if k not in taken]
    return packages


# -- the volume-only bound ----------------------------------------------------------------------


def _fits(line: Line, carton: Carton) -> bool:
    box = sorted((carton.length_mm, carton.width_mm, carton.height_mm))
    return all(a <= b for a, b in zip(sorted(line.dims), box, strict=True)) and line.weight_g <= carton.max_weight_g


def _fluid_billable(cartons: tuple[Carton, ...], weight_g: int) -> int:
    """The least total billable weight of ``cartons`` holding ``weight_g`` of contents split at will:
    each carton bills at least max(tare, dim weight), and takes contents free of charge up to its dim
    weight less its tare (within its weight limit); the rest bills gram for gram."""
    base = sum(max(c.tare_g, c.dim_weight_g) for c in cartons)
    free = sum(min(c.max_weight_g, max(0, c.dim_weight_g - c.tare_g)) for c in cartons)
    return base + max(0, weight_g - free)


class Bound(NamedTuple):
    cartons: tuple[Carton, ...]
    billable_g: int
    cost: Decimal


def volume_bound(order: list[Line], boxes: tuple[Carton, ...]) -> Bound | None:
    """The cheapest multiset of at most BOUND_MAX_CARTONS cartons (least billable weight, then cost,
    then fewest cartons) whose total volume is at least the units' volume, whose total weight limit
    is at least their weight, and in which every unit fits (turned any way) at least one carton of
    the set; the billable weight with the contents' weight split as a fluid (``_fluid_billable``).
    None when no such set exists (it does for every generated order)."""
    volume = sum(line.volume * line.quantity for line in order)
    weight = sum(line.weight_g * line.quantity for line in order)
    best: tuple | None = None
    for count in range(1, BOUND_MAX_CARTONS + 1):
        for chosen in itertools.combinations_with_replacement(boxes, count):
            if sum(c.volume for c in chosen) < volume or sum(c.max_weight_g for c in chosen) < weight:
                continue
            if not all(any(_fits(line, c) for c in chosen) for line in order):
                continue
            key = (_fluid_billable(chosen, weight), sum((c.cost for c in chosen), Decimal(0)), count)
            if best is None or key < best[0]:
                best = (key, chosen)
    if best is None:
        return None
    (billable, cost, _count), chosen = best
    return Bound(chosen, billable, cost)


# -- the validator, independent of any packer ---------------------------------------------------


def problems(order: list[Line], packages: list[Packed], cartons: dict[str, Carton]) -> list[tuple[int | None, str]]:
    """Everything wrong with ``packages`` as a packing of ``order``, as (package index, or None for
    the order, what): unknown carton, a unit that is not a rotation of its line's unit, outside its
    carton, overlapping another (their interiors meet), a carton over its weight limit, an (sku,
    quantity) list that disagrees with the placements, and any unit of the order placed other than
    exactly once."""
    found: list[tuple[int | None, str]] = []
    seen: Counter[int] = Counter()
    for n, package in enumerate(packages):
        carton = cartons.get(package.box) if package.box is not None else None
        if package.box is not None and carton is None:
            found.append((n, f"package {n}: unknown carton {package.box!r}"))
        if package.box is None and len(package.placements) != 1:
            found.append((n, f"package {n}: {len(package.placements)} units in their own packaging (one expected)"))
        weight = 0
        valid = []
        for placed in package.placements:
            index, x, y, z, length, width, height = placed
            if not 0 <= index < len(order):
                found.append((n, f"package {n}: unit of line {index}, which the order does not have"))
                continue
            line = order[index]
            seen[index] += 1
            weight += line.weight_g
            if sorted((length, width, height)) != sorted(line.dims):
                found.append(
                    (n, f"package {n}: {line.sku} placed {length}x{width}x{height}, not a rotation of {line.dims}")
                )
            if carton is not None and not (
                min(x, y, z) >= 0
                and x + length <= carton.length_mm
                and y + width <= carton.width_mm
                and z + height <= carton.height_mm
            ):
                found.append(
                    (n, f"package {n}: {line.sku} at ({x}, {y}, {z}) +{length}x{width}x{height} outside {carton}")
                )
            valid.append(placed)
        if carton is not None:
            for a, b in itertools.combinations(valid, 2):
                if all(a[1 + k] < b[1 + k] + b[4 + k] and b[1 + k] < a[1 + k] + a[4 + k] for k in range(3)):
                    found.append(
                        (n, f"package {n}: {order[a[0]].sku} and {order[b[0]].sku} overlap ({a[1:]} and {b[1:]})")
                    )
            if weight > carton.max_weight_g:
                found.append(
                    (n, f"package {n}: contents {weight} g over the limit of {carton.code} ({carton.max_weight_g} g)")
                )
        listed = Counter()
        for sku, quantity in package.items:
            listed[sku] += quantity
        if listed != Counter(order[p[0]].sku for p in valid):
            found.append((n, f"package {n}: its items {package.items} disagree with its placements"))
    for index, line in enumerate(order):
        if seen[index] != line.quantity:
            found.append((None, f"{line.sku}: {seen[index]} units placed, the order has {line.quantity}"))
    return found


def unsupported(package: Packed) -> tuple[int, int]:
    """(units above the floor with nothing under them, units with less than SUPPORTED_SHARE of their
    base on other units), with z up. Not a validity rule (the issue's goals do not ask for it)."""
    floating = partly = 0
    for a in package.placements:
        _i, x, y, z, length, width, _h = a
        if z == 0:
            continue
        area = 0
        for b in package.placements:
            if b is not a and b[3] + b[6] == z:
                dx = min(x + length, b[1] + b[4]) - max(x, b[1])
                dy = min(y + width, b[2] + b[5]) - max(y, b[2])
                area += max(0, dx) * max(0, dy)
        if area == 0:
            floating += 1
        elif area < SUPPORTED_SHARE * length * width:
            partly += 1
    return floating, partly


# -- figures ------------------------------------------------------------------------------------


def billable_g(order: list[Line], package: Packed, cartons: dict[str, Carton]) -> int:
    """max(contents + tare, ceil(L x W x H / DIM_DIVISOR)), the carton's inner dimensions; a unit in
    its own packaging by its own."""
    contents = sum(order[p[0]].weight_g for p in package.placements)
    if package.box is None:
        volume = sum(p[4] * p[5] * p[6] for p in package.placements)
        return max(contents, -(-volume // DIM_DIVISOR))
    carton = cartons[package.box]
    return max(contents + carton.tare_g, carton.dim_weight_g)


class Tally:
    """What one packer did over all orders."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.packages = self.boxed = self.own = self.invalid_packages = self.invalid_orders = 0
        self.billable = self.mismatched_billable = self.floating = self.partly = 0
        self.cost = Decimal(0)
        self.fills: list[float] = []
        self.tight_fills: list[float] = []  # each package's contents in the smallest carton by volume
        self.item_volume = self.box_volume = 0
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.wall_by_units: dict[int, list[float]] = {}
        self.cpu_by_units: dict[int, list[float]] = {}
        self.examples: list[str] = []
        self.usage: Counter[str] = Counter()

    def add(self, order: list[Line], packages: list[Packed], wall: float, cpu: float, cartons: dict[str, Carton]):
        self.wall.append(wall)
        self.cpu.append(cpu)
        self.wall_by_units.setdefault(units_of(order), []).append(wall)
        self.cpu_by_units.setdefault(units_of(order), []).append(cpu)
        found = problems(order, packages, cartons)
        if found:
            self.invalid_orders += 1
            self.examples.extend(message for _n, message in found[: max(0, 3 - len(self.examples))])
        self.invalid_packages += len({n for n, _message in found if n is not None})
        for package in packages:
            self.packages += 1
            bill = billable_g(order, package, cartons)
            self.billable += bill
            if package.reported_billable_g is not None and package.reported_billable_g != bill:
                self.mismatched_billable += 1
            floating, partly = unsupported(package)
            self.floating += floating
            self.partly += partly
            if package.box is None:
                self.own += 1
                self.usage["own packaging"] += 1
                continue
            carton = cartons.get(package.box)
            if carton is None:
                continue
            self.boxed += 1
            self.usage[carton.code] += 1
            self.cost += carton.cost
            volume = sum(p[4] * p[5] * p[6] for p in package.placements)
            self.item_volume += volume
            self.box_volume += carton.volume
            self.fills.append(volume / carton.volume)
            lines = [order[p[0]] for p in package.placements]
            tight = [c.volume for c in cartons.values() if c.volume >= volume and all(_fits(u, c) for u in lines)]
            self.tight_fills.append(volume / min(tight) if tight else volume / carton.volume)


def percentiles_ms(seconds: list[float]) -> tuple[float, float, float]:
    if not seconds:
        return math.nan, math.nan, math.nan
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered) * 1000, p95 * 1000, ordered[-1] * 1000


def times(values: list[float]) -> str:
    return "{:.2f} / {:.2f} / {:.2f}".format(*percentiles_ms(values))


def run(
    orders: list[list[Line]], packers: dict[str, Callable[[list[Line], tuple[Carton, ...]], list[Packed]]]
) -> tuple[dict[str, Tally], list[Bound | None]]:
    """Every packer on every order, one order at a time (so a busy moment of the shared machine
    falls on all of them), and the bound of each order."""
    cartons = {c.code: c for c in CARTONS}
    tallies = {name: Tally(name) for name in packers}
    bounds = []
    for order in orders:
        for name, packer in packers.items():
            packages, wall, cpu = timed(packer, order, CARTONS)
            tallies[name].add(order, packages, wall, cpu, cartons)
        bounds.append(volume_bound(order, CARTONS))
    return tallies, bounds


def kg(grams: int) -> str:
    return f"{grams / 1000:,.1f}"


def report(orders: list[list[Line]], tallies: dict[str, Tally], bounds: list[Bound | None]):
    found_bounds = [b for b in bounds if b is not None]
    bound_total = sum(b.billable_g for b in found_bounds)
    bound_volume = sum(sum(c.volume for c in b.cartons) for b in found_bounds)
    item_volume = sum(line.volume * line.quantity for order in orders for line in order)
    # the bound's cartons of one order share its volume: each counts the order's item volume / theirs
    bound_fills = [
        sum(line.volume * line.quantity for line in order) / sum(c.volume for c in b.cartons)
        for order, b in zip(orders, bounds, strict=True)
        if b is not None
        for _carton in b.cartons
    ]
    columns = [*tallies, "volume-only bound"]
    width = 22
    print(f"\n  {'':<44}" + "".join(f"{c:>{width}}" for c in columns))

    def row(label: str, values: list[str]) -> None:
        print(f"  {label:<44}" + "".join(f"{v:>{width}}" for v in values))

    def each(figure: Callable[[Tally], str], bound: str = "-") -> list[str]:
        return [figure(t) for t in tallies.values()] + [bound]

    row("packages (own packaging)", each(lambda t: f"{t.packages} ({t.own})", str(len(bound_fills))))
    row("orders packed invalidly (packages)", each(lambda t: f"{t.invalid_orders} ({t.invalid_packages})"))
    row("units with nothing under them", each(lambda t: str(t.floating)))
    row(f"units with < {SUPPORTED_SHARE:.0%} of their base on others", each(lambda t: str(t.partly)))
    row(
        "mean fill per package in a carton",
        each(lambda t: f"{statistics.fmean(t.fills):.1%}" if t.fills else "-", f"{statistics.fmean(bound_fills):.1%}"),
    )
    row(
        "item volume / carton volume, all orders",
        each(
            lambda t: f"{t.item_volume / t.box_volume:.1%}" if t.box_volume else "-",
            f"{item_volume / bound_volume:.1%}",
        ),
    )
    row(
        "mean fill, each package's smallest carton",
        each(lambda t: f"{statistics.fmean(t.tight_fills):.1%}" if t.tight_fills else "-"),
    )
    row("billable weight kg", each(lambda t: kg(t.billable), kg(bound_total)))
    row("  / the volume-only bound", each(lambda t: f"{t.billable / bound_total:.3f}", "1.000"))
    row("carton cost", each(lambda t: f"{t.cost:,.2f}", f"{sum(b.cost for b in found_bounds):,.2f}"))
    row("wall ms per order p50 / p95 / max", each(lambda t: times(t.wall)))
    row("CPU ms per order p50 / p95 / max", each(lambda t: times(t.cpu)))
    row("wall ms, 12-unit orders p50 / p95 / max", each(lambda t: times(t.wall_by_units.get(12, []))))
    bound_usage = Counter(c.code for b in found_bounds for c in b.cartons)
    print("\n  cartons used: " + "".join(f"{c.code:>8}" for c in CARTONS) + f"{'own':>8}")
    for name, tally in [*tallies.items(), ("bound", None)]:
        usage = tally.usage if tally is not None else bound_usage
        cells = "".join(f"{usage.get(c.code, 0):>8}" for c in CARTONS) + f"{usage.get('own packaging', 0):>8}"
        print(f"  {name:<14}{cells}")
    for tally in tallies.values():
        if tally.mismatched_billable:
            print(
                f"  {tally.name}: {tally.mismatched_billable} packages report a billable weight other than the bench's"
            )
        for example in tally.examples:
            print(f"  {tally.name}, e.g.: {example}")
    if len(bounds) != len(found_bounds):
        print(f"  {len(bounds) - len(found_bounds)} orders have no bound of <= {BOUND_MAX_CARTONS} cartons (left out)")

    print(
        "\n  wall ms p95 by units per order:\n  " + f"{'units':>5}{'orders':>8}" + "".join(f"{n:>16}" for n in tallies)
    )
    for units in range(1, 13):
        counts = len(next(iter(tallies.values())).wall_by_units.get(units, []))
        cells = "".join(f"{percentiles_ms(t.wall_by_units.get(units, []))[1]:>16.2f}" for t in tallies.values())
        print(f"  {units:>5}{counts:>8}{cells}")

    baseline = tallies["py3dbp"]
    best = bound_total / baseline.billable
    print(f"\n  The least any packer could bill, the volume-only bound, is {best:.3f} of py3dbp's billable weight.")
    print("\nGoals (ours; against py3dbp with bigger_first=True, the better of its two orders)")
    mine = tallies["ours"]
    goal_line(
        "0 invalid placements",
        mine.invalid_orders == 0,
        f"{mine.invalid_orders} orders packed invalidly ({mine.invalid_packages} packages)",
        "; ".join(mine.examples),
    )
    fill = statistics.fmean(mine.fills) if mine.fills else 0.0
    tight = statistics.fmean(mine.tight_fills) if mine.tight_fills else 0.0
    goal_line(
        f"mean fill >= {GOAL_FILL:.0%}",
        fill >= GOAL_FILL,
        f"{fill:.1%}, {(fill - GOAL_FILL) * 100:+.1f} points",
        f"the same packages, each in the smallest carton their units' volume and sizes allow, would fill "
        f"{tight:.1%}: {(tight - fill) * 100:.1f} points are the cartons chosen, {(GOAL_FILL - tight) * 100:.1f} the "
        f"packages' contents against the six carton sizes; the volume-only bound's cartons fill "
        f"{statistics.fmean(bound_fills):.1%}",
    )
    ratio = mine.billable / baseline.billable
    goal_line(
        f"billable weight <= {GOAL_BILLABLE_RATIO} x py3dbp's",
        ratio <= GOAL_BILLABLE_RATIO,
        f"{ratio:.3f} of py3dbp's, {ratio - GOAL_BILLABLE_RATIO:+.3f}",
        f"ours is {mine.billable / bound_total:.3f} of the volume-only bound, which is {best:.3f} of py3dbp's"
        + (": no packer can reach the goal on these orders" if best > GOAL_BILLABLE_RATIO else ""),
    )
    p95 = percentiles_ms(mine.wall_by_units.get(12, []))[1]
    goal_line(
        f"p95 < {GOAL_P95_12_MS:.0f} ms for 12 units",
        p95 < GOAL_P95_12_MS,
        f"{p95:.2f} ms ({p95 / GOAL_P95_12_MS:.2f} of the goal)",
        f"CPU p95 of 12-unit orders {percentiles_ms(mine.cpu_by_units.get(12, []))[1]:.2f} ms",
    )


def goal_line(goal: str, met: bool, figure: str, why: str) -> None:
    print(f"  {goal:<36}{'PASS' if met else 'MISS':<6}{figure}")
    if not met and why:
        print(f"  {'':<42}why: {why}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--orders",
        type=int,
        default=int(os.environ.get("BENCH_CARTON_ORDERS", 1000)),
        help="random orders (default 1000, or BENCH_CARTON_ORDERS)",
    )
    args = parser.parse_args()

    started = time.perf_counter()
    orders = make_orders(args.orders, args.seed)
    units = sum(units_of(order) for order in orders)
    try:
        import py3dbp  # noqa: F401 - imported before the clock starts, like the engine below
    except ImportError:
        print("py3dbp is not installed: make bench installs it (pip install -c constraints.txt -e '.[bench]')")
        return 2

    print(
        f"Cartonization benchmark, seed {args.seed}; Python {platform.python_version()}, {os.cpu_count()} CPUs; "
        f"{len(orders)} orders of 1-12 units ({units} units, {sum(len(o) for o in orders)} lines), "
        f"{CATALOG_SIZE} products"
    )
    print(
        "  cartons (inner mm, max weight, tare, cost): "
        + "; ".join(
            f"{c.code} {c.length_mm}x{c.width_mm}x{c.height_mm} {c.max_weight_g / 1000:g} kg {c.tare_g} g {c.cost}"
            for c in CARTONS
        )
    )
    print(
        f"  billable weight per package: max(contents + tare, ceil(L x W x H mm3 / {DIM_DIVISOR})) g, "
        'the carton\'s inner dimensions; py3dbp 1.1.2 with bigger_first=True ("py3dbp") and False (its default)'
    )
    packers: dict[str, Callable] = {
        "ours": ours,
        "py3dbp": py3dbp_pack,
        "py3dbp default": functools.partial(py3dbp_pack, bigger_first=False),
    }
    tallies, bounds = run(orders, packers)
    report(orders, tallies, bounds)
    print(f"\n({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
