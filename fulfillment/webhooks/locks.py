"""Row locks of the webhooks app."""

from __future__ import annotations

from django.db.models import QuerySet


def deliveries_to_attempt(queryset: QuerySet) -> QuerySet:
    """Deliveries to claim for an attempt: one another worker is claiming is skipped, not waited for,
    and only the delivery rows are locked (FOR NO KEY UPDATE), never their event or endpoint."""
    return queryset.select_for_update(skip_locked=True, no_key=True, of=("self",))
