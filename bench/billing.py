"""Billing benchmark: an invoice over one merchant's 1,000,000 fee rows, and the nightly storage
snapshot over 100,000 stock balances.

    .venv/bin/python bench/billing.py [--fees N] [--balances N] [--profile] [--keep]

PostgreSQL only. DATABASE_URL names a server and a base name (default
postgres://postgres@127.0.0.1:5432/fulfillment_bench); the benchmark works in Django's test
database for it (``test_<name>``), created from the migrations at start and dropped at the end.

The run:
1. set-up in SQL (not measured): 50 merchants; merchant 1 gets N fee rows (default 1,000,000) of
   every kind spread over November 2026, merchant 2 a few thousand (which must stay off merchant
   1's invoice); a warehouse of 40 aisles x 50 bays x 5 levels (10,000 storage locations), 2,000
   products across the merchants with assorted dimensions, one lot each, and M balances (default
   100,000) with 1-500 units on hand each. ANALYZE, as autovacuum would.
2. ``invoice_issue`` for merchant 1, November (wall time; goal under 10 s): the fees frozen to it,
   the lines per kind. Checks: the invoice's fee count is N, its subtotal is the sum of merchant
   1's fee amounts in SQL, the lines add up to it, no fee of merchant 2 is on it, and invoicing
   November again is refused (409). Then the CSV of its fee rows (timed, for information).
3. ``storage_snapshot_take`` for one day (wall time; goal under 30 s). Checks: per merchant, the
   snapshot's units are the sum of its balances' on hand; one storage fee per snapshot row,
   priced at the default card, amount = round(volume x price, 2); a second run adds nothing.
Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from datetime import UTC, date, datetime
from decimal import Decimal

import time_machine
from common import analyze, bench_database, setup_django, timed

setup_django(database="fulfillment_bench")

from django.db import connection  # noqa: E402

from billing import documents  # noqa: E402
from billing.models import Invoice, InvoiceFee, InvoiceLine, StorageSnapshot  # noqa: E402
from billing.services import invoice_issue, storage_snapshot_take  # noqa: E402
from fulfillment.errors import Refusal  # noqa: E402
from fulfillment.fees.models import Fee, FeeKind  # noqa: E402
from fulfillment.tenancy.models import Tenant  # noqa: E402
from inventory.models import Lot, Product  # noqa: E402
from inventory.services import warehouse_create  # noqa: E402

MERCHANTS, PRODUCTS = 50, 2000
NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)

FEES_SQL = """
INSERT INTO fees_fee (tenant_id, kind, quantity, unit_price, amount, currency, cost, source_type, source_id,
                      source_ref, warehouse_code, occurred_at, recorded_at, rate_card, dedupe_key, reason, actor)
SELECT %(tenant)s, k.kind, q.qty, k.price, round(q.qty * k.price, 2), 'CAD', NULL, 'order', 'o' || g, 'N-' || g,
       'MAIN', %(start)s + (g %% 2592000) * interval '1 second', %(start)s, 'default@2000-01-01', NULL, '', 'bench'
FROM generate_series(1, %(n)s) g
CROSS JOIN LATERAL (SELECT (ARRAY['receiving','pick','pick_extra_unit','pack','materials','shipping','return',
                                  'return_unit','storage'])[1 + g %% 9] AS kind,
                           (ARRAY[0.25, 2.5, 0.5, 1.0, 1.37, 11.83, 3.0, 0.75, 0.6])[1 + g %% 9]::numeric AS price) k
CROSS JOIN LATERAL (SELECT (1 + (g::bigint * 7919) %% 13)::numeric AS qty) q
"""

BALANCES_SQL = """
INSERT INTO inventory_stockbalance (tenant_id, product_id, location_id, lot_id, on_hand, allocated)
SELECT p.tenant_id, p.id, l.id, lot.id, 1 + (g * 31) %% 500, 0
FROM generate_series(0, %(n)s - 1) g
JOIN (SELECT id, tenant_id, row_number() OVER (ORDER BY id) - 1 AS i FROM inventory_product) p
  ON p.i = g %% %(products)s
JOIN inventory_lot lot ON lot.product_id = p.id
JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS i FROM inventory_location
      WHERE warehouse_id = %(warehouse)s AND kind = 'storage') l
  ON l.i = (g / %(products)s) %% %(locations)s
"""


def setup(*, fees: int, balances: int) -> tuple[Tenant, Tenant]:
    tenants = [Tenant(slug=f"m{i:02d}", name=f"Merchant {i:02d}") for i in range(1, MERCHANTS + 1)]
    Tenant.objects.bulk_create(tenants)
    first, second = tenants[0], tenants[1]
    warehouse = warehouse_create(code="MAIN", name="Main", aisles=40, bays=50, levels=5)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    products = Product.objects.bulk_create(
        Product(
            tenant=tenants[g % MERCHANTS],
            sku=f"SKU-{g}",
            name=f"Product {g}",
            weight_g=250,
            length_mm=50 + (g * 37) % 450,
            width_mm=40 + (g * 53) % 360,
            height_mm=10 + (g * 71) % 290,
        )
        for g in range(PRODUCTS)
    )
    Lot.objects.bulk_create(Lot(tenant_id=p.tenant_id, product=p, code="LOT-1", received_at=start) for p in products)
    with connection.cursor() as cursor:
        cursor.execute(FEES_SQL, {"tenant": first.pk, "start": start, "n": fees})
        cursor.execute(FEES_SQL, {"tenant": second.pk, "start": start, "n": 5000})
        cursor.execute(
            "SELECT count(*) FROM inventory_location WHERE warehouse_id = %s AND kind = 'storage'", [warehouse.pk]
        )
        (locations,) = cursor.fetchone()
        cursor.execute(
            BALANCES_SQL,
            {"n": balances, "products": PRODUCTS, "warehouse": warehouse.pk, "locations": locations},
        )
    analyze()
    print(f"set-up: {fees:,} fees of {first.slug} (+5,000 of {second.slug}), {balances:,} balances, "
          f"{locations:,} storage locations, {PRODUCTS:,} products of {MERCHANTS} merchants")  # fmt: skip
    return first, second


def check(failures: list[str], ok: bool, what: str) -> None:
    print(f"  {'ok  ' if ok else 'FAIL'} {what}")
    if not ok:
        failures.append(what)


def run_invoice(first: Tenant, second: Tenant, *, fees: int, failures: list[str], profile: bool) -> float:
    profiler = cProfile.Profile() if profile else None
    with time_machine.travel(NOW, tick=True):
        if profiler:
            profiler.enable()
        invoice, wall, cpu = timed(
            invoice_issue,
            tenant_id=first.pk,
            period_start=date(2026, 11, 1),
            period_end=date(2026, 11, 30),
            actor="bench",
        )
        if profiler:
            profiler.disable()
        print(
            f"invoice over {fees:,} fees: {wall:.2f} s wall, {cpu:.2f} s client CPU (goal < 10 s) -> {invoice.number}"
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT sum(amount), count(*) FROM fees_fee WHERE tenant_id = %s", [first.pk])
            total, count = cursor.fetchone()
        lines = list(InvoiceLine.objects.filter(invoice=invoice))
        check(failures, invoice.fee_count == fees == count, f"fee count {invoice.fee_count:,} = {fees:,}")
        check(failures, invoice.subtotal == total, f"subtotal {invoice.subtotal} = SQL sum {total}")
        check(failures, sum(line.amount for line in lines) == invoice.subtotal, f"{len(lines)} lines add up")
        check(
            failures,
            not InvoiceFee.objects.filter(invoice_id=invoice.pk, fee__tenant=second).exists(),
            "no fee of another merchant on it",
        )
        try:
            invoice_issue(tenant_id=first.pk, period_start=date(2026, 11, 1), period_end=date(2026, 11, 30))
            check(failures, False, "invoicing November again is refused")
        except Refusal as refused:
            check(failures, refused.status == 409, "invoicing November again is refused (409)")
        spool, csv_wall, _ = timed(documents.fees_csv_file, invoice)
        size = spool.seek(0, 2)
        print(f"  CSV of its fee rows: {csv_wall:.2f} s, {size / 1e6:.0f} MB (for information; no goal)")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(15)
    return wall


def run_storage(*, balances: int, failures: list[str]) -> float:
    with time_machine.travel(NOW, tick=True):
        run, wall, cpu = timed(storage_snapshot_take, day=date(2026, 12, 1))
        print(
            f"storage snapshot over {balances:,} balances: {wall:.2f} s wall, {cpu:.2f} s client CPU (goal < 30 s) "
            f"-> {run.snapshots} snapshots, {run.fees} fees"
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT b.tenant_id, sum(b.on_hand) FROM inventory_stockbalance b "
                "JOIN inventory_location l ON l.id = b.location_id AND NOT l.is_virtual GROUP BY b.tenant_id"
            )
            held = dict(cursor.fetchall())
        snaps = {s.tenant_id: s for s in StorageSnapshot.objects.filter(day=date(2026, 12, 1))}
        check(failures, {t: s.units for t, s in snaps.items()} == held, f"units per merchant ({len(held)}) = balances")
        storage = {f.tenant_id: f for f in Fee.objects.filter(kind=FeeKind.STORAGE, source_ref="2026-12-01")}
        check(failures, set(storage) == set(snaps) and run.fees == len(snaps), "one storage fee per snapshot")
        check(
            failures,
            all(
                f.amount == (snaps[t].volume_m3 * Decimal("0.60")).quantize(Decimal("0.01")) for t, f in storage.items()
            ),
            "amounts = round(volume x 0.60, 2)",
        )
        again = storage_snapshot_take(day=date(2026, 12, 1))
        check(failures, (again.snapshots, again.fees) == (0, 0), "a second run adds nothing")
    return wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fees", type=int, default=1_000_000)
    parser.add_argument("--balances", type=int, default=100_000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    failures: list[str] = []
    with bench_database(keep=args.keep):
        with time_machine.travel(NOW, tick=True):
            first, second = setup(fees=args.fees, balances=args.balances)
        invoice_wall = run_invoice(first, second, fees=args.fees, failures=failures, profile=args.profile)
        storage_wall = run_storage(balances=args.balances, failures=failures)
        assert Invoice.objects.count() == 1
    print(f"summary: invoice {invoice_wall:.2f} s (goal < 10), storage {storage_wall:.2f} s (goal < 30)")
    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
