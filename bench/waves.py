"""Wave planning benchmark: plan and release 5,000 allocated orders in one warehouse.

    .venv/bin/python bench/waves.py [--orders N] [--seed S] [--profile] [--keep]

PostgreSQL only. DATABASE_URL names a server and a base name (default
postgres://postgres@127.0.0.1:5432/fulfillment_bench); the benchmark works in Django's test
database for it (``test_<name>``), created from the migrations at start and dropped at the end,
so no other database is touched.

The run:
1. set-up with bulk_create (not measured): one tenant, two warehouses of 20 aisles x 30 bays x 2
   levels (3 m pitch, 1 m bays), ONE in one block and TWO in two (a middle cross aisle after bay
   15), both with storage zones A (aisles 1-10) and B (11-20); 2,000 products (most of 0.2-3 L,
   some up to 27 L, one in twenty without dimensions) each stocked at one location, popular
   products more often ordered; per warehouse N allocated orders (default 5,000) of 1-4 lines
   (45% one line, a third of all orders single-unit) in six cut-off groups (same day 12:00,
   express 15:00 today and tomorrow, standard 17:00 today, tomorrow, the day after), with
   their allocations, balances and receipts (so the ledger balances);
2. per warehouse and strategy (batch; wave, which is zone-batch here since there are two zones):
   ``wave_plan`` (read, plan, and the first-come-first-served comparison) and ``wave_release``
   (lock, read, plan, write the wave, lists and tasks, move the orders to picking), timed, with
   max_orders = N, carts of 8 totes of 40 L and at most 240 L;
3. checks after each release: every order is in the wave and picking, with one timeline entry;
   each order's picks of one zone are on one list (and, for batch, each order on one list); no
   list breaks the tote or volume caps (oversize orders, alone on a list, excepted), no singles
   tote holds more than its share; the tasks cover every open allocation exactly once. Then the
   wave is undone (orders back to allocated) for the next run. Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

from common import analyze, bench_database, setup_django, timed

setup_django(database="fulfillment_bench")

from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

from fulfillment.tenancy.models import Tenant  # noqa: E402
from inventory.models import Location, Lot, MovementReason, Product, StockBalance, StockMovement  # noqa: E402
from inventory.services import warehouse_create  # noqa: E402
from orders.models import PRIORITY, Order, OrderAllocation, OrderEvent, OrderLine, Status  # noqa: E402
from picking import planning  # noqa: E402
from picking.models import PickList, PickTask, Wave  # noqa: E402
from picking.selectors_waves import wave_candidates  # noqa: E402
from picking.services.waves import wave_plan, wave_release  # noqa: E402

PRODUCTS = 2000
TOTES, TOTE_L, CART_L = 8, 40.0, 240.0
ZONE = ZoneInfo("America/Toronto")


# -- set-up ----------------------------------------------------------------------------------------


def _dimensions(rng: random.Random) -> tuple[int, int, int]:
    draw = rng.random()
    if draw < 0.05:
        return 0, 0, 0  # no dimensions recorded: counts 0 litres
    if draw < 0.80:
        return rng.randint(60, 250), rng.randint(40, 150), rng.randint(20, 80)  # 0.05-3 L
    if draw < 0.97:
        return rng.randint(200, 350), rng.randint(150, 300), rng.randint(80, 200)  # 2.4-21 L
    return 300, 300, 300  # 27 L


def _groups(now: datetime) -> list[tuple[str, datetime, float]]:
    """(method, ship_by, share of orders): six cut-off groups."""
    today = now.astimezone(ZONE).date()

    def at(days: int, hour: int) -> datetime:
        return datetime.combine(today + timedelta(days=days), clock(hour), tzinfo=ZONE)

    return [
        ("same_day", at(0, 12), 0.10),
        ("express", at(0, 15), 0.15),
        ("express", at(1, 15), 0.10),
        ("standard", at(0, 17), 0.30),
        ("standard", at(1, 17), 0.20),
        ("standard", at(2, 17), 0.15),
    ]


def build_data(*, orders: int, seed: int) -> dict:
    rng = random.Random(seed)
    now = timezone.now()
    tenant = Tenant.objects.create(slug="bench", name="Bench merchant", default_warehouse_code="ONE")
    products = Product.objects.bulk_create(
        [
            Product(
                tenant=tenant,
                sku=f"W-{i:05d}",
                name=f"Wave product {i}",
                weight_g=300,
                **dict(zip(("length_mm", "width_mm", "height_mm"), _dimensions(rng), strict=True)),
            )
            for i in range(PRODUCTS)
        ]
    )
    # Popularity: a few products are in many orders (Zipf-like weights).
    weights = [1 / (rank + 1) ** 0.8 for rank in range(PRODUCTS)]
    warehouses = {}
    for code, blocks in (("ONE", 1), ("TWO", 2)):
        wh = warehouse_create(
            code=code,
            name=f"Bench {code}",
            aisles=20,
            bays=30,
            levels=2,
            blocks=blocks,
            zones={"A": (1, 10), "B": (11, 20)},
        )
        warehouses[code] = wh
        _fill(wh, tenant, products, weights, orders=orders, rng=rng, now=now)
    analyze()
    return warehouses


def _fill(wh, tenant, products, weights, *, orders: int, rng: random.Random, now) -> None:
    storage = list(Location.objects.filter(warehouse=wh, is_sellable=True))
    supplier = Location.objects.get(warehouse=wh, code="V-SUPPLIER")
    lots = Lot.objects.bulk_create(
        [Lot(tenant=tenant, product=p, code=f"{wh.code}-L", received_at=now - timedelta(days=20)) for p in products]
    )
    places = (
        rng.sample(storage, len(products)) if len(storage) >= len(products) else rng.choices(storage, k=len(products))
    )
    order_rows, line_rows, demand = [], [], Counter()
    shares = _groups(now)
    for n in range(orders):
        method, ship_by, _ = rng.choices(shares, weights=[s for *_, s in shares])[0]
        order = Order(
            tenant=tenant,
            number=f"{wh.code}{n:07d}",
            external_id=f"{wh.code}-{n}",
            warehouse=wh,
            status=Status.ALLOCATED,
            shipping_method=method,
            payment_status="paid",
            currency="CAD",
            ship_to={"name": "Bench", "country": "CA"},
            priority=PRIORITY[method],
            ship_by=ship_by,
            promised_delivery_date=ship_by.date(),
        )
        order_rows.append(order)
        draw = rng.random()
        if draw < 0.33:
            lines = [(rng.choices(range(PRODUCTS), weights=weights)[0], 1)]  # single unit
        else:
            count = 1 if draw < 0.45 else 2 if draw < 0.75 else 3 if draw < 0.90 else 4
            chosen = set()
            while len(chosen) < count:
                chosen.add(rng.choices(range(PRODUCTS), weights=weights)[0])
            lines = [(index, rng.choice((1, 1, 1, 2, 2, 3))) for index in sorted(chosen)]
            if count == 1 and lines[0][1] == 1:
                lines = [(lines[0][0], 2)]
        for index, quantity in lines:
            demand[index] += quantity
            line_rows.append(
                OrderLine(
                    tenant=tenant,
                    order=order,
                    product=products[index],
                    sku=products[index].sku,
                    quantity=quantity,
                    allocated_quantity=quantity,
                )
            )
    Order.objects.bulk_create(order_rows, batch_size=2000)
    OrderLine.objects.bulk_create(line_rows, batch_size=5000)
    balances, movements, negatives = {}, [], []
    for index, product in enumerate(products):
        on_hand = demand[index] + 10
        balances[index] = StockBalance(
            tenant=tenant, product=product, location=places[index], lot=lots[index], on_hand=on_hand,
            allocated=demand[index],
        )  # fmt: skip
        negatives.append(
            StockBalance(tenant=tenant, product=product, location=supplier, lot=lots[index], on_hand=-on_hand)
        )
        movements.append(
            StockMovement(
                tenant=tenant, product=product, lot=lots[index], from_location=supplier, to_location=places[index],
                quantity=on_hand, reason=MovementReason.RECEIPT, reference="bench set-up",
            )
        )  # fmt: skip
    StockBalance.objects.bulk_create([*balances.values(), *negatives], batch_size=2000)
    StockMovement.objects.bulk_create(movements, batch_size=2000)
    index_of = {p.pk: i for i, p in enumerate(products)}
    OrderAllocation.objects.bulk_create(
        [
            OrderAllocation(
                tenant=tenant,
                line=line,
                balance=balances[index_of[line.product_id]],
                location=places[index_of[line.product_id]],
                lot=lots[index_of[line.product_id]],
                quantity=line.quantity,
            )
            for line in line_rows
        ],
        batch_size=5000,
    )


# -- checks ----------------------------------------------------------------------------------------


def check(wave: Wave, *, orders: int, strategy: str) -> list[str]:
    problems: list[str] = []
    order_ids = set(Order.objects.filter(warehouse_id=wave.warehouse_id).values_list("pk", flat=True))
    statuses = Counter(Order.objects.filter(pk__in=order_ids).values_list("status", flat=True))
    if statuses != Counter({Status.PICKING: orders}):
        problems.append(f"order statuses after release: {dict(statuses)}")
    events = Counter(
        OrderEvent.objects.filter(order_id__in=order_ids, to_status=Status.PICKING).values_list("order_id", flat=True)
    )
    if len(events) != orders or set(events.values()) != {1}:
        problems.append(f"picking timeline entries: {len(events)} orders, counts {set(events.values())}")
    if wave.order_count != orders:
        problems.append(f"wave.order_count {wave.order_count} != {orders}")
    tasks = list(
        PickTask.objects.filter(pick_list__wave=wave).values_list(
            "pick_list_id",
            "order_id",
            "allocation_id",
            "quantity",
            "tote",
            "location__zone__code",
            "product__length_mm",
            "product__width_mm",
            "product__height_mm",
        )
    )
    lists = {pl.pk: pl for pl in PickList.objects.filter(wave=wave)}
    # Every open allocation of the wave's orders is one task, with its open quantity.
    allocations = sorted(
        OrderAllocation.objects.filter(line__order_id__in=order_ids, released=False).values_list("pk", "quantity")
    )
    covered = sorted((a, q) for _, _, a, q, *_ in tasks)
    if covered != allocations:
        problems.append(f"tasks cover {len(covered)} allocations, expected {len(allocations)} exactly once each")
    # Each order's picks of a zone on one list (for batch: each order on one list).
    where: dict = defaultdict(set)
    for pick_list_id, order_id, _a, _q, _t, zone, *_ in tasks:
        where[(order_id, zone if strategy != "batch" else "")].add(pick_list_id)
    spread = sum(1 for lists_of in where.values() if len(lists_of) != 1)
    if spread:
        problems.append(f"{spread} order parts are on more than one list")
    if {order_id for order_id, _ in where} != order_ids:
        problems.append("some orders have no task")
    # Caps: totes per cart and cart litres; singles totes hold at most their share.
    litres: dict = defaultdict(float)
    orders_of: dict = defaultdict(set)
    per_tote: dict = defaultdict(set)
    for pick_list_id, order_id, _a, quantity, tote, _zone, length, width, height in tasks:
        litres[pick_list_id] += quantity * length * width * height / 1_000_000
        orders_of[pick_list_id].add(order_id)
        per_tote[(pick_list_id, tote)].add(order_id)
    for pk, pick_list in lists.items():
        oversize = len(orders_of[pk]) == 1 and (pick_list.totes > TOTES or litres[pk] > CART_L + 1e-6)
        if oversize:
            continue
        if pick_list.totes > TOTES or litres[pk] > CART_L + 1e-6:
            problems.append(f"list {pk}: {pick_list.totes} totes, {litres[pk]:.1f} L over the cart's caps")
        if pick_list.single_units:
            crowded = [k for k, v in per_tote.items() if k[0] == pk and len(v) > planning.SINGLES_PER_TOTE]
            if crowded:
                problems.append(f"singles list {pk}: a tote holds more than {planning.SINGLES_PER_TOTE} orders")
    return problems


def undo(wave: Wave) -> None:
    """Back to before the release, so that the next strategy plans the same orders."""
    order_ids = list(Order.objects.filter(warehouse_id=wave.warehouse_id).values_list("pk", flat=True))
    OrderEvent.objects.filter(order_id__in=order_ids, to_status=Status.PICKING).delete()
    Order.objects.filter(pk__in=order_ids).update(status=Status.ALLOCATED)
    PickTask.objects.filter(pick_list__wave=wave).delete()
    Wave.objects.filter(pk=wave.pk).delete()


# -- the run ---------------------------------------------------------------------------------------


def _timed(call, *, profile: bool, title: str, lines: int):
    """(what ``call()`` answers, its wall-clock seconds); with ``profile``, its cProfile is printed."""
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    result, seconds, _cpu = timed(call)
    if profiler:
        profiler.disable()
        print(f"\n--- profile of {title} ---")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(lines)
    return result, seconds


def run(warehouse, strategy: str, *, orders: int, profile: bool, budget: float | None) -> dict:
    args = {
        "time_budget_s": budget,
        "warehouse": warehouse,
        "strategy": strategy,
        "max_orders": orders,
        "totes_per_cart": TOTES,
        "tote_volume_l": TOTE_L,
        "cart_volume_l": CART_L,
    }
    started = time.perf_counter()
    read = wave_candidates(warehouse_id=warehouse.pk)  # the read alone, for the breakdown
    read_s = time.perf_counter() - started
    assert len(read) == orders
    name = f"{warehouse.code} {strategy}"
    plan, plan_s = _timed(lambda: wave_plan(**args), profile=profile, title=f"wave_plan, {name}", lines=25)
    release, release_s = _timed(
        lambda: wave_release(**args, actor="bench"), profile=profile, title=f"wave_release, {name}", lines=40
    )
    wave = release.wave
    problems = check(wave, orders=orders, strategy=strategy) if wave else ["nothing released"]
    row = {
        "warehouse": warehouse.code,
        "blocks": warehouse.blocks,
        "strategy": strategy,
        "planned_as": plan.planned_as,
        "read_s": read_s,
        "plan_s": plan_s,
        "planner_s": plan.seconds,
        "release_s": release_s,
        "release_planner_s": release.plan.seconds,
        "lists": len(plan.lists),
        "released_lists": wave.pick_lists.count() if wave else 0,
        "singles_lists": sum(1 for pl in plan.lists if pl.single_units),
        "oversize": plan.oversize_orders,
        "tasks": plan.tasks_count,
        "distance": plan.distance_m,
        "released_distance": float(wave.distance_m) if wave else 0.0,
        "fcfs": plan.fcfs_distance_m,
        "ratio": plan.distance_vs_fcfs,
        "groups": len(plan.taken_groups),
        "problems": problems,
    }
    if wave:
        undo(wave)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--profile", action="store_true", help="cProfile wave_plan and wave_release")
    parser.add_argument("--budget", type=float, default=None, help="batching time budget in s (default: the planner's)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    args = parser.parse_args()
    rows = []
    with bench_database(keep=args.keep):
        t = time.perf_counter()
        warehouses = build_data(orders=args.orders, seed=args.seed)
        lines = OrderLine.objects.count()
        singles = Order.objects.annotate(n=Count("lines")).filter(n=1, lines__quantity=1).count()
        print(
            f"set-up: 2 warehouses x {args.orders} allocated orders ({lines} lines, {singles} single-unit orders "
            f"in all), {PRODUCTS} products, in {time.perf_counter() - t:.1f}s"
        )
        for code in ("ONE", "TWO"):
            for strategy in ("batch", "wave"):
                rows.append(
                    run(warehouses[code], strategy, orders=args.orders, profile=args.profile, budget=args.budget)
                )
    print()
    print(
        f"{'warehouse':<10}{'strategy':<14}{'plan s':>8}{'release s':>11}{'lists':>7}{'singles':>9}{'oversize':>9}"
        f"{'tasks':>7}{'distance m':>12}{'FCFS m':>11}{'vs FCFS':>9}"
    )
    for r in rows:
        name = f"{r['strategy']} ({r['planned_as']})"
        print(
            f"{r['warehouse'] + ' ' + str(r['blocks']) + 'b':<10}{name:<14}{r['plan_s']:>8.2f}{r['release_s']:>11.2f}"
            f"{r['lists']:>7}{r['singles_lists']:>9}{r['oversize']:>9}{r['tasks']:>7}{r['distance']:>12,.0f}"
            f"{r['fcfs']:>11,.0f}{r['ratio']:>9.3f}"
        )
    print()
    print("where the time goes (s): read = the allocated orders and picks (one query); planner = choosing, totes,")
    print("batching, routing (and, for the preview, the FCFS comparison); release = lock + read + planner + writes")
    for r in rows:
        print(
            f"  {r['warehouse']} {r['strategy']:<6} plan: read {r['read_s']:.2f} + planner {r['planner_s']:.2f}; "
            f"release: planner {r['release_planner_s']:.2f} + the rest {r['release_s'] - r['release_planner_s']:.2f}"
        )
    print()
    print("released (planned again inside the release): " + "; ".join(
        f"{r['warehouse']} {r['strategy']}: {r['released_lists']} lists, {r['released_distance']:,.0f} m" for r in rows
    ))  # fmt: skip
    failed = [(r["warehouse"], r["strategy"], p) for r in rows for p in r["problems"]]
    for warehouse, strategy, problem in failed:
        print(f"CHECK FAILED {warehouse} {strategy}: {problem}")
    if not failed:
        print(
            "checks: every order picking with one timeline entry, each order (part) on one list, tote and volume "
            "caps hold, tasks cover every allocation exactly once: ok"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
