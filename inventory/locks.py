"""Row locks of the inventory app, one idiom each (the lock order: ARCHITECTURE.md; the services
lock balances in primary-key order).

Locks take only the queried table's rows (``OF self``): FOR UPDATE on a joined product, lot or
warehouse would block every concurrent movement insert (their foreign keys take KEY SHARE locks)
and invite deadlocks, and PostgreSQL refuses FOR UPDATE on the nullable side of an outer join.
"""

from __future__ import annotations

from django.db.models import QuerySet


def own_rows(queryset: QuerySet) -> QuerySet:
    """SELECT ... FOR UPDATE OF the queried table only."""
    return queryset.select_for_update(of=("self",))


def balances(queryset: QuerySet) -> QuerySet:
    """Stock balances FOR NO KEY UPDATE, in primary-key order: it serialises changes of the rows
    but does not block an allocation row being inserted that merely references one."""
    return queryset.select_for_update(of=("self",), no_key=True).order_by("pk")
