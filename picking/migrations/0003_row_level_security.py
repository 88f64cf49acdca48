"""Row-level security on every picking table with a tenant (fulfillment.tenancy.rls)."""

from django.db import migrations

from fulfillment.tenancy.rls import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("picking", "0002_layout")]

    operations = [
        EnableTenantRLS("picking_picktask"),
    ]
