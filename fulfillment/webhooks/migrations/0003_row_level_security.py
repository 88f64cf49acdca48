"""Row-level security on every webhooks table with a tenant (fulfillment.tenancy.rls)."""

from django.db import migrations

from fulfillment.tenancy.rls import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0002_endpoint_failing_since")]

    operations = [
        EnableTenantRLS("webhooks_outboxevent"),
        EnableTenantRLS("webhooks_webhookdelivery"),
        EnableTenantRLS("webhooks_webhookendpoint"),
    ]
