"""Row-level security on every tenancy table with a tenant (fulfillment.tenancy.rls)."""

from django.db import migrations

from fulfillment.tenancy.rls import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0003_idempotency_created_at")]

    operations = [
        EnableTenantRLS("tenancy_apikey"),
        EnableTenantRLS("tenancy_merchantmembership"),
    ]
