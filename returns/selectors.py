"""Reads of returns that are more than a one-line queryset."""

from __future__ import annotations

from returns.models import DEFAULT_REASONS, Resolution, ReturnPolicy


def return_policy(*, tenant_id) -> ReturnPolicy:
    """The tenant's return policy; the defaults (30 days, no fees, free exchanges, every resolution,
    the usual reasons), not saved, for a merchant who has not set one."""
    found = ReturnPolicy.objects.filter(tenant_id=tenant_id).first()
    if found is not None:
        return found
    return ReturnPolicy(tenant_id=tenant_id, resolutions=list(Resolution.values), reasons=list(DEFAULT_REASONS))
