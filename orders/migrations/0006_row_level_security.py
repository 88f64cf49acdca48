"""Row-level security on every orders table with a tenant (fulfillment.tenancy.rls)."""

from django.db import migrations

from fulfillment.tenancy.rls import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("orders", "0005_backorder_queue")]

    operations = [
        EnableTenantRLS("orders_order"),
        EnableTenantRLS("orders_orderallocation"),
        EnableTenantRLS("orders_orderevent"),
        EnableTenantRLS("orders_orderimport"),
        EnableTenantRLS("orders_orderline"),
    ]
