"""Row-level security on every shipping table with a tenant (fulfillment.tenancy.rls)."""

from django.db import migrations

from fulfillment.tenancy.rls import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("shipping", "0002_sandbox_carrier")]

    operations = [
        EnableTenantRLS("shipping_trackingevent"),
    ]
