"""Intake benchmark: orders through POST /api/v1/orders/bulk/ over HTTP against raw multi-row INSERTs.

    make bench            (or: .venv/bin/python bench/intake.py [--orders N] [--clients N] [--profile])

PostgreSQL and Redis. DATABASE_URL names a server and a base name (default
postgres://postgres@127.0.0.1:5432/fulfillment_bench_intake); the benchmark works in Django's
test database for it (``test_<name>``), created from the migrations at start and dropped at the
end. REDIS_URL (default redis://127.0.0.1:6379/9) is the broker of the Celery worker it starts.

The run:
1. set-up (not measured): one tenant with an API key, one warehouse, 200 products, stock for
   every order; 10,000 order payloads of 3 distinct products with varied, valid addresses
   (CA, US, GB postal formats), serialised to JSON bodies of 1,000 orders before the clock starts;
2. ours: gunicorn (4 sync workers) and a Celery worker on the allocation queue are started;
   4 client threads POST the bodies to /api/v1/orders/bulk/ with keep-alive connections; timed
   from the first request to the last answer; every item must be 201. Then it waits until every
   order is allocated and reports the time from the first call;
3. raw: the same orders and lines (same columns and values, other external ids) written by 4
   processes with one multi-row ``INSERT ... VALUES`` of 1,000 orders and one of their 3,000 lines
   per transaction, on psycopg connections: the floor for getting the rows into PostgreSQL (the
   rows are built before the clock starts; the clock runs from all clients connected to the last
   commit);
4. ratio = ours orders/s / raw orders/s; goal >= 0.25.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

from common import ROOT, analyze, bench_database, setup_django

setup_django(database="fulfillment_bench_intake", redis_url="redis://127.0.0.1:6379/9")

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connections  # noqa: E402
from django.utils import timezone  # noqa: E402

from fulfillment.tenancy.services import tenant_create  # noqa: E402
from inventory.models import Location, Lot, MovementReason, Product  # noqa: E402
from inventory.services import stock_transfer, warehouse_create  # noqa: E402
from orders.models import Order, Status  # noqa: E402

GOAL = 0.25
PRODUCTS = 200
BATCH = 1000
PORT = 8765
ADDRESSES = [
    # (country, region, city, postal code pattern, phone prefix)
    (
        "CA",
        "ON",
        "Toronto",
        lambda r: (
            f"M{r.randint(1, 9)}{r.choice('ABCEGHJKLMNPRSTVXY')} {r.randint(1, 9)}"
            f"{r.choice('ABCEGHJKLMNPRSTVWXYZ')}{r.randint(1, 9)}"
        ),
        "+1416555",
    ),
    (
        "CA",
        "QC",
        "Montreal",
        lambda r: (
            f"H{r.randint(1, 9)}{r.choice('ABCEGHJKLMNPRSTVXY')} {r.randint(1, 9)}"
            f"{r.choice('ABCEGHJKLMNPRSTVWXYZ')}{r.randint(1, 9)}"
        ),
        "+1514555",
    ),
    ("US", "NY", "New York", lambda r: f"100{r.randint(1, 99):02d}", "+1212555"),
    ("US", "CA", "San Francisco", lambda r: f"941{r.randint(2, 99):02d}", "+1415555"),
    ("GB", "", "London", lambda r: f"SW1A {r.randint(1, 9)}AA", "+44207946"),
]


def payloads(*, orders: int, seed: int, prefix: str) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for n in range(orders):
        country, region, city, postal, phone = rng.choice(ADDRESSES)
        out.append(
            {
                "external_id": f"{prefix}-{n}",
                "shipping_method": rng.choice(["standard", "standard", "standard", "express", "same_day"]),
                "payment_status": "paid",
                "currency": "CAD",
                "ship_to": {
                    "name": f"Shopper {n}",
                    "line1": f"{rng.randint(1, 999)} Main Street",
                    "city": city,
                    "region": region,
                    "postal_code": postal(rng),
                    "country": country,
                    "phone": f"{phone}{rng.randint(0, 9999):04d}",
                    "email": f"shopper{n}@example.com",
                },
                "lines": [
                    {"sku": f"BENCH-{i:04d}", "quantity": rng.randint(1, 3), "unit_price": "19.99"}
                    for i in rng.sample(range(PRODUCTS), 3)
                ],
            }
        )
    return out


def set_up(*, orders: int) -> tuple[str, object]:
    tenant, key = tenant_create(slug="bench", name="Bench merchant", default_warehouse_code="BENCH")
    warehouse = warehouse_create(code="BENCH", name="Bench", aisles=10, bays=10, levels=2)
    storage = list(Location.objects.filter(warehouse=warehouse, is_sellable=True).order_by("pick_sequence"))
    products = Product.objects.bulk_create(
        [Product(tenant=tenant, sku=f"BENCH-{i:04d}", name=f"Bench product {i}", weight_g=200) for i in range(PRODUCTS)]
    )
    per_product = orders * 3 * 3 // PRODUCTS * 2  # twice the most that could be asked
    lots = Lot.objects.bulk_create(
        [Lot(tenant=tenant, product=p, code="L1", received_at=timezone.now()) for p in products]
    )
    for i, (product, lot) in enumerate(zip(products, lots, strict=True)):
        stock_transfer(
            tenant_id=tenant.pk,
            product_id=product.pk,
            lot_id=lot.pk,
            warehouse_id=warehouse.pk,
            source_code="V-SUPPLIER",
            target=storage[i % len(storage)],
            quantity=per_product,
            reason=MovementReason.RECEIPT,
            reference="bench set-up",
        )
    analyze()
    return key, tenant


def _database_url() -> str:
    db = settings.DATABASES["default"]
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    return f"postgres://{quote(db['USER'], safe='')}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_servers(*, workers: int, log_dir: Path) -> list[subprocess.Popen]:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "API_RATE_LIMIT": "off",
        "DJANGO_HTTPS": "0",
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    bin_dir = Path(sys.executable).parent
    web = subprocess.Popen(
        [str(bin_dir / "gunicorn"), "fulfillment.wsgi:application", "--bind", f"127.0.0.1:{PORT}",
         "--workers", str(workers), "--timeout", "300", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=open(log_dir / "gunicorn.log", "w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    worker = subprocess.Popen(
        [str(bin_dir / "celery"), "-A", "fulfillment", "worker", "-Q", "allocation,default,webhooks",
         "--concurrency", "2", "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=open(log_dir / "worker.log", "w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return [web, worker]
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer on port {PORT}; see {log_dir / 'gunicorn.log'}")


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def run_ours(bodies: list[bytes], *, key: str, clients: int) -> dict:
    queue = list(enumerate(bodies))
    lock = threading.Lock()
    statuses: dict[int, int] = {}
    failures: list[str] = []

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=300)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        while True:
            with lock:
                if not queue:
                    return
                index, body = queue.pop(0)
            conn.request("POST", "/api/v1/orders/bulk/", body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            if response.status != 200:
                failures.append(f"call {index}: HTTP {response.status} {data[:300]!r}")
                continue
            for item in json.loads(data)["results"]:
                with lock:
                    statuses[item["status"]] = statuses.get(item["status"], 0) + 1
                if item["status"] != 201 and len(failures) < 5:
                    failures.append(f"call {index} item {item['index']}: {item}")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    return {"elapsed": elapsed, "statuses": statuses, "failures": failures, "started": start}


def wait_allocated(*, expected: int, started: float, timeout: float) -> tuple[float | None, int]:
    deadline = time.time() + timeout
    allocated = 0
    while time.time() < deadline:
        allocated = Order.objects.filter(status=Status.ALLOCATED).count()
        if allocated >= expected:
            return time.perf_counter() - started, allocated
        time.sleep(0.25)
    return None, allocated


_ORDER_COLUMNS = (
    "id, tenant_id, number, external_id, parent_id, warehouse_id, status, hold_reasons, address_errors, "
    "shipping_method, payment_status, currency, ship_to, priority, ship_by, promised_delivery_date, "
    "created_at, updated_at"
)
_LINE_COLUMNS = (
    "tenant_id, order_id, product_id, sku, quantity, unit_price, allocated_quantity, backordered_quantity, "
    "picked_quantity, shipped_quantity"
)


def run_raw(orders: list[dict], *, tenant, clients: int) -> dict:
    """The same rows by multi-row INSERT: one statement for 1,000 orders and one for their lines."""
    warehouse_id = Order._meta.get_field("warehouse").related_model.objects.get(code="BENCH").pk
    products = dict(Product.objects.filter(tenant=tenant).values_list("sku", "pk"))
    now = timezone.now()
    priority = {"same_day": 30, "express": 20, "standard": 10}
    chunks = []
    for start in range(0, len(orders), BATCH):
        order_rows, line_rows = [], []
        for n, o in enumerate(orders[start : start + BATCH], start=start):
            order_id = uuid.uuid4()
            order_rows.append(
                (order_id, tenant.pk, f"R{n:07d}", "RAW-" + o["external_id"], None, warehouse_id, "received", "[]",
                 "[]", o["shipping_method"], o["payment_status"], o["currency"], json.dumps(o["ship_to"]),
                 priority[o["shipping_method"]], now, now.date(), now, now)
            )  # fmt: skip
            for line in o["lines"]:
                line_rows.append(
                    (tenant.pk, order_id, products[line["sku"]], line["sku"], line["quantity"], line["unit_price"],
                     0, 0, 0, 0)
                )  # fmt: skip
        chunks.append((order_rows, line_rows))
    db = settings.DATABASES["default"]
    dsn = psycopg.conninfo.make_conninfo(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"],
        password=db.get("PASSWORD") or None,
    )  # fmt: skip
    # Processes, not threads: building and adapting the parameters is Python work, and the floor
    # should not be held back by the GIL. The chunks are inherited by fork, so nothing is pickled.
    global _RAW_CHUNKS
    _RAW_CHUNKS = chunks
    context = mp.get_context("fork")
    start_barrier = context.Barrier(clients + 1)
    processes = [context.Process(target=_raw_client, args=(dsn, i, clients, start_barrier)) for i in range(clients)]
    for process in processes:
        process.start()
    start_barrier.wait()  # every client connected: the clock starts
    start = time.perf_counter()
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - start
    if any(process.exitcode for process in processes):
        raise SystemExit("a raw client failed")
    return {"elapsed": elapsed}


_RAW_CHUNKS: list = []


def _raw_client(dsn: str, index: int, clients: int, start_barrier) -> None:
    with psycopg.connect(dsn) as conn:
        start_barrier.wait()
        for order_rows, line_rows in _RAW_CHUNKS[index::clients]:
            with conn.transaction(), conn.cursor() as cursor:
                values = ",".join(["(" + ",".join(["%s"] * 18) + ")"] * len(order_rows))
                cursor.execute(
                    f"INSERT INTO orders_order ({_ORDER_COLUMNS}) VALUES {values}",
                    [v for row in order_rows for v in row],
                )
                values = ",".join(["(" + ",".join(["%s"] * 10) + ")"] * len(line_rows))
                cursor.execute(
                    f"INSERT INTO orders_orderline ({_LINE_COLUMNS}) VALUES {values}",
                    [v for row in line_rows for v in row],
                )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    args = parser.parse_args()

    log_dir = ROOT / "var" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    processes: list[subprocess.Popen] = []
    with bench_database(keep=args.keep):
        try:
            key, tenant = set_up(orders=args.orders)
            orders = payloads(orders=args.orders, seed=args.seed, prefix="BULK")
            bodies = [json.dumps({"orders": orders[i : i + BATCH]}).encode() for i in range(0, len(orders), BATCH)]
            print(f"set-up: {args.orders} orders x 3 lines in {len(bodies)} bulk calls, {PRODUCTS} products in stock")
            connections.close_all()
            processes = start_servers(workers=args.web_workers, log_dir=log_dir)
            ours = run_ours(bodies, key=key, clients=args.clients)
            all_allocated, allocated = wait_allocated(expected=args.orders, started=ours["started"], timeout=600)
            stop(processes)
            processes = []
            raw = run_raw(orders, tenant=tenant, clients=args.clients)
            created = Order.objects.filter(external_id__startswith="BULK-").count()
        finally:
            stop(processes)

    ours_rate = args.orders / ours["elapsed"]
    raw_rate = args.orders / raw["elapsed"]
    ratio = ours_rate / raw_rate
    print()
    print(f"{'run':<6}{'orders':>8}{'elapsed s':>11}{'orders/s':>10}")
    print(f"{'raw':<6}{args.orders:>8}{raw['elapsed']:>11.2f}{raw_rate:>10.0f}")
    print(f"{'ours':<6}{args.orders:>8}{ours['elapsed']:>11.2f}{ours_rate:>10.0f}  item statuses {ours['statuses']}")
    for failure in ours["failures"][:5]:
        print(f"  failure: {failure}")
    print(f"orders created: {created}")
    if all_allocated is None:
        print(f"allocated: only {allocated} of {args.orders} after 600 s")
    else:
        print(f"every order allocated {all_allocated:.1f} s after the first call")
    verdict = "OK" if ratio >= GOAL else "BELOW GOAL"
    print(f"ratio ours/raw: {ratio:.2f} (goal >= {GOAL}) {verdict}")
    ok = not ours["failures"] and created == args.orders and all_allocated is not None
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
