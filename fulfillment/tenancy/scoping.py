"""The one place where tenant scoping is defined: TenantScoped models and their QuerySets."""

from __future__ import annotations

from django.db import models

from fulfillment.tenancy.actor import Actor


class TenantQuerySet(models.QuerySet):
    #: Path from this model to its warehouse, for staff scoping; None = operator-wide rows.
    warehouse_path: str | None = None

    def visible_to(self, actor: Actor | None):
        if actor is None:
            return self.none()
        if actor.is_merchant:
            return self.filter(tenant_id=actor.tenant_id)
        if actor.is_staff:
            if self.warehouse_path is None or actor.sees_all_warehouses:
                return self.all()
            # One user is assigned to a warehouse at most once, so this join never repeats a row.
            return self.filter(**{f"{self.warehouse_path}__staff__id": actor.user_id})
        return self.none()


def scoped_queryset(warehouse_path: str | None):
    """A QuerySet class scoped to tenants and, for staff, to their warehouses via ``warehouse_path``."""
    return type("ScopedQuerySet", (TenantQuerySet,), {"warehouse_path": warehouse_path})


class TenantScoped(models.Model):
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.PROTECT, related_name="+")

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True
