"""Row-level security on every packing table with a tenant (fulfillment.tenancy.rls)."""

from django.db import migrations

from fulfillment.tenancy.rls import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("packing", "0002_default_boxes")]

    operations = [
        EnableTenantRLS("packing_package"),
        EnableTenantRLS("packing_shipment"),
    ]
