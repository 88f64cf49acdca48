"""Allocation benchmark: orders.services.order_allocate against a raw SQL conditional-UPDATE floor.

    make bench            (or: .venv/bin/python bench/allocation.py [--orders N] [--workers N] [--profile])

PostgreSQL only. DATABASE_URL names a server and a base name (default
postgres://postgres@127.0.0.1:5432/fulfillment_bench); the benchmark works in Django's
test database for it (``test_<name>``), created from the migrations at start and dropped
at the end, so no other database is touched.

The run, in one process tree:
1. set-up with bulk_create: one tenant, one warehouse, 200 products, stock in 3 lots spread
   over 2 storage locations each (a ledger movement V-SUPPLIER -> location per balance),
   10,000 orders of three distinct products in status ``received`` (intake is not measured);
   supply per product varies so that demand is about 95% of total supply and some products
   run short, so some orders must backorder;
2. raw: 4 processes take order ids from a shared queue; per order, one transaction with one
   ``UPDATE inventory_stockbalance SET allocated = allocated + q WHERE id = .. AND
   on_hand - allocated >= q`` per line (the product's rows tried in FIFO/FEFO order; the
   order rolls back when a line cannot be filled); then every ``allocated`` is reset to 0;
3. ours: 4 processes call ``order_allocate(order_id=..)`` on the same queue order (row locks
   in primary-key order, FIFO/FEFO plan, allocations, timeline, outbox);
4. checks: 0 oversold, 0 undersold, exact accounting of allocations, ledger_differences() == [].
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing as mp
import os
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import date, timedelta

from common import analyze, bench_database, setup_django

setup_django(database="fulfillment_bench")

from django.db import OperationalError, connection, connections, transaction  # noqa: E402
from django.db.models import F, Sum  # noqa: E402
from django.utils import timezone  # noqa: E402

from fulfillment.tenancy.models import Tenant  # noqa: E402
from inventory.models import (  # noqa: E402
    Location,
    Lot,
    MovementReason,
    Product,
    StockBalance,
    StockMovement,
)
from inventory.services import ledger_differences, warehouse_create  # noqa: E402
from orders.models import Order, OrderAllocation, OrderLine, Status  # noqa: E402
from orders.services import order_allocate  # noqa: E402

GOAL = 0.5
PRODUCTS = 200
LOTS_PER_PRODUCT = 3
LOCATIONS_PER_LOT = 2
DEMAND_SHARE = 0.95  # total demand / total supply
RAW_SQL = "UPDATE inventory_stockbalance SET allocated = allocated + %s WHERE id = %s AND on_hand - allocated >= %s"


# -- set-up ----------------------------------------------------------------------------------


def build_data(*, orders: int, seed: int) -> dict:
    """Everything with bulk_create; returns what the workers and the checks need in memory."""
    rng = random.Random(seed)
    now = timezone.now()
    tenant = Tenant.objects.create(slug="bench", name="Bench merchant", default_warehouse_code="BENCH")
    warehouse = warehouse_create(code="BENCH", name="Bench", aisles=10, bays=10, levels=2)
    storage = list(Location.objects.filter(warehouse=warehouse, is_sellable=True).order_by("pick_sequence"))
    supplier = Location.objects.get(warehouse=warehouse, code="V-SUPPLIER")

    products = Product.objects.bulk_create(
        [
            Product(
                tenant=tenant,
                sku=f"BENCH-{i:04d}",
                name=f"Bench product {i}",
                weight_g=200,
                expiry_tracked=i % 5 == 0,  # every fifth product is FEFO
                lot_tracked=i % 5 == 0,
            )
            for i in range(PRODUCTS)
        ]
    )

    # Orders first, so that supply can be sized from the actual demand.
    order_rows, line_rows, demand = [], [], Counter()
    for n in range(orders):
        order = Order(
            tenant=tenant,
            number=f"B{n:07d}",
            external_id=f"BENCH-{n}",
            warehouse=warehouse,
            status=Status.RECEIVED,
            shipping_method="standard",
            payment_status="paid",
            currency="CAD",
            ship_to={"name": "Bench", "country": "CA"},
            priority=10,
            ship_by=now,
            promised_delivery_date=now.date(),
        )
        order_rows.append(order)
        for index in rng.sample(range(PRODUCTS), 3):
            quantity = rng.randint(1, 3)
            demand[index] += quantity
            line_rows.append(
                OrderLine(
                    tenant=tenant, order=order, product=products[index], sku=products[index].sku, quantity=quantity
                )
            )
    Order.objects.bulk_create(order_rows, batch_size=2000)
    OrderLine.objects.bulk_create(line_rows, batch_size=5000)

    # Supply: demand x a random factor per product, scaled so that demand is 95% of supply.
    factors = [rng.uniform(0.8, 1.3) for _ in range(PRODUCTS)]
    raw_supply = [demand[i] * factors[i] for i in range(PRODUCTS)]
    scale = sum(demand.values()) / DEMAND_SHARE / sum(raw_supply)
    supply = {i: max(1, round(raw_supply[i] * scale)) for i in range(PRODUCTS)}

    lots, placements = [], []
    for i, product in enumerate(products):
        parts = _split(supply[i], LOTS_PER_PRODUCT * LOCATIONS_PER_LOT, rng)
        for lot_no in range(LOTS_PER_PRODUCT):
            # Older lots expire later, so that FEFO and FIFO disagree for expiry-tracked products.
            lot = Lot(
                tenant=tenant,
                product=product,
                code=f"L{lot_no}",
                received_at=now - timedelta(days=30 - 10 * lot_no),
                expiry_date=date.today() + timedelta(days=400 - 100 * lot_no) if product.expiry_tracked else None,
            )
            lots.append(lot)
            for location in rng.sample(storage, LOCATIONS_PER_LOT):
                placements.append((product, lot, location, parts.pop()))
    Lot.objects.bulk_create(lots)
    placements = [p for p in placements if p[3] > 0]
    StockMovement.objects.bulk_create(
        [
            StockMovement(
                tenant=tenant,
                product=product,
                lot=lot,
                from_location=supplier,
                to_location=location,
                quantity=quantity,
                reason=MovementReason.RECEIPT,
                reference="bench set-up",
            )
            for product, lot, location, quantity in placements
        ],
        batch_size=2000,
    )
    per_lot: Counter = Counter()
    balances = []
    for product, lot, location, quantity in placements:
        balances.append(StockBalance(tenant=tenant, product=product, location=location, lot=lot, on_hand=quantity))
        per_lot[(product.pk, lot.pk)] += quantity
    for (product_id, lot_id), quantity in per_lot.items():
        balances.append(
            StockBalance(tenant=tenant, product_id=product_id, location=supplier, lot_id=lot_id, on_hand=-quantity)
        )
    StockBalance.objects.bulk_create(balances, batch_size=2000)
    # Without statistics the planner takes the freshly loaded tables for empty and picks nested
    # loops over locations.
    analyze()

    return {
        "order_ids": [str(o.pk) for o in order_rows],
        "lines": _lines_by_order(),
        "candidates": _candidates(warehouse.pk),
        "supply": {str(products[i].pk): supply[i] for i in range(PRODUCTS)},
        "demand": sum(demand.values()),
        "balances": len(placements),
    }


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    cuts = sorted(rng.randint(0, total) for _ in range(parts - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]


def _lines_by_order() -> dict[str, list[tuple[str, int]]]:
    lines = defaultdict(list)
    for order_id, product_id, quantity in OrderLine.objects.order_by("pk").values_list(
        "order_id", "product_id", "quantity"
    ):
        lines[str(order_id)].append((str(product_id), quantity))
    # Lines in product order: every worker locks rows in the same global order (no deadlocks).
    return {order_id: sorted(rows) for order_id, rows in lines.items()}


def _candidates(warehouse_id) -> dict[str, list[int]]:
    """Per product, its sellable balance ids in removal order (FEFO when expiry-tracked, else FIFO)."""
    rows = StockBalance.objects.filter(location__warehouse_id=warehouse_id, location__is_sellable=True).select_related(
        "lot", "location", "product"
    )
    ordered = sorted(
        rows,
        key=lambda b: (
            b.lot.expiry_date if b.product.expiry_tracked and b.lot.expiry_date else date.max,
            b.lot.received_at,
            b.location.pick_sequence,
            b.pk,
        ),
    )
    candidates = defaultdict(list)
    for balance in ordered:
        candidates[str(balance.product_id)].append(balance.pk)
    return dict(candidates)


# -- the two workers -------------------------------------------------------------------------


class QueryCounter:
    """Counts statements; with ``timed`` also the wall time per statement shape (for --profile)."""

    def __init__(self, timed: bool = False):
        self.count = 0
        self.timed = timed
        self.times: Counter = Counter()
        self.calls: Counter = Counter()

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        if not self.timed:
            return execute(sql, params, many, context)
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = " ".join(sql.split()[:6])[:90]
            self.times[key] += time.perf_counter() - started
            self.calls[key] += 1


def _is_deadlock(exc: Exception) -> bool:
    return "deadlock" in str(exc).lower() or "could not serialize" in str(exc).lower()


def _raw_order(cursor, lines, candidates) -> bool:
    with transaction.atomic():
        for product_id, quantity in lines:
            for balance_id in candidates.get(product_id, ()):
                cursor.execute(RAW_SQL, [quantity, balance_id, quantity])
                if cursor.rowcount == 1:
                    break
            else:
                transaction.set_rollback(True)
                return False
    return True


def worker(kind, queue, barrier, results, data, profile):
    connections.close_all()
    connection.ensure_connection()
    counter = QueryCounter(timed=profile)
    outcomes: Counter = Counter()
    profiler = cProfile.Profile() if profile else None
    barrier.wait()
    started, cpu_started = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(counter):
        if profiler:
            profiler.enable()
        while (order_id := queue.get()) is not None:
            for _attempt in range(5):
                try:
                    if kind == "raw":
                        with connection.cursor() as cursor:
                            ok = _raw_order(cursor, data["lines"][order_id], data["candidates"])
                        outcomes["allocated" if ok else "backordered"] += 1
                    else:
                        outcomes[order_allocate(order_id=order_id)] += 1
                    break
                except OperationalError as exc:  # a deadlock would be a finding: count it and retry
                    if not _is_deadlock(exc):
                        raise
                    outcomes["deadlock_retries"] += 1
        if profiler:
            profiler.disable()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if profiler:
        path = os.path.join(tempfile.gettempdir(), f"bench-{kind}-{os.getpid()}.prof")
        profiler.dump_stats(path)
        print(f"\n[{kind}] cProfile of one worker: {path}; SQL time of that worker by statement:")
        for key, spent in counter.times.most_common(12):
            print(f"  {spent * 1000:9.1f} ms  {counter.calls[key]:6d} x  {key}")
    results.put({"outcomes": dict(outcomes), "queries": counter.count, "elapsed": elapsed, "cpu": cpu})
    connections.close_all()


def run(kind: str, data: dict, workers: int, profile: bool) -> dict:
    ctx = mp.get_context("fork")
    queue, results = ctx.Queue(), ctx.Queue()
    for order_id in data["order_ids"]:
        queue.put(order_id)
    for _ in range(workers):
        queue.put(None)
    barrier = ctx.Barrier(workers + 1)
    connections.close_all()  # children must not share the parent's socket
    procs = [
        ctx.Process(target=worker, args=(kind, queue, barrier, results, data, profile and i == 0))
        for i in range(workers)
    ]
    for p in procs:
        p.start()
    barrier.wait()
    started = time.perf_counter()
    reports = [results.get() for _ in procs]
    elapsed = time.perf_counter() - started
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise SystemExit(f"{kind} worker failed with exit code {p.exitcode}")
    outcomes: Counter = Counter()
    for r in reports:
        outcomes.update(r["outcomes"])
    orders = len(data["order_ids"])
    return {
        "elapsed": elapsed,
        "orders_per_s": orders / elapsed,
        "outcomes": dict(outcomes),
        "queries_per_order": sum(r["queries"] for r in reports) / orders,
        "client_cpu_ms_per_order": sum(r["cpu"] for r in reports) * 1000 / orders,
        "allocated_units": StockBalance.objects.aggregate(s=Sum("allocated"))["s"] or 0,
    }


# -- checks ----------------------------------------------------------------------------------


def oversold(data: dict) -> list[str]:
    problems = []
    over = StockBalance.objects.filter(allocated__gt=F("on_hand")).exclude(allocated=0).count()
    if over:
        problems.append(f"{over} balances with allocated > on_hand")
    for row in (
        StockBalance.objects.filter(location__is_sellable=True).values("product_id").annotate(a=Sum("allocated"))
    ):
        if row["a"] > data["supply"][str(row["product_id"])]:
            problems.append(
                f"product {row['product_id']}: {row['a']} allocated of {data['supply'][str(row['product_id'])]}"
            )
    return problems


def accounting() -> list[str]:
    """Every reserved unit belongs to exactly one allocation of an allocated order, line by line."""
    problems = []
    statuses = Counter(Order.objects.values_list("status", flat=True))
    if set(statuses) - {Status.ALLOCATED, Status.BACKORDERED}:
        problems.append(f"orders left in other states: {dict(statuses)}")
    by_balance = dict(OrderAllocation.objects.values_list("balance_id").annotate(q=Sum("quantity")))
    for balance_id, allocated in StockBalance.objects.filter(allocated__gt=0).values_list("pk", "allocated"):
        if by_balance.pop(balance_id, 0) != allocated:
            problems.append(f"balance {balance_id}: allocated {allocated} != its allocations")
    if any(by_balance.values()):
        problems.append(f"allocations on balances that reserve nothing: {by_balance}")
    per_line = dict(OrderAllocation.objects.values_list("line_id").annotate(q=Sum("quantity")))
    lines = OrderLine.objects.values_list(
        "pk", "order__status", "quantity", "allocated_quantity", "backordered_quantity"
    )
    for pk, status, quantity, allocated, backordered in lines:
        if status == Status.ALLOCATED and not (allocated == quantity == per_line.get(pk, 0) and backordered == 0):
            problems.append(f"line {pk} of an allocated order: {allocated}/{quantity}, allocations {per_line.get(pk)}")
        if status == Status.BACKORDERED and not (allocated == 0 and backordered == quantity and pk not in per_line):
            problems.append(f"line {pk} of a backorder: allocated {allocated}, backordered {backordered}")
    return problems


def undersold(data: dict) -> tuple[int, int]:
    """Backorders that could have shipped complete from what is still available to them: (orders, units).

    First ordered, first served (orders.services, inventory.stock_reserve): a backorder ahead in the
    queue keeps the units it waits for when what is free covers all of them (it ships complete);
    one still short of any product keeps nothing. Walking the backorders in queue order, each is
    checked against what is left after the ones ahead kept theirs.
    """
    available = Counter()
    for product_id, free in (
        StockBalance.objects.filter(location__is_sellable=True)
        .values_list("product_id")
        .annotate(free=Sum(F("on_hand") - F("allocated")))
    ):
        available[str(product_id)] = free
    orders = units = 0
    queue = Order.objects.filter(status=Status.BACKORDERED).order_by("-priority", "created_at", "pk")
    for order_id in queue.values_list("pk", flat=True):
        needs = Counter()
        for product_id, quantity in data["lines"][str(order_id)]:
            needs[product_id] += quantity
        if all(available[p] >= q for p, q in needs.items()):
            orders += 1
            units += sum(needs.values())
            for p, q in needs.items():
                available[p] -= q  # kept for this backorder: later ones wait behind it
    return orders, units


# -- main ------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--profile", action="store_true", help="cProfile the first worker of each run")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    args = parser.parse_args()

    with bench_database(keep=args.keep):
        t = time.perf_counter()
        data = build_data(orders=args.orders, seed=args.seed)
        print(
            f"set-up: {args.orders} orders x 3 lines, {PRODUCTS} products, {data['balances']} stocked balances, "
            f"demand {data['demand']} units / supply {sum(data['supply'].values())} units "
            f"({data['demand'] / sum(data['supply'].values()):.1%}) in {time.perf_counter() - t:.1f}s"
        )

        raw = run("raw", data, args.workers, args.profile)
        raw_problems = oversold(data)
        StockBalance.objects.filter(allocated__gt=0).update(allocated=0)  # both runs start from the same stock

        ours = run("ours", data, args.workers, args.profile)
        problems = oversold(data)
        problems += accounting()
        under_orders, under_units = undersold(data)
        ledger = ledger_differences()
        allocated_lines = OrderLine.objects.filter(order__status=Status.ALLOCATED).aggregate(s=Sum("quantity"))["s"]
        if allocated_lines != ours["allocated_units"]:
            problems.append(f"allocated lines {allocated_lines} != reserved units {ours['allocated_units']}")

    ratio = ours["orders_per_s"] / raw["orders_per_s"]
    print()
    print(
        f"{'run':<6}{'orders':>8}{'elapsed s':>11}{'orders/s':>10}{'queries/order':>15}{'py cpu ms/order':>17}"
        f"{'allocated units':>17}  outcomes"
    )
    for name, r in (("raw", raw), ("ours", ours)):
        print(
            f"{name:<6}{args.orders:>8}{r['elapsed']:>11.2f}{r['orders_per_s']:>10.0f}{r['queries_per_order']:>15.1f}"
            f"{r['client_cpu_ms_per_order']:>17.2f}{r['allocated_units']:>17}  {r['outcomes']}"
        )
    print()
    print(f"oversold (ours): {problems or '0'}")
    print(f"oversold (raw):  {raw_problems or '0'}")
    print(f"undersold (ours): {under_orders} orders, {under_units} units")
    print(f"ledger_differences(): {ledger if ledger else '[]'}")
    verdict = "OK" if ratio >= GOAL else "BELOW GOAL"
    print(f"ratio ours/raw: {ratio:.2f} (goal >= {GOAL}) {verdict}")
    ok = not problems and not raw_problems and not ledger and under_orders == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
