"""The nightly storage snapshot: what each merchant holds per warehouse, and the storage fee of the day.

One statement for every tenant (set-based: no row loop in Python): the balances with units on hand
in physical locations are summed per tenant and warehouse (units, cubic volume from the products'
dimensions, locations used, and the units of products without dimensions, which occupy space
but have no volume to bill: the managers' billing page names them) into ``billing_storagesnapshot``, and each new snapshot row becomes a
storage fee priced at the card in effect that day (``fulfillment.fees.services.storage_fees_sql``).
A day already snapshotted is skipped by the database (unique tenant, warehouse, day), so the task
run twice, or by hand after the night's run, adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.utils import timezone

from fulfillment.fees import services as fees


@dataclass(frozen=True)
class StorageRun:
    day: date
    snapshots: int
    fees: int


_SNAPSHOT = """
WITH snap AS (
    INSERT INTO billing_storagesnapshot
        (tenant_id, warehouse_id, day, units, volume_m3, locations, unsized_units, taken_at)
    SELECT b.tenant_id, l.warehouse_id, %(day)s, sum(b.on_hand),
           round(sum(b.on_hand::numeric * p.length_mm * p.width_mm * p.height_mm) / 1000000000, 6),
           count(DISTINCT b.location_id),
           coalesce(sum(b.on_hand) FILTER (WHERE p.length_mm * p.width_mm * p.height_mm = 0), 0), %(now)s
    FROM inventory_stockbalance b
    JOIN inventory_location l ON l.id = b.location_id AND NOT l.is_virtual
    JOIN inventory_product p ON p.id = b.product_id
    WHERE b.on_hand > 0
    GROUP BY b.tenant_id, l.warehouse_id
    ON CONFLICT DO NOTHING
    RETURNING id, tenant_id, warehouse_id, day, volume_m3
), counted AS (SELECT count(*) AS n FROM snap)
"""

_SOURCE = (
    "(SELECT snap.tenant_id, w.code AS warehouse_code, snap.day, snap.volume_m3, snap.id::text AS source_id "
    "FROM snap JOIN inventory_warehouse w ON w.id = snap.warehouse_id)"
)


def _statement() -> str:
    insert = fees.storage_fees_sql(snapshot=_SOURCE)
    # The fee INSERT is the statement's body; its row count and the snapshots' come back together.
    return (
        f"{_SNAPSHOT}, billed AS ({insert} RETURNING 1) SELECT (SELECT n FROM counted), (SELECT count(*) FROM billed)"  # noqa: S608
    )


@transaction.atomic
def storage_snapshot_take(*, day: date | None = None, now: datetime | None = None) -> StorageRun:
    """Snapshot the stock held now as ``day``'s storage (default: yesterday, operator time), and bill it.

    Runs in the operator scope (every tenant): the caller (the nightly task, a command) enters it.
    """
    now = now or timezone.now()
    day = day or (timezone.localdate(now) - timedelta(days=1))
    occurred_at = timezone.make_aware(datetime.combine(day, time.min))
    with connection.cursor() as cursor:
        cursor.execute(_statement(), {"day": day, "now": now, "occurred_at": occurred_at})
        snapshots, billed = cursor.fetchone()
    return StorageRun(day=day, snapshots=snapshots, fees=billed)
