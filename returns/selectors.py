"""Reads of returns that are more than a one-line queryset."""

from __future__ import annotations

from django.db.models import Sum

from returns.models import DEFAULT_REASONS, Resolution, ReturnLine, ReturnPolicy


def return_policy(*, tenant_id) -> ReturnPolicy:
    """The tenant's return policy; the defaults (30 days, no fees, free exchanges, every resolution,
    the usual reasons), not saved, for a merchant who has not set one."""
    found = ReturnPolicy.objects.filter(tenant_id=tenant_id).first()
    if found is not None:
        return found
    return ReturnPolicy(tenant_id=tenant_id, resolutions=list(Resolution.values), reasons=list(DEFAULT_REASONS))


def buys_labels(policy: ReturnPolicy) -> bool:
    """Whether the policy buys prepaid return labels: it names an account that is active."""
    return policy.label_account_id is not None and policy.label_account.active


def requested_by_line(*, order_id) -> dict:
    """{order line id: units its returns already ask back}, every return of the order counted (one
    query): what may still be returned is a line's shipped units less this."""
    return dict(
        ReturnLine.objects.filter(order_line__order_id=order_id)
        .values("order_line_id")
        .annotate(total=Sum("quantity"))
        .values_list("order_line_id", "total")
    )
