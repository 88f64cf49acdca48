"""Row locks of the picking app (the lock order: order > pick list > task > allocation > balances
by location, see ARCHITECTURE.md)."""

from __future__ import annotations

from django.db.models import QuerySet


def unclaimed_orders(queryset: QuerySet) -> QuerySet:
    """Orders for a wave, skipping those another release holds right now (it takes them), locked
    FOR NO KEY UPDATE of the order rows only: tasks inserted that reference them are not blocked."""
    return queryset.select_for_update(skip_locked=True, of=("self",), no_key=True)
