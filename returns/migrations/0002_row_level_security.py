"""Row-level security on every returns table with a tenant (fulfillment.tenancy.rls)."""

from django.db import migrations

from fulfillment.tenancy.rls import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("returns", "0001_initial")]

    operations = [
        EnableTenantRLS("returns_return"),
        EnableTenantRLS("returns_returnline"),
    ]
