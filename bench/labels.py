"""Label benchmark: rate shopping and label purchase for 1,000 packed orders through the Celery worker.

    make bench            (or: .venv/bin/python bench/labels.py [--orders N] [--concurrency N] [--profile] [--keep])

PostgreSQL and Redis. DATABASE_URL names a server and a base name (default
postgres://postgres@127.0.0.1:5432/fulfillment_bench_labels); the benchmark works in Django's
test database for it (``test_<name>``), created from the migrations at start and dropped at the
end. REDIS_URL (default redis://127.0.0.1:6379/9) is the broker of the Celery worker it starts.

The run:
1. set-up through the services (not measured): one tenant, warehouse BENCH with a full ship-from
   address (Mississauga ON), 40 products with dimensions in stock; the generic account
   ``demo-post`` (migration 0006) and a FedEx account ``fedex-bench`` (ground and 2-day) both
   active, so every rate shop asks both; N orders (default 1,000) to Canadian addresses of 1-3
   lines, 80% standard and 20% express, every second one with requested_carrier fedex-bench,
   created in one ``order_create_many``, then per order ``order_allocate``, picked in full,
   ``order_mark_picked`` and ``order_pack`` (cartonization). The label purchases packing
   enqueues on commit are held back, not sent;
2. a Celery worker (bench/labels_worker.py: the project's app with the recorded FedEx answers and
   timers; ``-Q shipping``, concurrency 2, prefork) is started and waited for; then every
   purchase task is sent at once and the clock runs from the first send to the last order's
   ``shipped`` timeline entry;
3. figures: labels/s; per order from the purchase's start (``LabelPurchase.started_at``, before
   the rate shop) to the order's shipped entry, p50 / p95 / max, by carrier; the worker's time per
   step and inside karrio (``gateway.rates`` / ``gateway.buy``) as a share of the tasks' time;
   CPU per label of the pool, the celery main process and the worker's PostgreSQL backends;
4. checks: every order shipped with one bought purchase, recorded on its shipment with a label (a
   PDF for FedEx, ZPL for the rate sheet), the requested carrier honoured, no exception opened,
   no task that raised, no OAuth or other unrecorded HTTP call. Exit status 1 when one fails.

Goal: at least 20 labels/s on this machine (2 cores).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

from common import ROOT, analyze, bench_database, setup_django

setup_django(database="fulfillment_bench_labels", redis_url="redis://127.0.0.1:6379/9")

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connections, transaction  # noqa: E402
from django.db.models import Count, Q  # noqa: E402
from django.utils import timezone  # noqa: E402

import fulfillment.jobs as jobs  # noqa: E402
from fulfillment.tenancy.services import tenant_create  # noqa: E402
from inventory.models import Location, Lot, MovementReason, Product  # noqa: E402
from inventory.services import stock_transfer, warehouse_create  # noqa: E402
from orders import services as orders_services  # noqa: E402
from orders.models import Order, OrderAllocation, OrderEvent, Status  # noqa: E402
from packing import services as packing_services  # noqa: E402
from packing.models import Shipment  # noqa: E402
from shipping import selectors  # noqa: E402
from shipping.models import CarrierAccount, LabelPurchase, PurchaseStatus, ShippingException  # noqa: E402
from shipping.services import carrier_account_create  # noqa: E402

GOAL = 20.0  # labels per second
PRODUCTS = 40
PURCHASE_TASK = "shipping.tasks.purchase_label"
FEDEX = "fedex-bench"
FEDEX_CREDENTIALS = {"api_key": "bench-api-key", "secret_key": "bench-secret-key", "account_number": "510087020"}
STATS_KEY = "bench:labels:stats"
ADDRESSES = [
    # (region, city, postal code pattern, phone prefix)
    ("ON", "Toronto", lambda r: f"M{r.randint(1, 9)}{r.choice('ABCEGHJKLMNPRSTVXY')} {r.randint(1, 9)}"
     f"{r.choice('ABCEGHJKLMNPRSTVWXYZ')}{r.randint(1, 9)}", "+1416555"),
    ("QC", "Montreal", lambda r: f"H{r.randint(1, 9)}{r.choice('ABCEGHJKLMNPRSTVXY')} {r.randint(1, 9)}"
     f"{r.choice('ABCEGHJKLMNPRSTVWXYZ')}{r.randint(1, 9)}", "+1514555"),
    ("BC", "Vancouver", lambda r: f"V{r.randint(5, 6)}{r.choice('ABCEGHJKLMNPRSTVXY')} {r.randint(1, 9)}"
     f"{r.choice('ABCEGHJKLMNPRSTVWXYZ')}{r.randint(1, 9)}", "+1604555"),
]  # fmt: skip


# -- set-up ----------------------------------------------------------------------------------------


def _order_inputs(*, orders: int, rng: random.Random) -> list:
    items = []
    for n in range(orders):
        region, city, postal, phone = rng.choice(ADDRESSES)
        items.append(
            orders_services.OrderInput(
                external_id=f"LBL-{n}",
                shipping_method="express" if rng.random() < 0.2 else "standard",
                payment_status="paid",
                currency="CAD",
                ship_to={
                    "name": f"Shopper {n}",
                    "line1": f"{rng.randint(1, 999)} Main Street",
                    "city": city,
                    "region": region,
                    "postal_code": postal(rng),
                    "country": "CA",
                    "phone": f"{phone}{rng.randint(0, 9999):04d}",
                    "email": f"shopper{n}@example.com",
                },
                lines=[
                    orders_services.LineInput(f"LBL-{i:03d}", rng.randint(1, 2))
                    for i in rng.sample(range(PRODUCTS), rng.randint(1, 3))
                ],
                requested_carrier=FEDEX if n % 2 else "",
            )
        )
    return items


def set_up(*, orders: int, seed: int) -> list[str]:
    """Everything up to packed orders; the ids of the shipments whose purchase packing enqueued."""
    rng = random.Random(seed)
    tenant, _ = tenant_create(slug="bench", name="Bench merchant", default_warehouse_code="BENCH")
    warehouse = warehouse_create(
        code="BENCH", name="Bench", aisles=4, bays=10, levels=2,
        company_name="Bench Fulfillment Inc.", contact_name="Shipping Desk", address_line1="100 Logistics Dr",
        city="Mississauga", region="ON", postal_code="L5T 2Z5", phone="+19055550100",
    )  # fmt: skip
    storage = list(Location.objects.filter(warehouse=warehouse, is_sellable=True).order_by("pick_sequence"))
    products = Product.objects.bulk_create(
        [
            Product(
                tenant=tenant,
                sku=f"LBL-{i:03d}",
                name=f"Bench product {i}",
                length_mm=rng.randint(80, 200),
                width_mm=rng.randint(60, 140),
                height_mm=rng.randint(20, 80),
                weight_g=rng.randint(100, 600),
            )  # fmt: skip
            for i in range(PRODUCTS)
        ]
    )
    lots = Lot.objects.bulk_create(
        [Lot(tenant=tenant, product=p, code="L1", received_at=timezone.now()) for p in products]
    )
    for i, (product, lot) in enumerate(zip(products, lots, strict=True)):
        stock_transfer(
            tenant_id=tenant.pk, product_id=product.pk, lot_id=lot.pk, warehouse_id=warehouse.pk,
            source_code="V-SUPPLIER", target=storage[i % len(storage)], quantity=orders * 2,
            reason=MovementReason.RECEIPT, reference="bench set-up",
        )  # fmt: skip
    carrier_account_create(
        carrier_name="fedex", carrier_id=FEDEX, display_name="FedEx (recorded)", credentials=FEDEX_CREDENTIALS,
        test_mode=True, account_country="CA",
        services=[
            {"service_code": "fedex_ground", "service_name": "FedEx Ground", "level": "standard", "transit_days": 3,
             "currency": "CAD"},
            {"service_code": "fedex_2_day", "service_name": "FedEx 2Day", "level": "express", "transit_days": 2,
             "currency": "CAD"},
        ],
    )  # fmt: skip

    held: list[dict] = []

    def hold(task_name, *, countdown=None, **kwargs):  # packing's label purchases wait; nothing else is sent
        if task_name == PURCHASE_TASK:
            held.append(kwargs)

    real_send_now, jobs.send_now = jobs.send_now, hold
    try:
        started = time.perf_counter()
        results = orders_services.order_create_many(tenant=tenant, items=_order_inputs(orders=orders, rng=rng))
        order_ids = [r.order_id for r in results if r.status == 201]
        if len(order_ids) != orders:
            raise SystemExit(f"set-up: {len(order_ids)} of {orders} orders created: {results[0].errors}")
        for order_id in order_ids:
            orders_services.order_allocate(order_id=order_id)
        orders_services.order_mark_picking_many(order_ids=order_ids, actor="bench")
        for order_id in order_ids:
            with transaction.atomic():
                for allocation in OrderAllocation.objects.filter(line__order_id=order_id).order_by("pk"):
                    orders_services.allocation_pick(
                        allocation_id=allocation.pk, quantity=allocation.quantity, actor="bench"
                    )
                orders_services.order_mark_picked(order_id=order_id, actor="bench")
        picked = time.perf_counter()
        for order_id in order_ids:
            packing_services.order_pack(order_id=order_id, actor="bench")
        packed = time.perf_counter()
    finally:
        jobs.send_now = real_send_now
    analyze()
    packages = Counter(Shipment.objects.annotate(n=Count("packages")).values_list("n", flat=True))
    print(
        f"set-up: {orders} orders created, allocated and picked in {picked - started:.1f}s, packed in "
        f"{packed - picked:.1f}s; packages per shipment {dict(sorted(packages.items()))}; "
        f"{len(held)} label purchases held back"
    )
    return [item["shipment_id"] for item in held]


# -- the worker -------------------------------------------------------------------------------------


def _database_url() -> str:
    db = settings.DATABASES["default"]
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    return f"postgres://{quote(db['USER'], safe='')}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(*, concurrency: int, log_dir: Path, profile: bool, broker) -> subprocess.Popen:
    account = CarrierAccount.objects.get(carrier_id=FEDEX)
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_DEBUG": "0",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT)]),
        "BENCH_LABELS_STATS": STATS_KEY,
        "BENCH_FEDEX_KEY": selectors.connection(account).key,
        "BENCH_FEDEX_CACHE_KEY": f"fedex|{FEDEX_CREDENTIALS['api_key']}|{FEDEX_CREDENTIALS['secret_key']}",
    }
    if profile:
        env["BENCH_LABELS_PROFILE"] = str(log_dir)
    broker.delete(f"{STATS_KEY}:ready")
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "labels_worker", "worker", "-Q", "shipping",
         "--concurrency", str(concurrency), "--pool", "prefork", "--loglevel", "WARNING", "--without-gossip",
         "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=open(log_dir / "labels-worker.log", "w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.time() + 90
    while time.time() < deadline:
        if broker.scard(f"{STATS_KEY}:ready") >= concurrency:
            time.sleep(1.0)  # the consumer starts after the pool
            return worker
        if worker.poll() is not None:
            break
        time.sleep(0.2)
    worker.kill()
    raise SystemExit(f"the worker did not start; see {log_dir / 'labels-worker.log'}")


def stop(worker: subprocess.Popen | None) -> None:
    if worker is None or worker.poll() is not None:
        return
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()


def _cpu_seconds(pids) -> dict[int, float]:
    """utime + stime of each process that still runs (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return found


def _backend_pids() -> list[int]:
    """The worker's PostgreSQL backends (connections persist: CONN_MAX_AGE)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


def run(shipment_ids: list[str], *, broker, timeout: float) -> tuple[float, float, float]:
    """Send every purchase at once; (epoch of the first send, seconds the sends took, CPU seconds
    of the worker's PostgreSQL backends). Returns when every order is shipped, has an open
    exception or its task failed, or after ``timeout``. The backends are sampled as it waits: a
    worker's connection is replaced once older than CONN_MAX_AGE, and its CPU goes with it."""
    started = time.time()
    for shipment_id in shipment_ids:
        jobs.send_now(PURCHASE_TASK, shipment_id=shipment_id)
    sent = time.time() - started
    deadline = started + timeout
    expected = len(shipment_ids)
    backends: dict[int, float] = {}
    while time.time() < deadline:
        backends.update(_cpu_seconds(_backend_pids()))
        shipped = Order.objects.filter(status=Status.SHIPPED).count()
        stuck = ShippingException.objects.filter(resolved_at__isnull=True).count()
        failed = sum(int(v) for k, v in broker.hgetall(STATS_KEY).items() if k.startswith(b"task failed"))
        if shipped + stuck + failed >= expected:
            break
        time.sleep(0.2)
    backends.update(_cpu_seconds(_backend_pids()))
    return started, sent, sum(backends.values())


# -- figures ----------------------------------------------------------------------------------------


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)  # nearest rank
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def report(*, started: float, sent: float, orders: int, stats: dict, oauth_calls: int, cpu: dict) -> bool:
    shipped_at = dict(
        OrderEvent.objects.filter(to_status=Status.SHIPPED).values_list("order_id", "created_at")
    )  # one each
    purchases = list(
        LabelPurchase.objects.filter(status=PurchaseStatus.BOUGHT).values_list(
            "shipment__order_id", "account__carrier_id", "started_at", "finished_at"
        )
    )
    failures = []
    if len(shipped_at) != orders:
        failures.append(f"{len(shipped_at)} of {orders} orders shipped")
    if len(purchases) != orders:
        failures.append(f"{len(purchases)} bought purchases for {orders} orders")
    attempts = LabelPurchase.objects.exclude(status=PurchaseStatus.BOUGHT).count()
    if attempts:
        failures.append(f"{attempts} purchases not bought")
    unrecorded = LabelPurchase.objects.filter(status=PurchaseStatus.BOUGHT, shipment__label_purchased_at__isnull=True)
    if unrecorded.exists():
        failures.append(
            f"{unrecorded.count()} labels bought but never recorded on their shipment (order still packed): "
            + ", ".join(unrecorded.values_list("shipment__order__number", flat=True)[:5])
        )
    failed_tasks = {step: calls for step, (calls, _) in stats.items() if step.startswith("task failed")}
    if failed_tasks:
        failures.append(f"tasks that raised: {failed_tasks} (see var/bench/labels-worker.log)")
    exceptions = list(ShippingException.objects.values_list("code", "message")[:3])
    if exceptions:
        failures.append(f"{ShippingException.objects.count()} shipping exceptions, e.g. {exceptions}")
    wrong_carrier = Shipment.objects.filter(order__requested_carrier=FEDEX).exclude(carrier_code=FEDEX).count()
    if wrong_carrier:
        failures.append(f"{wrong_carrier} orders that requested {FEDEX} shipped with another carrier")
    unrequested = Counter(
        Shipment.objects.filter(order__requested_carrier="").values_list("carrier_code", "service_code")
    )
    no_label = Shipment.objects.filter(
        Q(tracking_number="")
        | Q(carrier_code=FEDEX, label_pdf__isnull=True)
        | Q(carrier_code="demo-post", label_zpl="")
    ).count()
    if no_label:
        failures.append(f"{no_label} shipments without a tracking number or label")
    if oauth_calls:
        failures.append(f"{oauth_calls} unrecorded HTTP calls (OAuth or other)")

    if not shipped_at:
        print("nothing shipped")
        for failure in failures:
            print(f"CHECK FAILED: {failure}")
        return False
    last = max(shipped_at.values()).timestamp()
    elapsed = last - started
    rate = len(shipped_at) / elapsed
    per_order = {"all": [], FEDEX: [], "demo-post": []}
    bought = {"all": [], FEDEX: [], "demo-post": []}
    for order_id, carrier, start, finish in purchases:
        if order_id in shipped_at:
            seconds = (shipped_at[order_id] - start).total_seconds() * 1000
            per_order["all"].append(seconds)
            per_order[carrier].append(seconds)
            bought["all"].append((finish - start).total_seconds() * 1000)
            bought[carrier].append((finish - start).total_seconds() * 1000)
    print()
    print(f"sent {orders} purchase tasks in {sent:.2f}s; every order shipped {elapsed:.2f}s after the first send")
    verdict = "MET" if rate >= GOAL else "MISSED"
    print(f"labels/s: {rate:.1f} (goal >= {GOAL:.0f}) {verdict}")
    print(f"orders without a requested carrier went to (rate shop's choice): {dict(unrequested.most_common())}")
    print()
    print(f"{'per order, ms':<34}{'n':>6}{'p50':>9}{'p95':>9}{'max':>9}{'mean':>9}")
    for name in ("all", FEDEX, "demo-post"):
        for label, values in (
            (f"start -> shipped ({name})", per_order[name]),
            (f"start -> bought ({name})", bought[name]),
        ):
            if values:
                print(
                    f"{label:<34}{len(values):>6}{_pct(values, 50):>9.1f}{_pct(values, 95):>9.1f}"
                    f"{max(values):>9.1f}{statistics.fmean(values):>9.1f}"
                )
    tasks = stats.get("task wall", (0, 0.0))
    if tasks[0]:
        total = tasks[1]
        print()
        print(f"worker time per step ({tasks[0]} tasks, {total:.1f}s of task time in the pool processes):")
        print(f"{'step':<40}{'calls':>7}{'ms/call':>9}{'ms/task':>9}{'share':>8}")
        for step in sorted(stats):
            calls, seconds = stats[step]
            if step.startswith(("fedex_http", "refused_http", "task failed")) or not calls:
                continue
            print(
                f"{step:<40}{calls:>7}{seconds / calls * 1000:>9.2f}{seconds / tasks[0] * 1000:>9.2f}"
                f"{seconds / total:>8.1%}"
            )
        karrio = sum(seconds for step, (_, seconds) in stats.items() if step.startswith("karrio "))
        print(f"inside karrio (gateway.rates + gateway.buy): {karrio / total:.1%} of task time")
        http = {step: calls for step, (calls, _) in stats.items() if step.startswith(("fedex_http", "refused_http"))}
        print(f"recorded FedEx answers: {http}")
    print()
    load = os.getloadavg()
    total_cpu = sum(cpu.values())
    print(
        f"CPU per label: {', '.join(f'{name} {seconds / orders * 1000:.1f} ms' for name, seconds in cpu.items())}; "
        f"total {total_cpu / orders * 1000:.1f} ms, so {os.cpu_count()} cores idle but for this would give at most "
        f"{os.cpu_count() * orders / total_cpu:.0f} labels/s (load average now {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f})"
    )
    for failure in failures:
        print(f"CHECK FAILED: {failure}")
    return not failures


def _stats(broker) -> tuple[dict, int]:
    raw = {k.decode(): v.decode() for k, v in broker.hgetall(STATS_KEY).items()}
    stats: dict[str, list] = {}
    for key, value in raw.items():
        step, kind = key.rsplit("|", 1)
        entry = stats.setdefault(step, [0, 0.0])
        if kind == "n":
            entry[0] = int(value)
        else:
            entry[1] = float(value)
    refused = sum(calls for step, (calls, _) in stats.items() if step.startswith("refused_http"))
    return stats, refused


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--profile", action="store_true", help="cProfile every task; stats in var/bench/")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database afterwards")
    args = parser.parse_args()

    log_dir = ROOT / "var" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    broker = redis.Redis.from_url(settings.REDIS_URL)
    broker.delete("shipping", STATS_KEY)  # this broker's shipping queue: no message of an earlier run
    worker = None
    with bench_database(keep=args.keep):
        try:
            shipment_ids = set_up(orders=args.orders, seed=args.seed)
            connections.close_all()
            worker = start_worker(concurrency=args.concurrency, log_dir=log_dir, profile=args.profile, broker=broker)
            pool = [worker.pid, *(int(pid) for pid in broker.smembers(f"{STATS_KEY}:ready"))]
            cpu_before = _cpu_seconds(pool)
            started, sent, backend_cpu = run(shipment_ids, broker=broker, timeout=600)
            time.sleep(0.5)  # the last task's timers reach Redis after its commit
            cpu_after = _cpu_seconds(pool)
            cpu = {
                "celery main process": cpu_after.get(worker.pid, 0.0) - cpu_before.get(worker.pid, 0.0),
                "pool processes": sum(cpu_after.get(p, 0.0) - cpu_before.get(p, 0.0) for p in pool[1:]),
                "PostgreSQL backends": backend_cpu,
            }
            stop(worker)
            worker = None
            stats, refused = _stats(broker)
            ok = report(started=started, sent=sent, orders=args.orders, stats=stats, oauth_calls=refused, cpu=cpu)
        finally:
            stop(worker)
            connections.close_all()
    if args.profile:
        print(f"profiles: {log_dir}/labels-worker-*.txt (.prof for pstats)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
