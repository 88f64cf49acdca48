"""Wave planning without the database: which allocated orders a wave takes, how they share carts
and totes, and the route of every pick list. picking.services.waves reads the orders
(picking.selectors_waves), plans with this module and writes the result.

The rules, in the order they apply:

1. Orders come by priority (same day, express, standard), then ship-by, then arrival. A cut-off
   group is the orders of one (priority, ship-by). The wave takes groups earliest first, whole,
   until a wave cap (``max_orders``, ``max_lines``) stops it, possibly inside a group. It stops
   at the first order that does not fit rather than letting later orders overtake it; only an
   order with more lines than ``max_lines`` by itself is passed over (it could never fit) and
   reported.
2. An order needs as many totes as first-fit-decreasing packs its picks into (at least
   ceil(volume / tote volume), at least one); its volume is units x length x width x height of its
   products (products without dimensions count 0). A pick larger than a tote rides alone in as
   many tote places as it needs.
3. Single-unit orders (one line of one unit) that take at most 1/``singles_per_tote`` of a tote
   share totes, ``singles_per_tote`` to a tote (10 by default: sorted at packing), and are
   batched apart from the other orders in pick lists of their own (``single_units``). A
   bigger single-unit order is an ordinary order with its own tote.
4. Carts (pick lists) never mix carrier cut-offs (ship-by): what leaves at 14:00 is not on a cart
   with what leaves at 17:00. Orders of different priorities due at the same cut-off may share a
   cart (the more urgent ones are taken into the wave first). A cart holds ``totes_per_cart`` totes and, when
   ``cart_volume_l`` is set, at most that many litres. Strategies:
   - discrete: one list per order (no cart sharing, single-unit orders included);
   - batch: orders share carts, chosen by picking.batching.batch to shorten the walk;
   - zone: one set of carts per storage zone of the pick locations, each holding the wave's
     picks in that zone; an order in two zones is in two lists and is complete (picked) when
     both are done, and consolidates at packing;
   - wave: batch, or zone when the warehouse has more than one storage zone.
   An order too big for any cart (more totes or litres than a cart holds) gets a list of its own,
   flagged ``oversize``.
5. Every list is routed (picking.routing.route); tasks are numbered in route order. Picks at
   locations off the grid (no aisle or bay) come last, by location code, outside the distance.
   Orders take tote codes T1, T2, ... in the order the route first reaches them; an order with k
   totes takes k consecutive codes and each pick names one of them.

The plan also carries the distance first-come-first-served carts (picking.batching.fcfs) of the
same orders, partitioned the same way, would walk, so that the preview can show the saving.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from orders.models import PRIORITY
from picking import batching
from picking.geometry import Layout, Stop
from picking.models import Strategy
from picking.routing import route, shortest_length

logger = logging.getLogger(__name__)

MAX_WAVE_ORDERS = 10_000
MAX_WAVE_LINES = 100_000
MAX_TOTES_PER_CART = 99
MAX_VOLUME_L = Decimal("99999.9")
SINGLES_PER_TOTE = 10
# Batching's effort: 2 ms per order, at least 0.1 s for each batching call (a group of orders
# that share carts), at most 4 s for the whole wave, shared among the groups by size. Exact
# Clarke-Wright savings take 0.6-1.3 ms per order on 10 aisles (up to 3 ms on two blocks of 20)
# and the local search after them only shortens, so groups of 100-1,000 orders get savings on
# every pair and about as long again of local search; a 5,000-order wave gets 0.8 ms per order
# and plans in 5-7 s (up to 9 s on a busy machine; bench/README.md, batching).
BUDGET_PER_ORDER_S = 0.002
MAX_BUDGET_S = 4.0
MIN_BUDGET_S = 0.1

METHOD_OF_PRIORITY = {value: method for method, value in PRIORITY.items()}


def priority_label(priority: int) -> str:
    method = METHOD_OF_PRIORITY.get(priority)
    return method.label if method is not None else f"priority {priority}"


# -- parameters ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WaveParams:
    strategy: str
    max_orders: int
    max_lines: int | None = None
    totes_per_cart: int = 8
    tote_volume_l: float = 40.0
    cart_volume_l: float | None = None
    singles_per_tote: int = SINGLES_PER_TOTE


def _positive_int(value, *, label: str, top: int, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
        return f"{label} must be a whole number between 1 and {top:,}"
    return None


def _litres(value, *, label: str, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return f"{label} must be a number of litres"
    if not number.is_finite() or not Decimal("0.1") <= number <= MAX_VOLUME_L:
        return f"{label} must be between 0.1 and {MAX_VOLUME_L:,} litres"
    return None


def params_errors(
    *, strategy, max_orders, max_lines=None, totes_per_cart=8, tote_volume_l=40, cart_volume_l=None
) -> dict[str, str]:
    """{field: message} for wave parameters that cannot work (empty when they can)."""
    errors: dict[str, str] = {}
    if strategy not in Strategy.values:
        errors["strategy"] = f"strategy must be one of {', '.join(Strategy.values)}"
    checks = {
        "max_orders": _positive_int(max_orders, label="max orders", top=MAX_WAVE_ORDERS),
        "max_lines": _positive_int(max_lines, label="max lines", top=MAX_WAVE_LINES, optional=True),
        "totes_per_cart": _positive_int(totes_per_cart, label="totes per cart", top=MAX_TOTES_PER_CART),
        "tote_volume_l": _litres(tote_volume_l, label="tote volume"),
        "cart_volume_l": _litres(cart_volume_l, label="cart volume", optional=True),
    }
    errors.update({name: message for name, message in checks.items() if message})
    return errors


# -- what the planner reads ----------------------------------------------------------------------


@dataclass(frozen=True)
class Pick:
    """One open allocation of an order: one pick task."""

    allocation_id: int
    order_id: object
    tenant_id: object
    line_id: int
    product_id: object
    lot_id: int
    location_id: int
    location_code: str
    aisle: int | None
    bay: int | None
    zone: str
    quantity: int
    volume_l: float

    @property
    def on_grid(self) -> bool:
        return bool(self.aisle and self.bay)


@dataclass
class Candidate:
    """An allocated order with its open picks."""

    id: object
    number: str
    priority: int
    ship_by: datetime
    created_at: datetime
    picks: list[Pick] = field(default_factory=list)

    @property
    def group(self) -> tuple[int, datetime]:
        return self.priority, self.ship_by

    @property
    def lines(self) -> int:
        return _line_count(self.picks)

    @property
    def units(self) -> int:
        return sum(p.quantity for p in self.picks)


def _line_count(picks: Sequence[Pick]) -> int:
    """The order lines the picks are of (a line allocated from several lots or locations is several picks)."""
    return len({p.line_id for p in picks})


def sort_key(order: Candidate) -> tuple:
    return (-order.priority, order.ship_by, order.created_at, str(order.id))


# -- what the planner answers --------------------------------------------------------------------


@dataclass
class PlannedTask:
    pick: Pick
    tote: str
    sequence: int


@dataclass
class PlannedList:
    zone: str
    single_units: bool
    group: tuple[int, datetime]
    orders: list  # order ids, in the order the route first reaches them
    totes: int
    tasks: list[PlannedTask]
    distance_m: float
    volume_l: float
    oversize: bool = False

    @property
    def units(self) -> int:
        return sum(t.pick.quantity for t in self.tasks)

    @property
    def order_count(self) -> int:
        return len(self.orders)

    @property
    def tasks_count(self) -> int:
        return len(self.tasks)

    @property
    def priority_label(self) -> str:
        return priority_label(self.group[0])

    @property
    def ship_by(self) -> datetime:
        return self.group[1]


@dataclass
class CutoffGroup:
    priority: int
    ship_by: datetime
    waiting: int = 0  # allocated orders of the group
    orders: int = 0  # taken into the wave
    lines: int = 0
    units: int = 0

    @property
    def label(self) -> str:
        return priority_label(self.priority)

    @property
    def shipping_method(self) -> str:
        method = METHOD_OF_PRIORITY.get(self.priority)
        return str(method) if method is not None else ""

    @property
    def cut(self) -> bool:
        return 0 < self.orders < self.waiting


@dataclass
class Plan:
    params: WaveParams
    planned_as: str  # discrete, batch or zone: what ``wave`` became for this warehouse
    orders: list[Candidate]
    lists: list[PlannedList]
    groups: list[CutoffGroup]
    waiting: int
    over_line_cap: list = field(default_factory=list)  # ids of orders with more lines than max_lines
    fcfs_distance_m: float | None = None
    seconds: float = 0.0

    @property
    def order_ids(self) -> list:
        return [o.id for o in self.orders]

    @property
    def order_count(self) -> int:
        return len(self.orders)

    # `choose` adds every order taken (``orders``) to the lines and units of its one cut-off group.
    @property
    def line_count(self) -> int:
        return sum(g.lines for g in self.groups)

    @property
    def unit_count(self) -> int:
        return sum(g.units for g in self.groups)

    @property
    def tasks_count(self) -> int:
        return sum(len(pl.tasks) for pl in self.lists)

    @property
    def totes(self) -> int:
        return sum(pl.totes for pl in self.lists)

    @property
    def distance_m(self) -> float:
        return round(sum(pl.distance_m for pl in self.lists), 1)

    @property
    def saving_m(self) -> float | None:
        if self.fcfs_distance_m is None:
            return None
        return round(self.fcfs_distance_m - self.distance_m, 1)

    @property
    def distance_vs_fcfs(self) -> float | None:
        """Our distance as a share of first-come-first-served carts' (1.0 when there is nothing to walk)."""
        if self.fcfs_distance_m is None:
            return None
        if not self.fcfs_distance_m:
            return 1.0
        return round(self.distance_m / self.fcfs_distance_m, 3)

    @property
    def cutoff(self) -> datetime | None:
        return min((o.ship_by for o in self.orders), default=None)

    @property
    def taken_groups(self) -> list[CutoffGroup]:
        return [g for g in self.groups if g.orders]

    @property
    def left_waiting(self) -> int:
        return self.waiting - len(self.orders)

    @property
    def oversize_orders(self) -> int:
        return sum(1 for pl in self.lists if pl.oversize)

    @property
    def single_unit_orders(self) -> int:
        return sum(len(pl.orders) for pl in self.lists if pl.single_units)


# -- 1. which orders -----------------------------------------------------------------------------


def choose(candidates: Sequence[Candidate], params: WaveParams) -> tuple[list[Candidate], list, list[CutoffGroup]]:
    """(orders taken, ids of orders passed over for having more lines than max_lines, cut-off groups)."""
    ordered = sorted((c for c in candidates if c.picks), key=sort_key)
    groups: dict[tuple, CutoffGroup] = {}
    for order in ordered:
        groups.setdefault(order.group, CutoffGroup(priority=order.priority, ship_by=order.ship_by)).waiting += 1
    taken: list[Candidate] = []
    over_cap: list = []
    lines = 0
    for order in ordered:
        if len(taken) >= params.max_orders:
            break
        if params.max_lines is not None:
            if order.lines > params.max_lines:
                over_cap.append(order.id)
                continue
            if lines + order.lines > params.max_lines:
                break
        taken.append(order)
        lines += order.lines
        group = groups[order.group]
        group.orders += 1
        group.lines += order.lines
        group.units += order.units
    return taken, over_cap, list(groups.values())


# -- 2. totes ------------------------------------------------------------------------------------


def tote_fill(volumes: Sequence[float], tote_l: float) -> tuple[int, list[int]]:
    """(totes needed, the tote index of each item): first fit decreasing; an item larger than a tote
    takes as many tote places of its own as it needs (and names the first)."""
    totes = 0
    room: list[float] = []  # per tote, litres left
    where = [0] * len(volumes)
    for index in sorted(range(len(volumes)), key=lambda i: -volumes[i]):
        volume = volumes[index]
        if volume > tote_l:
            places = math.ceil(volume / tote_l - 1e-9)
            where[index] = totes
            room.extend([0.0] * places)
            totes += places
            continue
        for tote, left in enumerate(room):
            if volume <= left + 1e-9:
                where[index] = tote
                room[tote] = left - volume
                break
        else:
            where[index] = totes
            room.append(tote_l - volume)
            totes += 1
    return max(totes, 1), where


@dataclass
class _Part:
    """The picks of one order that go on one cart: all of them, or those of one zone."""

    order: Candidate
    picks: list[Pick]
    totes: int
    tote_of: list[int]
    volume_l: float
    single: bool = False

    @property
    def lines(self) -> int:
        return _line_count(self.picks)

    def stops(self) -> tuple[Stop, ...]:
        return tuple(Stop(p.aisle, p.bay) for p in self.picks if p.on_grid)


def _part(order: Candidate, picks: list[Pick], params: WaveParams, *, singles: bool) -> _Part:
    volumes = [p.volume_l for p in picks]
    volume = sum(volumes)
    single = (
        singles
        and len(picks) == 1
        and picks[0].quantity == 1
        and volume <= params.tote_volume_l / params.singles_per_tote + 1e-9
    )
    if single:
        return _Part(order, picks, totes=1, tote_of=[0], volume_l=volume, single=True)
    totes, tote_of = tote_fill(volumes, params.tote_volume_l)
    return _Part(order, picks, totes=totes, tote_of=tote_of, volume_l=volume)


# -- 3 and 4. carts ------------------------------------------------------------------------------


class _Carts:
    """Turns parts into carts (lists of parts): batching, its FCFS baseline, and the checks."""

    def __init__(self, params: WaveParams, layout: Layout, *, budget_s: float, batched_orders: int, compare: bool):
        self.params = params
        self.layout = layout
        self.budget_s = budget_s
        self.batched_orders = max(batched_orders, 1)
        self.compare = compare
        self.fcfs_m = 0.0
        self.regular = batching.Cart(totes=params.totes_per_cart, volume_l=params.cart_volume_l)
        # A single-unit order takes one place of ``singles_per_tote`` in a tote.
        self.singles = batching.Cart(
            totes=params.totes_per_cart * params.singles_per_tote, volume_l=params.cart_volume_l
        )

    def oversize(self, part: _Part) -> bool:
        p = self.params
        return part.totes > p.totes_per_cart or (p.cart_volume_l is not None and part.volume_l > p.cart_volume_l + 1e-9)

    def _length(self, parts: Sequence[_Part]) -> float:
        return shortest_length([s for part in parts for s in part.stops()], self.layout)

    def batch(self, parts: list[_Part], *, single: bool) -> list[list[_Part]]:
        if not parts:
            return []
        cart = self.singles if single else self.regular
        orders = [
            batching.BatchOrder(key=i, stops=part.stops(), totes=part.totes, volume_l=part.volume_l, lines=part.lines)
            for i, part in enumerate(parts)
        ]
        budget = max(MIN_BUDGET_S, self.budget_s * len(parts) / self.batched_orders)
        # The effort decides the batching (the same orders give the same carts); the clock only
        # stops it on a machine twice as slow or busy as planned for.
        batches = batching.batch(orders, cart, self.layout, effort_s=budget, time_budget_s=2 * budget)
        if not self._valid(batches, orders, cart):
            logger.error("batching returned carts that break the caps or lose orders; using first come, first served")
            batches = batching.fcfs(orders, cart)
        if self.compare:
            self.fcfs_m += batching.total_length(batching.fcfs(orders, cart), self.layout)
        return [[parts[o.key] for o in b] for b in batches]

    @staticmethod
    def _valid(batches, orders, cart) -> bool:
        keys = sorted(o.key for b in batches for o in b)
        return keys == list(range(len(orders))) and all(b and cart.fits(b) for b in batches)

    def alone(self, part: _Part) -> list[_Part]:
        if self.compare:
            self.fcfs_m += self._length([part])
        return [part]


# -- 5. routes and totes -------------------------------------------------------------------------


def _route_list(
    parts: list[_Part], layout: Layout, *, zone: str, single: bool, oversize: bool, spt: int
) -> PlannedList:
    entries = [(part, pick, j) for part in parts for j, pick in enumerate(part.picks)]
    stops = [Stop(pick.aisle, pick.bay, key=k) for k, (_, pick, _) in enumerate(entries) if pick.on_grid]
    off_grid = sorted(
        (k for k, (_, pick, _) in enumerate(entries) if not pick.on_grid), key=lambda k: entries[k][1].location_code
    )
    ordered, distance = route(stops, layout) if stops else ([], 0.0)
    walk = [s.key for s in ordered] + off_grid
    first_seen: list[_Part] = []
    seen: set[int] = set()
    for k in walk:
        part = entries[k][0]
        if id(part) not in seen:
            seen.add(id(part))
            first_seen.append(part)
    base: dict[int, int] = {}
    if single:
        # Singles fill totes in walking order, ``spt`` to a tote.
        for position, part in enumerate(first_seen):
            base[id(part)] = position // spt
        totes = math.ceil(len(first_seen) / spt)
    else:
        totes = 0
        for part in first_seen:
            base[id(part)] = totes
            totes += part.totes
    tasks = []
    for sequence, k in enumerate(walk, start=1):
        part, pick, j = entries[k]
        tote = base[id(part)] + (0 if single else part.tote_of[j])
        tasks.append(PlannedTask(pick=pick, tote=f"T{tote + 1}", sequence=sequence))
    return PlannedList(
        zone=zone,
        single_units=single,
        group=parts[0].order.group,
        orders=[part.order.id for part in first_seen],
        totes=max(totes, 1),
        tasks=tasks,
        distance_m=round(distance, 1),
        volume_l=sum(part.volume_l for part in parts),
        oversize=oversize,
    )


# -- the whole plan ------------------------------------------------------------------------------


def plan(
    candidates: Sequence[Candidate],
    params: WaveParams,
    *,
    layout: Layout,
    zoned: bool,
    time_budget_s: float | None = None,
    compare: bool = True,
) -> Plan:
    """The wave for these allocated orders. ``zoned``: the warehouse has more than one storage zone
    (``wave`` then plans by zone); ``compare``: also measure first-come-first-served carts."""
    started = time.perf_counter()
    taken, over_cap, groups = choose(candidates, params)
    strategy = params.strategy
    planned_as = (Strategy.ZONE if zoned else Strategy.BATCH) if strategy == Strategy.WAVE else strategy
    if time_budget_s is None:
        time_budget_s = min(MAX_BUDGET_S, BUDGET_PER_ORDER_S * len(taken))
    carts = _Carts(
        params,
        layout,
        budget_s=time_budget_s,
        batched_orders=0 if planned_as == Strategy.DISCRETE else len(taken),
        compare=compare,
    )
    by_group: dict[datetime, list[Candidate]] = defaultdict(list)
    for order in taken:
        by_group[order.ship_by].append(order)
    lists: list[PlannedList] = []
    spt = params.singles_per_tote

    def emit(parts: list[_Part], *, zone: str) -> None:
        regular: list[_Part] = []
        singles: list[_Part] = []
        for part in parts:
            if part.single:
                singles.append(part)
            elif carts.oversize(part):
                lists.append(_route_list(carts.alone(part), layout, zone=zone, single=False, oversize=True, spt=spt))
            else:
                regular.append(part)
        for cart in carts.batch(regular, single=False):
            lists.append(_route_list(cart, layout, zone=zone, single=False, oversize=False, spt=spt))
        for cart in carts.batch(singles, single=True):
            lists.append(_route_list(cart, layout, zone=zone, single=True, oversize=False, spt=spt))

    for group in by_group.values():  # dicts keep insertion order: the most urgent cut-off first
        if planned_as == Strategy.DISCRETE:
            for order in group:
                part = _part(order, order.picks, params, singles=False)
                lists.append(
                    _route_list(
                        carts.alone(part), layout, zone="", single=False, oversize=carts.oversize(part), spt=spt
                    )
                )
        elif planned_as == Strategy.ZONE:
            zones: dict[str, list[_Part]] = defaultdict(list)
            for order in group:
                by_zone: dict[str, list[Pick]] = defaultdict(list)
                for pick in order.picks:
                    by_zone[pick.zone].append(pick)
                for zone, picks in by_zone.items():
                    zones[zone].append(_part(order, picks, params, singles=True))
            for zone in sorted(zones):
                emit(zones[zone], zone=zone)
        else:
            emit([_part(order, order.picks, params, singles=True) for order in group], zone="")
    return Plan(
        params=params,
        planned_as=planned_as,
        orders=taken,
        lists=lists,
        groups=groups,
        waiting=sum(g.waiting for g in groups),
        over_line_cap=over_cap,
        fcfs_distance_m=round(carts.fcfs_m, 1) if compare else None,
        seconds=time.perf_counter() - started,
    )
