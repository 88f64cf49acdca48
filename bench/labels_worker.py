"""The Celery app of the label benchmark's worker (bench/labels.py starts it; not for production).

    celery -A labels_worker worker -Q shipping --concurrency 2     (PYTHONPATH=bench:., as bench/labels.py sets it)

It is the project's app (``fulfillment.celery``) with, in each pool process:

- **the recorded-response carrier**: karrio's HTTP call (``karrio.core.utils.helpers._urlopen_with_span``,
  under ``lib.request``, so karrio builds, traces and decodes every request as it would) answers
  FedEx's rate and ship endpoints from bench/recorded/, with a fresh tracking number per label
  (a shipment's tracking number is unique per carrier); any other URL, the OAuth one included,
  is refused and counted. The account's OAuth token is seeded into its karrio cache
  (``gateway.token_cache``), as a long-running worker would hold it;
- **a warm-up**: karrio's connectors imported and a rate-sheet quote and label drawn once, with a
  throwaway connection, as a long-running worker has done long before;
- **timers**: the steps of a purchase (rate shop, claim, carrier call, store, record and what is
  inside them), the karrio calls of ``shipping.carriers.gateway`` by carrier, SQL statements, the
  task's wall and CPU time, accumulated per task into a Redis hash (``BENCH_LABELS_STATS``);
- with ``BENCH_LABELS_PROFILE`` (a directory): cProfile around every task, dumped per process.

Environment (set by bench/labels.py): BENCH_LABELS_STATS, BENCH_FEDEX_KEY (the account's
``Connection.key``), BENCH_FEDEX_CACHE_KEY (karrio's token cache key), BENCH_LABELS_PROFILE.
"""

from __future__ import annotations

import contextlib
import cProfile
import functools
import io
import itertools
import json
import os
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

from celery.signals import task_failure, task_postrun, task_prerun, worker_process_init, worker_process_shutdown
from common import RecordedAnswer

from fulfillment.celery import app

__all__ = ["app"]

RECORDED = Path(__file__).resolve().parent / "recorded"
STATS_KEY = os.environ.get("BENCH_LABELS_STATS", "bench:labels:stats")
READY_KEY = f"{STATS_KEY}:ready"

_stats: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])  # step -> [calls, seconds]
_task_start: dict[str, tuple[float, float]] = {}
_profile: cProfile.Profile | None = None
_redis = None


def _add(step: str, seconds: float, calls: int = 1) -> None:
    entry = _stats[step]
    entry[0] += calls
    entry[1] += seconds


def _timed(step, function):
    """``function`` with its wall time added to ``step`` (a name, or a callable of the arguments)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            _add(step(*args, **kwargs) if callable(step) else step, time.perf_counter() - started)

    return wrapper


# -- the recorded-response carrier --------------------------------------------------------------


_numbers = itertools.count(1)


def _recorded_answers():
    rates = (RECORDED / "fedex_rate_response.json").read_bytes()
    ship = (RECORDED / "fedex_ship_response.json").read_text()
    prefix = f"79{os.getpid() % 10_000:04d}"  # unique per pool process

    def urlopen(request, timeout=None):
        url = request.full_url
        if url.endswith("/rate/v1/rates/quotes"):
            _add("fedex_http_rate", 0.0)
            return RecordedAnswer(rates)
        if url.endswith("/ship/v1/shipments"):
            _add("fedex_http_ship", 0.0)
            number = f"{prefix}{next(_numbers):06d}"
            return RecordedAnswer(ship.replace("794699001234", number).encode())
        _add(f"refused_http {request.get_method()} {url.split('/', 3)[-1]}", 0.0)
        raise ConnectionRefusedError(f"the label benchmark answers no {url}")

    return urlopen


def _seed_token() -> None:
    from shipping.carriers import gateway

    key, cache_key = os.environ.get("BENCH_FEDEX_KEY"), os.environ.get("BENCH_FEDEX_CACHE_KEY")
    if not key or not cache_key:
        return
    token = json.loads((RECORDED / "fedex_oauth_token.json").read_text())
    expiry = datetime.now() + timedelta(seconds=token["expires_in"])
    conn = gateway.Connection(key=key, carrier_name="fedex", carrier_id="", display_name="")
    gateway.token_cache(conn).set(cache_key, {**token, "expiry": expiry.strftime("%Y-%m-%d %H:%M:%S")})


# -- timers ---------------------------------------------------------------------------------------


def _install_timers() -> None:
    import karrio.core.utils.helpers as karrio_helpers
    from django.db import connections

    import orders.services as orders_services
    import packing.services as packing_services
    from shipping import selectors
    from shipping.carriers import gateway
    from shipping.services import labels, rating

    karrio_helpers._urlopen_with_span = _recorded_answers()

    def by_carrier(name):
        return lambda conn, *a, **k: f"{name} {conn.carrier_name}"

    gateway.rates = _timed(by_carrier("karrio rates"), gateway.rates)
    gateway.buy = _timed(by_carrier("karrio buy"), gateway.buy)
    gateway._gateway = _timed("  gateway lookup (in karrio calls)", gateway._gateway)
    selectors.connection = _timed("connection (decrypt credentials)", selectors.connection)
    rating.shop = _timed("1 rate shop", rating.shop)
    rating.rate_shop_record = _timed("2 rate shop record", rating.rate_shop_record)
    labels._claim = _timed("3 claim", labels._claim)
    labels._call_carrier = _timed("4 carrier call", labels._call_carrier)
    labels._store_answer = _timed("5 store answer", labels._store_answer)
    labels._record = _timed("6 record", labels._record)
    packing_services.shipment_record_label = _timed(
        "  6a shipment_record_label", packing_services.shipment_record_label
    )
    orders_services.order_mark_shipped = _timed("  6b order_mark_shipped", orders_services.order_mark_shipped)
    labels.event_publish = _timed("  6c webhooks (event_publish)", labels.event_publish)

    def count_sql(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            _add("sql statements", time.perf_counter() - started)

    connections["default"].execute_wrappers.append(count_sql)


def _warm_up() -> None:
    """What a long-running worker has done long before: karrio's connectors imported, a rate-sheet
    quote and label drawn once (imports of the label renderer), with a throwaway connection that
    no task uses (the accounts' own gateways are still made by the first task that needs them)."""
    from decimal import Decimal

    import karrio.sdk

    from shipping.carriers import gateway

    karrio.sdk.gateway["fedex"]  # noqa: B018 -- loads the connector
    zone = gateway.Zone(rate=Decimal("9.50"), country_codes=("CA",))
    conn = gateway.Connection(
        key="warm-up:0", carrier_name="generic", carrier_id="warm-up", display_name="Warm-up",
        services=(gateway.Service("standard", "Standard", "CAD", 5, (zone,)),),
    )  # fmt: skip
    party = gateway.Party(name="Warm-up", line1="100 Logistics Dr", city="Mississauga", region="ON",
                          postal_code="L5T 2Z5", country="CA", phone="+19055550100")  # fmt: skip
    parcels = [gateway.Parcel(weight_g=500, length_mm=200, width_mm=150, height_mm=100)]
    gateway.rates(conn, shipper=party, recipient=party, parcels=parcels)
    gateway.buy(conn, shipper=party, recipient=party, parcels=parcels, service_code="standard",
                purchase_key="warm-up", label_type="ZPL")  # fmt: skip
    gateway.forget(conn.key)


@worker_process_init.connect
def _process_init(**_):
    global _profile, _redis
    import redis
    from django.conf import settings

    _warm_up()
    _install_timers()
    _seed_token()
    if os.environ.get("BENCH_LABELS_PROFILE"):
        _profile = cProfile.Profile()
    _redis = redis.Redis.from_url(settings.REDIS_URL)
    _redis.sadd(READY_KEY, os.getpid())


@task_prerun.connect
def _task_started(task_id=None, **_):
    _task_start[task_id] = (time.perf_counter(), time.process_time())
    if _profile is not None:
        _profile.enable()


@task_failure.connect
def _task_failed(exception=None, **_):
    _add(f"task failed: {type(exception).__name__}", 0.0)


@task_postrun.connect
def _task_finished(task_id=None, **_):
    if _profile is not None:
        _profile.disable()
    started = _task_start.pop(task_id, None)
    if started is not None:
        _add("task wall", time.perf_counter() - started[0])
        _add("task cpu", time.process_time() - started[1])
    if _redis is None:
        return
    with _redis.pipeline(transaction=False) as pipe:
        for step, (calls, seconds) in _stats.items():
            pipe.hincrby(STATS_KEY, f"{step}|n", int(calls))
            pipe.hincrbyfloat(STATS_KEY, f"{step}|s", seconds)
        pipe.execute()
    _stats.clear()


@worker_process_shutdown.connect
def _process_shutdown(**_):
    if _profile is None:
        return
    directory = Path(os.environ["BENCH_LABELS_PROFILE"])
    with contextlib.suppress(OSError):
        _profile.dump_stats(directory / f"labels-worker-{os.getpid()}.prof")
        text = io.StringIO()
        import pstats

        pstats.Stats(_profile, stream=text).sort_stats("cumulative").print_stats(60)
        (directory / f"labels-worker-{os.getpid()}.txt").write_text(text.getvalue())
